"""Benchmarks that print figures: ``manne bench train`` and ``manne bench synth``."""
