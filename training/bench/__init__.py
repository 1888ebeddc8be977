"""Benchmark material and figures: real-footage music videos (footage_video), speed benchmarks (__main__)."""
