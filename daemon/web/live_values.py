"""Everything the page shows, read from the running daemon as OSC arguments per address.

The web server's thread calls `collect` a few tens of times a second; each WebSocket client
sends the addresses it LISTENs to whose arguments changed since it last sent them. Reads are of
values the render and encoder threads replace whole (or small arrays they overwrite in place):
a value may be a frame old, never torn in a way that matters for a display.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from ..audio.music_analysis import EVENTS, STREAM_NAMES
from ..audio.music_features import MUSIC_FEATURE_NAMES
from ..control.oscquery import control_values
from ..control.state import Control
from ..show.bundle import BUILTIN_DIR, MANIFEST
from .preview import PreviewSink
from .recent_errors import RecentErrors

LIST_EVERY_S = 2.0  # how often the preset and show folders are listed again
N_FEATURES = len(MUSIC_FEATURE_NAMES)
_BEAT = [STREAM_NAMES.index(n) for n in ("beat_phase", "tempo", "bar_phase")]  # as /latentvj/beat orders them
LOUDNESS = MUSIC_FEATURE_NAMES.index("loudness")
METER_DB = 60.0  # the level meter spans -60..0 dB RMS
PREVIEW = "/latentvj/preview"
ONSET = "/latentvj/onset/"


def page_nodes(dim: int) -> list[tuple[str, list | None, str]]:
    """The read-only values only the WebSocket sends (OSCQuery lists them beside the outputs)."""
    return [
        ("/latentvj/info/show", [""], "the show playing (WebSocket LISTEN)"),
        ("/latentvj/info/shows", [""], "shows to switch to: the built-in ones, then the bundles in --show-dir "
                                      "(WebSocket LISTEN)"),
        ("/latentvj/info/presets", [""], "preset names in --preset-dir (WebSocket LISTEN)"),
        ("/latentvj/info/input", ["", 0.0], "the audio input's name and its level 0..1 (-60..0 dB RMS) "
                                             "(WebSocket LISTEN)"),
        ("/latentvj/info/errors", [""], "the last warnings and refusals the daemon logged, oldest first (WebSocket LISTEN)"),
        (PREVIEW, None, "the output as JPEG at up to 15 fps while listened to: frame index (i), wall time in s "
                        "when the frame was made (d), JPEG (b) (WebSocket LISTEN only)"),
    ]


def list_shows(show_dir: Path | None) -> list[str]:
    """Built-in show names, then bundle folders and zips in `show_dir` (as paths /latentvj/show takes)."""
    names = sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / MANIFEST).is_file())
    if show_dir is not None and show_dir.is_dir():
        names += sorted(str(p) for p in show_dir.iterdir()
                        if (p / MANIFEST).is_file() or (p.is_file() and p.suffix == ".zip"))
    return names


def list_presets(preset_dir: Path | None) -> list[str]:
    if preset_dir is None or not preset_dir.is_dir():
        return []
    return sorted(p.stem for p in preset_dir.glob("*.toml"))


class LiveValues:
    """engine: the LiveEngine (None: controls and lists only, as in the OSCQuery tests)."""

    def __init__(self, control: Control, engine=None, preview: PreviewSink | None = None,
                 errors: RecentErrors | None = None, show_dir: Path | None = None, input_name: str = "") -> None:
        self.control = control
        self.engine = engine
        self.preview = preview
        self.errors = errors
        self.show_dir = show_dir
        self.input_name = input_name
        self._lists: dict[str, tuple] = {}
        self._listed_at = -math.inf

    def collect(self) -> dict[str, tuple]:
        """address -> arguments; onsets as (count,), which clients turn into argument-less events."""
        out = control_values(self.control.snapshot())
        now = time.monotonic()
        if now - self._listed_at >= LIST_EVERY_S:
            self._listed_at = now
            self._lists = {"/latentvj/info/shows": tuple(list_shows(self.show_dir)),
                           "/latentvj/info/presets": tuple(list_presets(self.control.preset_dir))}
        out.update(self._lists)
        if self.errors is not None:
            out["/latentvj/info/errors"] = (self.errors.count, *self.errors.lines())
        e = self.engine
        if e is not None:
            st = e.status()  # one frame's: latent, music, show and counts agree
            music = st.music
            out["/latentvj/latent"] = tuple(round(float(x), 4) for x in st.latent)
            out["/latentvj/features"] = tuple(round(float(x), 4) for x in music[:N_FEATURES])
            out["/latentvj/beat"] = tuple(round(float(music[k]), 3) for k in _BEAT)
            out["/latentvj/status"] = (round(float(st.fps), 2), round(float(st.latency_ms), 1)
                                       if math.isfinite(st.latency_ms) else -1.0, int(st.dropped))
            out["/latentvj/info/show"] = (st.show,)
            out["/latentvj/record"] = (int(e.recording is not None),)  # the page's record toggle follows takes
            db = float(music[LOUDNESS]) if len(music) else -math.inf  # dB RMS
            out["/latentvj/info/input"] = (self.input_name, round(min(max((db + METER_DB) / METER_DB, 0.0), 1.0), 3))
            for name, count in zip(EVENTS, st.encoder.onsets):
                out[ONSET + name] = (count,)
        if self.preview is not None and self.preview.latest is not None:
            f = self.preview.latest
            out[PREVIEW] = (f.index, f.wall, f.jpeg)
        return out
