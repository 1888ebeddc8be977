"""The older path: latent -> image regression decoders (`train decoder`), kept for comparison."""
