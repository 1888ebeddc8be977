"""Benchmarks of the live engine: `latentvj bench` (live_bench.py) and what a click does to the
picture on the simulated clock (click_effect.py); what a show fade and a recording cost the
frames (fade_bench.py, record_bench.py, on demo_engine.py's engine)."""
