"""A show: the bundle on disk (bundle.py, pack.py) and what plays it (runtime.py: the encoder,
the frame decoder and the latent clock, loaded, checked and warmed up as one piece)."""
