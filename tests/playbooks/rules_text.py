"""Small rules files for the playbook tests."""

from __future__ import annotations

LARGE_PAYMENT = """
[[rule]]
name = "Large payment"
trigger = "payment_intent.succeeded"
conditions = [
  'amount > "1000.00 USD"',
]

[[rule.action]]
type = "slack"
channel = "alerts"
text = "Payment of {amount} from {customer.name} ({customer})"
"""
