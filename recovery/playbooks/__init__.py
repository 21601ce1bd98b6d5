"""Playbooks: rules over Stripe events and dunbot's own case events.

A rules file (TOML) is loaded into `Rule`s (`loader`), each a trigger, AND-ed conditions
(`conditions`) and ordered actions (`actions`). `evaluate` says which rules match an event's
facts and, for the others, the first condition that failed. Pure: no SDK, no database.
"""
