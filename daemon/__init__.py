"""latentvj's live runtime: audio in, encoders, latent clock, control, decoders, sinks, OSC."""

__version__ = "0.1.0"
