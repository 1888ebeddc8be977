"""What one click does to the picture, measured where the picture moves by itself.

An image show's frames change on their own (its footage moves, its shots cut), so "the first frame
that changed after the click" counts changes that were coming anyway. Render's simulated clock
gives the honest pair instead: the same audio and seed with and without the click. Both runs are
bit for bit equal until the click reaches the picture, so the first frame where they differ is
the click's own, and how far they differ, against how much the picture moves from one frame to
the next by itself, says whether anyone would see it.

Click k is compared between the audio with clicks 0..k and with clicks 0..k-1 (the earlier clicks
leave state behind: the encoder's caches, the music stream's running statistics, the shot
drawn), each run stopped at the end of the click's window.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..control.state import Control
from ..engine.engine_options import EngineOptions
from ..engine.offline import render
from ..show.runtime import ShowRuntime
from ..sinks import Sink

LEAD_IN_S = 2.0
CLICK_EVERY_S = 1.37  # not a multiple of the hop or the frame, so clicks land at all phases
CLICK_S = 0.005
WINDOW_S = 0.5  # a click's effect is looked for this long after it (a full-size RAVE answers ~250 ms late)
CHANGE_LEVEL = 0.5  # mean absolute RGB difference (0..255) that counts as "the frame differs"
VISIBLE_LEVEL = 2.0  # the least peak difference counted as seen, whatever the picture does


def click_times(seconds: float) -> list[float]:
    return [float(t) for t in np.arange(LEAD_IN_S, seconds - 0.5, CLICK_EVERY_S)]


def click_audio(sample_rate: int, seconds: float, times: list[float]) -> np.ndarray:
    """Silence with a 5 ms noise burst at each time: (n, 1) float32."""
    audio = np.zeros((int(seconds * sample_rate), 1), dtype=np.float32)
    burst = (np.random.default_rng(1).standard_normal(int(CLICK_S * sample_rate)) * 0.8).astype(np.float32)
    for t in times:
        i = int(t * sample_rate)
        audio[i : i + len(burst), 0] = burst
    return audio


@dataclass(frozen=True)
class ClickEffect:
    due: float  # media time of the click, s
    frame: int | None  # first frame that differs from the run without the click; None: none in the window
    delay_ms: float  # that frame's grid time after the click (live adds the frame's own making)
    peak: float  # the largest mean |RGB| difference (0..255) from the run without the click, in the window
    own: float  # the run without the click: median mean |RGB| change from one frame to the next
    picture: np.ndarray | None = field(default=None, compare=False, repr=False)  # (H, W, 3) int16 at `frame`, with the click

    @property
    def visible(self) -> bool:
        return self.frame is not None and self.peak >= max(VISIBLE_LEVEL, self.own)


class FrameGrab(Sink):
    """Keeps the RGB of the frames from `first` on (a render reuses its frame buffers)."""

    announce = False

    def __init__(self, first: int) -> None:
        super().__init__("grab")
        self.first = first
        self.frames: dict[int, np.ndarray] = {}

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        if index >= self.first:
            self.frames[index] = frame[..., :3].astype(np.int16)


def rendered(audio: np.ndarray, rt: ShowRuntime, opts: EngineOptions, first: int, last: int) -> np.ndarray:
    """Frames first..last-1 of `render` with a fresh Control: (n, H, W, 3) int16."""
    grab = FrameGrab(first)
    render(audio, rt, Control(rt.latent_dim), [grab], opts, frames=last, batch=1)  # the live path exactly
    return np.stack([grab.frames[j] for j in range(first, last)])


def click_effect(with_click: np.ndarray, without: np.ndarray, first: int, due: float, fps: float) -> ClickEffect:
    """with_click, without: (n, H, W, 3) frames first..first+n-1 of the two runs."""
    diff = np.abs(with_click - without).mean(axis=(1, 2, 3))  # (n,)
    own = float(np.median(np.abs(np.diff(without, axis=0)).mean(axis=(1, 2, 3))))
    hit = np.flatnonzero(diff > CHANGE_LEVEL)
    if len(hit) == 0:
        return ClickEffect(due, None, math.nan, float(diff.max()), own)
    j = first + int(hit[0])
    return ClickEffect(due, j, (j / fps - due) * 1e3, float(diff.max()), own, with_click[hit[0]])


def click_effects(rt: ShowRuntime, opts: EngineOptions, seconds: float,
                  times: list[float] | None = None) -> list[ClickEffect]:
    """Each click of the bench's click track against the same run without it."""
    times = click_times(seconds) if times is None else times
    fps = opts.fps
    effects = []
    for k, due in enumerate(times):
        first = max(int(math.floor(due * fps)) - 1, 0)
        last = int(math.ceil((due + WINDOW_S) * fps)) + 1
        pair = [rendered(click_audio(rt.sample_rate, seconds, times[: k + n]), rt, opts, first, last) for n in (1, 0)]
        effects.append(click_effect(pair[0], pair[1], first, due, fps))
    return effects


def summary(effects: list[ClickEffect]) -> str:
    seen = [e for e in effects if e.visible]
    if not seen:
        return f"0/{len(effects)} clicks visible"
    delays = [e.delay_ms for e in seen]
    return (f"{len(seen)}/{len(effects)} clicks visible: first differing frame median {np.median(delays):.1f} ms "
            f"after the click on the grid (max {np.max(delays):.1f}); peak difference median "
            f"{np.median([e.peak for e in effects]):.1f}/255 where the picture moves by itself "
            f"{np.median([e.own for e in effects]):.2f}/255 a frame")
