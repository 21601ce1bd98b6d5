"""LLM providers (OpenAI, Anthropic) for the guarded drafter, and the factory picking one.

Import the provider modules directly; `factory.build_drafter` imports only the SDK it needs.
"""
