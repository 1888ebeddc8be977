"""The music stream: on every fine hop, the music features, the beat tracker's state and which
one-shot events started in that hop. This is what `/latentvj/features`, `/latentvj/beat` and
`/latentvj/onset/*` publish and what a show's conditioning can read.

Row layout (STREAM_NAMES): the MUSIC_FEATURE_NAMES, then tempo (bpm, 0 until locked),
beat_phase and bar_phase (0..1, 0 on the beat), beat_confidence (0..1). In the row the four onset
values are peak-held with a fast decay (ONSET_DECAY_S): an onset is one fine hop (under 6 ms)
tall, and a frame reads one row in every five or more, so a raw value would be missed by most
frames; held, it rises in the hop of the hit and every frame after it sees it fade.

Events are band onsets with a rule each, as audio-reactive tools define kick / snare / hat. A band
fires when its onset strength crosses its adaptive threshold (onset_events.py) and the hop's
band strengths K (kick), S (snare), H (hat) have that drum's shape:
- kick: low without highs, H < K / 4;
- snare: broadband, S >= K / 5, S >= H / 4 and H >= max(K, S) / 4;
- hat: highs alone, max(K, S) < H / 2.
(The kick band's few FFT bins make its values the largest, hence the unequal ratios.) They are
heuristics measured on synthetic kits, not a drum classifier: a hit that lands with another may
be reported as one of the two.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .beat_tracker import BeatTracker
from .music_features import MUSIC_FEATURE_NAMES, MusicFeatures
from .onset_events import OnsetEvents

STREAM_NAMES = (*MUSIC_FEATURE_NAMES, "tempo", "beat_phase", "bar_phase", "beat_confidence")
EVENTS = ("beat", "kick", "snare", "hat")  # bit k of `events` is EVENTS[k]
_ONSET = MUSIC_FEATURE_NAMES.index("onset")
_BANDS = [MUSIC_FEATURE_NAMES.index(f"onset_{b}") for b in EVENTS[1:]]
ONSETS = slice(_ONSET, _BANDS[-1] + 1)  # the onset columns, peak-held in the row
ONSET_DECAY_S = 0.05  # time constant of the held onsets' fade: about one and a half frames at 30 fps


def beat_strength(features: np.ndarray) -> float:
    """What the beat tracker hears in one hop: kicks carry the beat in most music a VJ plays to;
    the overall onset keeps clicks and kick-less sections in. features: (..., MUSIC_FEATURE_NAMES)."""
    return 0.5 * (float(features[_ONSET]) + float(features[_BANDS[0]]))


def _shapes(k: float, s: float, h: float) -> tuple[bool, bool, bool]:
    """Whether the hop's band strengths look like a kick, a snare, a hat (module docstring)."""
    return h < 0.25 * k, s >= 0.2 * k and s >= 0.25 * h and h >= 0.25 * max(k, s), max(k, s) < 0.5 * h


class MusicAnalysis:
    def __init__(self, sample_rate: int, hop: int | None = None) -> None:
        self.features = MusicFeatures(sample_rate, hop)
        self.sample_rate = sample_rate
        self.hop = self.features.hop
        self.frame_rate = sample_rate / self.hop
        self.dim = len(STREAM_NAMES)
        self._beats = BeatTracker(self.frame_rate)
        self._onsets = [OnsetEvents(self.frame_rate) for _ in _BANDS]
        self.row = np.zeros(self.dim, dtype=np.float32)  # the newest hop's row
        self._held = np.zeros(ONSETS.stop - ONSETS.start, dtype=np.float32)  # peak-held onsets
        self._decay = np.float32(np.exp(-self.hop / sample_rate / ONSET_DECAY_S))
        self.events = 0  # bits of EVENTS that started in the newest hop

    def encode_hop(self, mono: np.ndarray) -> np.ndarray:
        """mono: (hop,) float32 -> the stream's row (dim,), a buffer reused every hop."""
        return self._row_of(self.features.encode_hop(mono))

    def encode_hops(self, mono: np.ndarray) -> Iterator[np.ndarray]:
        """mono: (k * hop,) float32 -> the k rows in turn, as k calls of encode_hop give them (the
        same buffer: read each row and `events` before taking the next); the features of the k
        hops in one call (render)."""
        for f in self.features.encode_hops(mono):
            yield self._row_of(f)

    def _row_of(self, f: np.ndarray) -> np.ndarray:
        """f: (MUSIC_FEATURE_NAMES,) the hop's features -> its row: the trackers take the hop."""
        bt = self._beats
        events = int(bt.push(beat_strength(f)))
        strengths = [float(f[i]) for i in _BANDS]
        for k, (detector, strength, shaped) in enumerate(zip(self._onsets, strengths, _shapes(*strengths))):
            if detector.push(strength, shaped):
                events |= 2 << k
        row = self.row
        row[: len(f)] = f
        self._held *= self._decay
        np.maximum(self._held, f[ONSETS], out=self._held)
        row[ONSETS] = self._held
        row[len(f) :] = (bt.tempo, bt.phase(), bt.bar_phase(), bt.confidence)
        self.events = events
        return row

    def reset(self) -> None:
        self.features.reset()
        self._beats = BeatTracker(self.frame_rate)
        for d in self._onsets:
            d.reset()
        self.row[:] = 0.0
        self._held[:] = 0.0
        self.events = 0
