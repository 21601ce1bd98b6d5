"""Estimated USD cost of a call from a small per-model price table."""

from __future__ import annotations

# USD per million tokens (input, output); public list prices, matched by longest prefix.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4": (15.00, 75.00),
}


def estimate_cost(model: str | None, *, input_tokens: int, output_tokens: int) -> float | None:
    """Cost in USD, or None when the model is not in the table."""
    if not model:
        return None
    matches = [prefix for prefix in PRICES_PER_MTOK if model.startswith(prefix)]
    if not matches:
        return None
    input_price, output_price = PRICES_PER_MTOK[max(matches, key=len)]
    return round((input_tokens * input_price + output_tokens * output_price) / 1_000_000, 6)
