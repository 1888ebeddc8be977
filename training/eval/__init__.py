"""Scores: held-out picture metrics, video scores (cuts, motion, flashes), colour and shots checks."""
