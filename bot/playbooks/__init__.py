"""Playbooks at the edge: loading the configured rules file, the `dunbot rules` commands,
the executors that act in Stripe, Slack and email, and the Slack approval cards."""
