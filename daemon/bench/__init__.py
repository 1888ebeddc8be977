"""Benchmarks of the live engine: `latentvj bench` (live_bench.py) and what a click does to the
picture on the simulated clock (click_effect.py)."""
