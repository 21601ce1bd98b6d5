"""Concrete adapters for `recovery.protocols`: Stripe billing, LLM providers, mail delivery.

Each SDK is imported only by the module that uses it, and factories import a provider's module
only when that provider is configured.
"""
