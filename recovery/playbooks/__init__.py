"""Playbooks: rules over Stripe events and dunbot's own case events.

Pure core (no SDK, no database): `loader` reads a TOML rules file into `rules.Rule`s (every
problem with its line, via `sourcemap`); `fields` knows the event types and the field paths of
their objects (generated from stripe-mock's fixtures into `stripe_fields`); `conditions` parses
and checks `field operator value` (money via `money`, never across currencies); `actions` is
the registry of action types; `evaluate` says which rules match an event's `facts` and, for
the others, the first failed condition; `templates` fills `{field}` texts; `replay` counts
what rules would have done over stored events.

Running (database, jobs, adapters through `ports`): `runner.PlaybookRunner` evaluates an
event in a job, inserts one firing per (rule, event) with its action rows and queues the first
action in the same transaction; `executors` holds one function per action type; `store` the
queries; `case_events` queues dunbot.case.* events.

Extension points for later capabilities (dunning plans, customer rules):
- a trigger: an entry in `fields.EVENT_OBJECT_KINDS` (event type → object kind) and, for a new
  kind of object, its fields in `fields.OBJECT_FIELDS` and references in `fields.REFERENCES`;
- a customer fact: `fields.CUSTOMER_FACTS` and `PlaybookRunner._customer_facts`;
- an action: an `actions.ActionSpec` in `ACTION_SPECS` (parameters, Stripe permission,
  approvable, amount for `approval_above`), its parameters in `PlaybookRunner._materialise`
  and its executor in `executors.EXECUTORS`.
"""
