"""Slack adapter: ids, typed metadata, mrkdwn escaping, views, Block Kit builders, /dunning.

Everything in this package except the handlers is pure: no database, no network.
"""
