"""Benchmarks that print figures, and their material: real-footage music videos (footage_video, footage,
beat_song), `show make` judged on them (footage_bench), which part of a show moves its picture
(parts_bench), shows on drawn shapes (show_bench), speed (speed)."""
