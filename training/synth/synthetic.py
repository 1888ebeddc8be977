"""A synthetic music video made from code: the demo show's training data and the tests' input.

The track has kick, bass, chords and hats in sections; the picture follows it the way a music
video would, so a decoder trained on (latent, frame) pairs has something audible to learn:
shapes whose size follows loudness, a hue that follows the chord, a flash on every kick.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, NamedTuple

import av
import cv2
import numpy as np

BEAT = 0.5  # seconds (120 bpm)
CHORD_SECONDS = 2.0
ROOTS = (220.0, 261.6, 196.0, 174.6, 246.9, 293.7)


@dataclass
class Track:
    audio: np.ndarray  # (n,) float32 in [-1, 1]
    sample_rate: int
    kicks: np.ndarray  # (k,) kick onset times in seconds
    envelope: np.ndarray  # (n // 512,) RMS over 512-sample blocks, 0..1

    def chord_at(self, t: float) -> int:
        return int(t // CHORD_SECONDS) % len(ROOTS)

    def loudness_at(self, t: float) -> float:
        i = min(int(t * self.sample_rate) // 512, len(self.envelope) - 1)
        return float(self.envelope[max(i, 0)])


def procedural_track(sr: int = 44100, seconds: float = 60.0, seed: int = 0) -> Track:
    """Sections of 16 s: full groove, then a breakdown (no kick) every fourth section."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    y = np.zeros(n)
    kicks = []
    for k in range(int(seconds / BEAT)):
        start = k * BEAT
        breakdown = int(start // 16) % 4 == 3
        s = int(start * sr)
        if not breakdown:
            tt = np.arange(min(int(0.3 * sr), n - s)) / sr
            f = 50 + 100 * np.exp(-tt * 30)
            y[s : s + len(tt)] += 0.8 * np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-tt * 8)
            kicks.append(start)
        h = int((k + 0.5) * BEAT * sr)
        hn = min(int(0.05 * sr), n - h)
        if hn > 0:
            y[h : h + hn] += 0.25 * rng.standard_normal(hn) * np.exp(-np.arange(hn) / sr * 80)
    for i in range(int(math.ceil(seconds / CHORD_SECONDS))):
        s, e = int(i * CHORD_SECONDS * sr), min(n, int((i + 1) * CHORD_SECONDS * sr))
        tt = t[s:e] - t[s]
        f = ROOTS[i % len(ROOTS)] * (1 + (i // len(ROOTS)) % 2 * 0.5)
        env = np.minimum(1, tt * 20) * np.exp(-tt * 0.8)
        for m in (1.0, 1.26, 1.5):
            y[s:e] += 0.1 * env * np.sin(2 * np.pi * f * m * tt)
        y[s:e] += 0.12 * np.sign(np.sin(2 * np.pi * f / 4 * tt)) * np.exp(-np.mod(tt, BEAT) * 6)
    y /= np.abs(y).max() * 1.1
    audio = y.astype(np.float32)
    blocks = audio[: n // 512 * 512].reshape(-1, 512)
    env = np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=1))
    return Track(audio, sr, np.asarray(kicks), (env / max(env.max(), 1e-9)).astype(np.float32))


def _hue_rgb(h: float) -> tuple[int, int, int]:
    return tuple(int(255 * (0.5 + 0.5 * math.cos(2 * math.pi * h - k * 2.1))) for k in (0, 1, 2))


def render_frame(track: Track, t: float, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB: the picture at time t."""
    hue = track.chord_at(t) / len(ROOTS)
    since_kick = t - track.kicks[track.kicks <= t].max() if np.any(track.kicks <= t) else 10.0
    flash = math.exp(-since_kick * 12)
    loud = track.loudness_at(t)
    bg = np.array(_hue_rgb(hue + 0.5), dtype=np.float32) * 0.25
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = (bg + (255 - bg) * 0.6 * flash).astype(np.uint8)
    cx, cy, m = width // 2, height // 2, min(width, height)
    chord = track.chord_at(t)
    for k in range(3):  # everything on screen is a function of the sound: a decoder can learn it
        ang = 2 * math.pi * (k / 3 + chord / len(ROOTS) / 3)
        r = int(m * (0.08 + 0.25 * loud) * (1.0 - 0.2 * k))
        pos = (int(cx + 0.25 * m * math.cos(ang)), int(cy + 0.25 * m * math.sin(ang)))
        cv2.circle(img, pos, max(r, 1), _hue_rgb(hue + 0.08 * k), -1, lineType=cv2.LINE_AA)
    return img


Renderer = Callable[[Any, float, int, int], np.ndarray]  # (track, t, width, height) -> RGB frame


def write_music_video(path: Path, track: Track | ChordTrack, width: int = 384, height: int = 216, fps: int = 30,
                      audio_layout: str | None = "stereo", render: Renderer | None = None) -> Path:
    """An H.264 + AAC mp4 of the track and its picture, written frame by frame (flat memory).

    audio_layout: "mono", "stereo", "5.1", ... or None for a video without an audio track.
    render: (track, t, width, height) -> (height, width, 3) uint8 RGB; `render_frame` when None,
    `render_chord_frame` for a `chord_track`.
    """
    render = render or render_frame
    sr = track.sample_rate
    n_frames = int(len(track.audio) / sr * fps)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        even = width % 2 == 0 and height % 2 == 0  # 4:2:0 needs even sizes
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p" if even else "yuv444p"
        vs.options = {"crf": "20", "preset": "veryfast"}
        aus = c.add_stream("aac", rate=sr, layout=audio_layout) if audio_layout else None
        channels = aus.codec_context.layout.nb_channels if aus else 0
        done = 0  # audio samples written
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(render(track, i / fps, width, height), format="rgb24")
            for p in vs.encode(frame):
                c.mux(p)
            if aus is not None:
                stop = min(len(track.audio), int((i + 1) * sr / fps))
                block = np.repeat(track.audio[None, done:stop], channels, axis=0) * (0.9 if channels > 1 else 1)
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(block, dtype=np.float32), format="fltp",
                                                layout=audio_layout)
                af.sample_rate, af.pts = sr, done
                for p in aus.encode(af):
                    c.mux(p)
                done = stop
        for stream in (vs, aus):
            for p in stream.encode(None) if stream is not None else ():
                c.mux(p)
    return path


def write_audio(path: Path, mono: np.ndarray, sr: int) -> None:
    """PCM WAV or FLAC by suffix, through PyAV."""
    codec = {".wav": "pcm_s16le", ".flac": "flac"}[path.suffix]
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=sr, layout="mono")
        frame = av.AudioFrame.from_ndarray((np.clip(mono, -1, 1) * 32767).astype(np.int16)[None], format="s16",
                                           layout="mono")
        frame.sample_rate = sr
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def drum_pattern(sr: int = 44100, seconds: float = 16.0, bpm: float = 128.0,
                 seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A kick on 1 and 3, a snare on 2 and 4, a hat on every off-beat, over a faint noise bed:
    ((n,) float32, {"kick"|"snare"|"hat": hit times in seconds}). For testing onset detection."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm

    def kick() -> np.ndarray:
        t = np.arange(int(0.25 * sr)) / sr
        return 0.8 * np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t * 30)) / sr) * np.exp(-t * 10)

    def snare() -> np.ndarray:
        t = np.arange(int(0.15 * sr)) / sr
        return (0.35 * np.diff(rng.standard_normal(len(t) + 1)) + 0.12 * np.sin(2 * np.pi * 200 * t)) * np.exp(-t * 25)

    def hat() -> np.ndarray:
        n = int(0.04 * sr)
        return 0.12 * np.diff(rng.standard_normal(n + 2), 2) * np.exp(-np.arange(n) / sr * 90)

    y = 0.01 * rng.standard_normal(int((seconds + 1) * sr))
    hits: dict[str, list[float]] = {"kick": [], "snare": [], "hat": []}
    for b in range(int(seconds / beat)):
        drum, sound = ("kick", kick) if b % 2 == 0 else ("snare", snare)
        for name, t, s in ((drum, b * beat, sound()), ("hat", b * beat + beat / 2, hat())):
            i = int(round(t * sr))
            y[i : i + len(s)] += s[: len(y) - i]
            hits[name].append(t)
    return y.astype(np.float32), {k: np.asarray(v) for k, v in hits.items()}


# --- the chord video: harmony in the picture, none of it in the loudness -----------------------

BAR = 4 * BEAT  # seconds: chords change only on bar lines
CHORD_NAMES = ("C major", "A minor", "F major", "G major")
CHORD_PITCHES = ((0, 4, 7), (9, 0, 4), (5, 9, 0), (7, 11, 2))  # pitch classes, C = 0
# RGB, far apart in hue so a blurry decoder output still lands nearest its own chord
CHORD_COLOURS = ((230, 40, 40), (40, 200, 60), (50, 80, 230), (225, 205, 30))
PAD_RMS = 0.1  # every chord's pad, before the mix is scaled to full range
CROSSFADE_S = 0.04  # the same at every change, so no chord owns a louder or quieter edge
_PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))  # (harmonic, amplitude): a soft saw-ish pad


class ChordSegment(NamedTuple):
    start: float  # seconds
    end: float
    chord: int  # index into CHORD_NAMES


@dataclass
class ChordTrack:
    audio: np.ndarray  # (n,) float32 in [-1, 1]
    sample_rate: int
    kicks: np.ndarray  # (k,) kick onset times in seconds
    chords: tuple[ChordSegment, ...]  # contiguous, covering the whole track

    CHORD_NAMES: ClassVar[tuple[str, ...]] = CHORD_NAMES

    def chord_at(self, t: float) -> int:
        starts = [s.start for s in self.chords]
        i = int(np.searchsorted(starts, t, side="right")) - 1
        return self.chords[min(max(i, 0), len(self.chords) - 1)].chord

    def seconds_to_change(self, t: float) -> float:
        """How far t is from the nearest chord change: frames near one are ambiguous to judge."""
        changes = np.array([s.start for s in self.chords[1:]])  # (m - 1,)
        return float(np.abs(changes - t).min()) if len(changes) else math.inf


def chord_segments(seconds: float, rng: np.random.Generator) -> tuple[ChordSegment, ...]:
    """1..4 bars each, the next chord any other one: neither time nor position predicts the chord."""
    segments, start, chord = [], 0.0, int(rng.integers(len(CHORD_NAMES)))
    while start < seconds:
        end = min(seconds, start + BAR * int(rng.integers(1, 5)))
        segments.append(ChordSegment(start, end, chord))
        chord = (chord + int(rng.integers(1, len(CHORD_NAMES)))) % len(CHORD_NAMES)
        start = end
    return tuple(segments)


def _pad(chord: int, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) float64 sustained pad at PAD_RMS: the chord's pitch classes from G3 up, in 2 octaves."""
    tt = np.arange(n) / sr
    y = np.zeros(n)
    for pc in CHORD_PITCHES[chord]:
        for octave in (0, 12):
            f = 440.0 * 2 ** ((55 + (pc - 7) % 12 + octave - 69) / 12)  # 196..740 Hz
            for harmonic, amp in _PARTIALS:
                y += amp * np.sin(2 * np.pi * f * harmonic * tt + rng.uniform(0, 2 * np.pi))
    return y * PAD_RMS / max(float(np.sqrt(np.mean(y * y))), 1e-12)


def pad_track(segments: tuple[ChordSegment, ...], n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) float64: each segment's pad, overlapping its neighbours by half a crossfade either side."""
    half = int(CROSSFADE_S * sr / 2)
    y = np.zeros(n)
    for k, seg in enumerate(segments):
        s, e = int(round(seg.start * sr)), min(n, int(round(seg.end * sr)))
        lo, hi = (s - half if k > 0 else s), (e + half if k < len(segments) - 1 else e)
        pad = _pad(seg.chord, hi - lo, sr, rng)  # (hi - lo,)
        gain = np.ones(hi - lo)
        ramp = np.linspace(0.0, 1.0, 2 * half)  # (2 * half,)
        if k > 0:
            gain[: 2 * half] = ramp
        if k < len(segments) - 1:
            gain[-2 * half :] = ramp[::-1]
        y[lo:hi] += pad * gain
    return y


def kick_sound(sr: int) -> np.ndarray:
    tt = np.arange(int(0.3 * sr)) / sr
    return 0.8 * np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-tt * 30)) / sr) * np.exp(-tt * 8)


def chord_track(sr: int = 44100, seconds: float = 60.0, seed: int = 0) -> ChordTrack:
    """4 chords in a random order over kicks and hats that ignore them, every pad at one RMS: a show
    trained on it can only get the colour right by hearing harmony, not loudness or rhythm."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    segments = chord_segments(seconds, rng)
    y = pad_track(segments, n, sr, rng)
    kick, kicks = kick_sound(sr), []
    n_beats = int(seconds / BEAT)
    bars = math.ceil(n_beats / 4)
    dropped = set((4 * np.arange(bars) + rng.integers(0, 4, bars)).tolist())  # a beat index per bar
    for b in range(n_beats):
        s = int(round(b * BEAT * sr))
        if b not in dropped:  # one random beat per bar: every chord's bars get the same kick energy
            y[s : s + len(kick)] += kick[: n - s]
            kicks.append(b * BEAT)
        h = int(round((b + 0.5) * BEAT * sr))
        hn = max(0, min(int(0.05 * sr), n - h))
        y[h : h + hn] += 0.2 * rng.standard_normal(hn) * np.exp(-np.arange(hn) / sr * 80)
    y /= np.abs(y).max() * 1.1  # one gain for the whole track: the pads stay equal
    return ChordTrack(y.astype(np.float32), sr, np.asarray(kicks), segments)


def render_chord_frame(track: ChordTrack, t: float, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB: the chord's colour everywhere (dark behind, bright in the
    disc), a flash on each kick; the disc's size and place follow kicks and time, never the chord."""
    colour = np.array(CHORD_COLOURS[track.chord_at(t)], dtype=np.float32)  # (3,)
    past = track.kicks[track.kicks <= t]
    flash = math.exp(-(t - past.max()) / 0.05) if len(past) else 0.0  # ~0.05 after 150 ms
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = np.clip(colour * (0.2 + 0.45 * flash) + 40 * flash, 0, 255).astype(np.uint8)
    m = min(width, height)
    centre = (int(width * (0.5 + 0.18 * math.sin(2 * math.pi * t / 7.3))),
              int(height * (0.5 + 0.18 * math.sin(2 * math.pi * t / 5.1 + 1.0))))
    disc = np.clip(colour * (0.85 + 0.15 * flash) + 30 * flash, 0, 255)  # (3,)
    radius = max(1, int(m * (0.25 + 0.15 * flash)))
    cv2.circle(img, centre, radius, tuple(int(c) for c in disc), -1, lineType=cv2.LINE_AA)
    return img
