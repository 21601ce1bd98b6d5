"""Pure Block Kit builders, one module per card family: view dataclasses in, messages out.

Nothing here talks to Slack or the database. `kit` holds the Block Kit primitives and
Slack's limits, `wording` the labels every family shares; each other module builds one
family (approval card, its modals, VIP task card, escalation, digest, App Home).
Customer-provided strings pass through `bot.slack.mrkdwn` escaping and are cut to fit.
"""
