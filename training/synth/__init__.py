"""Synthetic music videos our tests and the demo's builder draw (procedural, chords, shots)."""
