"""Audio in: sources (sound card, file, generated) into a ring buffer, hops at a show's rate,
and the music features computed from them."""
