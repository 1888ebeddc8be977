"""Frame sinks. `make_sink` turns a --sink spec into a Sink (catalog.py lists them all)."""
from __future__ import annotations

from .base import Sink, SinkError, SinkRunner, StreamInfo
from .catalog import (
           KINDS,
           SINK_HELP,
           default_sinks,
           make_sink,
           parse_spec,
           report,
           unusable_reason,
)
from .null import NullSink
from .sink_set import FramePool, SinkSet

__all__ = ["Sink", "SinkError", "SinkRunner", "StreamInfo", "NullSink", "FramePool", "SinkSet", "KINDS", "SINK_HELP", "default_sinks",
           "make_sink", "parse_spec", "report", "unusable_reason"]
