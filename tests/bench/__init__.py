"""Benchmarks in bench/: their smoke tests and helpers."""
