"""Dunning plans: named retry policies per segment, written as `[[plan]]` in the rules file.

`model` is the plan (retry schedule, email cadence, grace, closing actions); `loader` checks
`[[plan]]` tables; `assign` picks a case's plan (invoice rules, the customer's plan); `progress`
says where a case is in its plan; `service` runs a plan as durable jobs (retries through
`BillingWriter.pay_invoice`, the close-out approval, the closing writes).
"""
