"""The shots video: a synthetic music video whose picture partly follows the sound and partly not.

A show is judged on what it can hear, so each visual property here is tied to exactly one thing in
the sound, or deliberately to none:
- colour <- chord: every element is drawn in the chord's `CHORD_COLOURS` entry, the chord audible
  only through harmony (the chord video's pads, every chord at one RMS, changes on bar lines);
- size <- bass level: the bass jumps between a few clearly different levels, and the shapes grow
  and shrink with its (slightly smoothed) level, not with the kick or the chord;
- brightness <- kicks: each kick lifts the whole frame with a short flash, strong enough that the
  frame's mean brightness is, in the source itself, almost a function of the kick envelope;
- composition <- nothing: the scene cuts between `N_COMPOSITIONS` layouts at random moments off the
  beat grid, so a model cannot (and should not) predict which layout it is in from the audio; it
  can only keep the sharpness and detail of whatever layout its training frames showed.
Dropped beats, random bass levels and random cuts keep rhythm from predicting everything at once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np

from latentvj.training.synth.synthetic import (
    BEAT,
    CHORD_COLOURS,
    CHORD_PITCHES,
    ChordSegment,
    chord_segments,
    kick_sound,
    pad_track,
)

N_COMPOSITIONS = 4
SHOT_SECONDS = (1.0, 4.0)  # uniform range of a shot's length: cuts land anywhere, not on beats
BASS_LEVELS = (0.2, 0.5, 1.0)  # amplitudes far enough apart to be heard (and seen) as steps
BASS_NOTE = 2 * BEAT  # seconds: one bass note per half bar
BASS_NOTES_PER_LEVEL = (1, 3)  # a level lasts 1..3 notes (about a bar on average)
BASS_AMPLITUDE = 0.1  # peak of the bass at level 1.0, before the mix is scaled to full range
BASS_SMOOTH_S = 0.06  # attack and release of the level the picture follows
CONTROL_RATE = 1000  # Hz: rate of the stored bass level envelope
KICK_DECAY_S = 0.08  # flash envelope exp(-(t - kick) / KICK_DECAY_S)
BACKGROUND = 0.15  # background = this fraction of the chord colour, before the flash
QUIET_BRIGHTNESS = 0.18  # mean brightness (0..1) the frame is pulled towards between flashes
FLASH_LIFT = 0.75  # at a full flash every pixel moves this far towards white


class ShotSegment(NamedTuple):
    start: float  # seconds
    end: float
    composition: int  # 0 .. N_COMPOSITIONS - 1


@dataclass
class ShotsTrack:
    audio: np.ndarray  # (n,) float32 in [-1, 1]
    sample_rate: int
    kicks: np.ndarray  # (k,) kick onset times in seconds
    chords: tuple[ChordSegment, ...]  # contiguous, covering the whole track
    shots: tuple[ShotSegment, ...]  # contiguous, covering the whole track
    bass: np.ndarray  # (m,) float32 smoothed bass level in [0, 1], sampled at CONTROL_RATE Hz
    _chord_starts: np.ndarray = field(init=False, repr=False)  # (c,)
    _shot_starts: np.ndarray = field(init=False, repr=False)  # (s,)

    def __post_init__(self) -> None:
        # lookups happen once per frame and per test sample: keep them to one searchsorted
        self._chord_starts = np.array([s.start for s in self.chords])
        self._shot_starts = np.array([s.start for s in self.shots])

    def chord_at(self, t: float) -> int:
        i = int(np.searchsorted(self._chord_starts, t, side="right")) - 1
        return self.chords[min(max(i, 0), len(self.chords) - 1)].chord

    def seconds_to_change(self, t: float) -> float:
        """How far t is from the nearest chord change: frames near one are ambiguous to judge."""
        changes = self._chord_starts[1:]  # (c - 1,)
        return float(np.abs(changes - t).min()) if len(changes) else math.inf

    def composition_at(self, t: float) -> int:
        i = int(np.searchsorted(self._shot_starts, t, side="right")) - 1
        return self.shots[min(max(i, 0), len(self.shots) - 1)].composition

    def kick_envelope(self, t: float) -> float:
        """The flash a kick leaves behind: 1 at its onset, decaying within ~0.2 s."""
        i = int(np.searchsorted(self.kicks, t, side="right")) - 1
        return math.exp(-(t - float(self.kicks[i])) / KICK_DECAY_S) if i >= 0 else 0.0

    def bass_level(self, t: float) -> float:
        """The bass's level as heard (the amplitude it is played at), which sets the shapes' size."""
        x = t * CONTROL_RATE
        i = int(min(max(math.floor(x), 0), len(self.bass) - 1))
        j = min(i + 1, len(self.bass) - 1)
        f = min(max(x - i, 0.0), 1.0)
        return float(self.bass[i] * (1 - f) + self.bass[j] * f)


def _shot_segments(seconds: float, rng: np.random.Generator) -> tuple[ShotSegment, ...]:
    """Lengths drawn from a continuous range, so a cut lands on the beat only by chance; the next
    composition is any other one, so every cut changes the picture."""
    segments, start, comp = [], 0.0, int(rng.integers(N_COMPOSITIONS))
    while start < seconds:
        end = min(seconds, start + float(rng.uniform(*SHOT_SECONDS)))
        segments.append(ShotSegment(start, end, comp))
        comp = (comp + int(rng.integers(1, N_COMPOSITIONS))) % N_COMPOSITIONS
        start = end
    return tuple(segments)


def _bass_steps(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """(notes,) the level of each bass note: runs of 1..3 notes, each run a different level."""
    n_notes = math.ceil(seconds / BASS_NOTE)
    steps, level = [], int(rng.integers(len(BASS_LEVELS)))
    while len(steps) < n_notes:
        steps += [BASS_LEVELS[level]] * int(rng.integers(BASS_NOTES_PER_LEVEL[0], BASS_NOTES_PER_LEVEL[1] + 1))
        level = (level + int(rng.integers(1, len(BASS_LEVELS)))) % len(BASS_LEVELS)
    return np.asarray(steps[:n_notes])


def _smoothed_level(steps: np.ndarray, seconds: float) -> np.ndarray:
    """(m,) float32 at CONTROL_RATE: the stepped level through a one-pole smoother, so the size
    glides over ~60 ms instead of jumping, the way an envelope follower on the bass would see it."""
    m = int(math.ceil(seconds * CONTROL_RATE)) + 1
    t = np.arange(m) / CONTROL_RATE  # (m,)
    note = np.minimum((t // BASS_NOTE).astype(int), len(steps) - 1)  # (m,)
    y = np.empty(m)
    prev = float(steps[0])  # the level where each note starts: the previous note's end
    for k in range(len(steps)):  # piecewise constant input: each note's response in closed form
        idx = np.flatnonzero(note == k)
        if len(idx) == 0:
            continue
        y[idx] = steps[k] + (prev - steps[k]) * np.exp(-(t[idx] - k * BASS_NOTE) / BASS_SMOOTH_S)
        prev = float(steps[k] + (prev - steps[k]) * math.exp(-BASS_NOTE / BASS_SMOOTH_S))
    return y.astype(np.float32)


def _bass_midi(pitch_class: int) -> int:
    """The MIDI note of that pitch class from A#1 to A2 (58..110 Hz; the chords' roots and fifths
    land in 65..110 Hz): above the kick's ~50 Hz tail, so the bass level is not buried under it."""
    return 36 + pitch_class if pitch_class <= 9 else 24 + pitch_class


def _bass_line(segments: tuple[ChordSegment, ...], level: np.ndarray, n: int, sr: int,
               rng: np.random.Generator) -> np.ndarray:
    """(n,) float64: the chord's root or fifth once per half bar, played at the level the picture
    shows; in key with the pads, so the chroma still names the chord."""
    starts = np.array([s.start for s in segments])  # (c,)
    y = np.zeros(n)
    for k in range(math.ceil(n / sr / BASS_NOTE)):
        t0 = k * BASS_NOTE
        chord = segments[int(np.searchsorted(starts, t0 + 1e-9, side="right")) - 1].chord
        root, fifth = CHORD_PITCHES[chord][0], (CHORD_PITCHES[chord][0] + 7) % 12
        pc = root if k % 2 == 0 or rng.random() < 0.5 else fifth
        f = 440.0 * 2 ** ((_bass_midi(pc) - 69) / 12)
        s, e = int(round(t0 * sr)), min(n, int(round((t0 + BASS_NOTE) * sr)))
        tt = np.arange(e - s) / sr  # (e - s,)
        shape = np.minimum(1.0, tt / 0.005) * np.minimum(1.0, (tt[-1] - tt) / 0.03 + 1e-9)  # no clicks
        tone = np.sin(2 * np.pi * f * tt) + 0.3 * np.sin(4 * np.pi * f * tt)  # a little saw-ish
        y[s:e] = tone * shape
    gain = np.interp(np.arange(n) / sr, np.arange(len(level)) / CONTROL_RATE, level)  # (n,)
    return BASS_AMPLITUDE * y * gain


def shots_track(sr: int = 44100, seconds: float = 60.0, seed: int = 0) -> ShotsTrack:
    """Pads (chord), bass (size), kicks (flash) and hats, mixed and normalised once so the pads
    stay at one level; shot cuts drawn from the same seed but from nothing in the sound."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    segments = chord_segments(seconds, rng)
    level = _smoothed_level(_bass_steps(seconds, rng), seconds)
    shots = _shot_segments(seconds, rng)  # drawn before the audio: the same at every sample rate
    y = pad_track(segments, n, sr, rng)
    y += _bass_line(segments, level, n, sr, rng)
    kick, kicks = kick_sound(sr), []
    n_beats = int(seconds / BEAT)
    bars = math.ceil(n_beats / 4)
    dropped = set((4 * np.arange(bars) + rng.integers(0, 4, bars)).tolist())  # a beat index per bar
    for b in range(n_beats):
        s = int(round(b * BEAT * sr))
        if b not in dropped:  # one random beat per bar has no kick (and no flash)
            y[s : s + len(kick)] += kick[: n - s]
            kicks.append(b * BEAT)
        h = int(round((b + 0.5) * BEAT * sr))
        hn = max(0, min(int(0.05 * sr), n - h))
        y[h : h + hn] += 0.2 * rng.standard_normal(hn) * np.exp(-np.arange(hn) / sr * 80)
    y /= np.abs(y).max() * 1.1  # one gain for the whole track: the pads stay equal
    return ShotsTrack(y.astype(np.float32), sr, np.asarray(kicks, dtype=np.float64), segments, shots, level)


_SHIFT = 4  # cv2 fixed-point bits: sub-pixel positions, so a slow drift moves smoothly
_ONE = 1 << _SHIFT


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x * _ONE)), int(round(y * _ONE))


def _disc(mask: np.ndarray, x: float, y: float, r: float, value: int = 255) -> None:
    cv2.circle(mask, _pt(x, y), max(1, int(round(r * _ONE))), value, -1, cv2.LINE_AA, _SHIFT)


def _poly(mask: np.ndarray, pts: np.ndarray, value: int = 255) -> None:
    """pts: (k, 2) float pixel coordinates of one filled polygon."""
    fixed = np.round(pts * _ONE).astype(np.int32)[None]  # (1, k, 2)
    cv2.fillPoly(mask, fixed, value, cv2.LINE_AA, _SHIFT)


def _square(cx: float, cy: float, half: float, angle: float) -> np.ndarray:
    """(4, 2) corners of a square turned by angle."""
    a = angle + np.pi / 4 + np.arange(4) * np.pi / 2  # (4,)
    return np.stack([cx + half * math.sqrt(2) * np.cos(a), cy + half * math.sqrt(2) * np.sin(a)], axis=1)


def _draw(mask: np.ndarray, composition: int, t: float, size: float) -> None:
    """Paint one composition's shapes (255) on mask; size scales every element about its centre.
    Coverage is similar across compositions (~10..30 % of the frame from the smallest to the
    largest size), so the mean brightness is left to the flash."""
    h, w = mask.shape
    m = min(w, h)
    cx, cy = w / 2, h / 2
    if composition == 0:  # one large disc off-centre, drifting slowly
        x = cx + m * (0.14 + 0.05 * math.sin(2 * math.pi * t / 6.1))
        y = cy - m * (0.10 + 0.05 * math.sin(2 * math.pi * t / 4.7 + 1.0))
        _disc(mask, x, y, m * 0.31 * size)
    elif composition == 1:  # a ring around a turning square outline
        x = cx + m * 0.05 * math.sin(2 * math.pi * t / 5.3)
        y = cy + m * 0.05 * math.cos(2 * math.pi * t / 6.7)
        _disc(mask, x, y, m * 0.42 * size)
        _disc(mask, x, y, m * 0.35 * size, 0)
        angle = 2 * math.pi * t / 9.0
        _poly(mask, _square(x, y, m * 0.22 * size, angle))
        _poly(mask, _square(x, y, m * 0.13 * size, angle), 0)
    elif composition == 2:  # a 3 x 3 grid of small discs, swaying
        dx = m * 0.04 * math.sin(2 * math.pi * t / 4.3)
        dy = m * 0.04 * math.sin(2 * math.pi * t / 5.9 + 2.0)
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                _disc(mask, cx + dx + i * w * 0.3, cy + dy + j * h * 0.3, m * 0.095 * size)
    else:  # diagonal bars sliding along their normal
        period = m * 0.25
        width = period * 0.27 * size
        offset = (t / 3.0 % 1.0) * period
        d = np.array([1.0, 1.0]) / math.sqrt(2)  # along a bar
        nrm = np.array([1.0, -1.0]) / math.sqrt(2)  # across the bars
        reach = math.hypot(w, h)
        centre = np.array([cx, cy])
        for k in range(-int(reach / period) - 1, int(reach / period) + 2):
            c = centre + nrm * (k * period + offset)
            a, b = c - d * reach, c + d * reach
            _poly(mask, np.stack([a - nrm * width / 2, b - nrm * width / 2, b + nrm * width / 2,
                                  a + nrm * width / 2]))


def render_shots_frame(track: ShotsTrack, t: float, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB: the composition of the shot at t, in the chord's colour on a
    dark field of the same colour, sized by the bass, the whole frame lifted towards white by the
    kick flash (so the brightness is the kick's, the hue stays the chord's)."""
    colour = np.asarray(CHORD_COLOURS[track.chord_at(t)], dtype=np.float32)  # (3,)
    size = 0.55 + 0.45 * track.bass_level(t)  # 0.64 .. 1.0 of the full size
    mask = np.zeros((height, width), dtype=np.uint8)  # (h, w) shape coverage, 0..255
    _draw(mask, track.composition_at(t), t, size)
    alpha = mask.astype(np.float32)[..., None] * (1 / 255)  # (h, w, 1)
    base = colour * (BACKGROUND + (1 - BACKGROUND) * alpha)  # (h, w, 3)
    # half-way to a fixed mean brightness: big shapes in yellow and small ones in blue would
    # otherwise differ by 2.5x between flashes, and the kick would no longer own the brightness
    gain = math.sqrt(QUIET_BRIGHTNESS * 255.0 / max(float(base.mean()), 1.0))
    base = np.minimum(base * gain, 255.0)
    flash = FLASH_LIFT * track.kick_envelope(t)
    img = base + (255.0 - base) * flash  # towards white: adds the same to every channel's headroom
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def mean_brightness(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N,) float in [0, 1]: the mean over pixels and channels."""
    frames = np.asarray(frames)
    return frames.reshape(len(frames), -1).mean(axis=1, dtype=np.float64) / 255.0


def kick_brightness_correlation(frames: np.ndarray, times: np.ndarray, track: ShotsTrack) -> float:
    """Pearson correlation of the frames' mean brightness with the kick envelope at their times:
    how much of the flash a model's output carries (the source itself scores >= 0.9).
    frames: (N, H, W, 3) uint8; times: (N,) seconds."""
    b = mean_brightness(frames)  # (N,)
    k = np.array([track.kick_envelope(float(t)) for t in np.asarray(times)])  # (N,)
    if b.std() < 1e-12 or k.std() < 1e-12:
        return 0.0
    return float(np.corrcoef(b, k)[0, 1])

