"""The embedded demo: a sandbox Slack (Web API + page) and Stripe controls, all in-process."""
