"""Offline tools: datasets from videos, decoder and VAE training, RAVE wrapper, export."""
