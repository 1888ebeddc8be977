"""Frame sinks. `make_sink` turns a --sink spec into a Sink; texture sharing plugs in here."""
from __future__ import annotations

from .base import Sink, SinkError, SinkRunner, StreamInfo
from .mp4 import Mp4Sink
from .null import NullSink
from .png import PngSink

__all__ = ["Sink", "SinkError", "SinkRunner", "StreamInfo", "make_sink", "SINK_HELP"]

SINK_HELP = "null | file:PATH.mp4 | png:DIR"


def make_sink(spec: str) -> Sink:
    kind, _, arg = spec.partition(":")
    if kind == "null" and not arg:
        return NullSink(spec)
    if kind == "file" and arg:
        if not arg.lower().endswith((".mp4", ".mov", ".mkv")):
            raise SinkError(f"--sink {spec}: the file sink writes .mp4 (or .mov/.mkv), got {arg!r}")
        return Mp4Sink(spec, arg)
    if kind == "png" and arg:
        return PngSink(spec, arg)
    raise SinkError(f"--sink {spec}: unknown sink (expected {SINK_HELP})")
