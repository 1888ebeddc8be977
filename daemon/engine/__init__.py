"""The live engine and what it shares with offline render: threads, clocks, the frame pipeline."""
