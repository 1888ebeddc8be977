"""A drum-machine song whose beats and kicks are known exactly: the sound of the footage benchmark.

A music video is cut on beats and flashed on kicks; to score a show against that we need the beat
and kick times as placed, not as a beat tracker guesses them, so the song is synthesised: kick
(pitch-dropping sine), snare (noise burst), hats, a bass line on the chord roots and a chord pad,
one chord per bar, in 8-bar sections whose kick pattern varies; a section's last bar is sometimes
a drop (no kick, no bass, a snare roll), so kicks are not simply every beat.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 44100
SECTION_BARS = 8
KICK_PATTERNS = {  # kick positions in beats within a 4-beat bar; some off the beat on purpose
    "four": (0.0, 1.0, 2.0, 3.0),  # four on the floor
    "half": (0.0, 2.0),
    "broken": (0.0, 1.5, 2.0),
    "push": (0.0, 1.0, 2.0, 3.0, 3.5),
}
DROP_P = 0.5  # chance that a section's last bar drops the kick and bass
PROGRESSIONS = (  # (semitones above the key, minor?) for 4 bars, then repeated
    ((0, True), (8, False), (3, False), (10, False)),  # i VI III VII
    ((0, True), (5, True), (8, False), (7, False)),  # i iv VI V
    ((0, True), (3, False), (10, False), (5, True)),  # i III VII iv
)
PEAK = 0.9  # the mix's peak after one gain for the whole song


@dataclass(frozen=True)
class Song:
    audio: np.ndarray  # (n,) float32 mono in [-1, 1]
    sample_rate: int
    tempo: float  # beats per minute
    beats: np.ndarray  # (b,) seconds: k * 60 / tempo for every beat that starts inside the song
    kicks: np.ndarray  # (k,) seconds: each kick's onset as placed (at sample round(t * sr))
    bar_patterns: tuple[str, ...]  # each bar's kick pattern name, or "drop"


def _midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _kick(sr: int) -> np.ndarray:
    """(0.35 s,) a sine whose pitch falls 155 -> 45 Hz in ~30 ms, with a short click on top."""
    t = np.arange(int(0.35 * sr)) / sr
    body = np.sin(2 * np.pi * np.cumsum(45 + 110 * np.exp(-t * 35)) / sr) * np.exp(-t * 7)
    return 0.9 * body + 0.1 * np.sin(2 * np.pi * 1800 * t) * np.exp(-t * 300)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """(0.18 s,) white-ish noise burst over a 190 Hz body."""
    t = np.arange(int(0.18 * sr)) / sr
    noise = np.diff(rng.standard_normal(len(t) + 1))  # a first difference tilts it towards the highs
    return (0.3 * noise + 0.2 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 22)


def _hat(sr: int, rng: np.random.Generator, open_: bool) -> np.ndarray:
    n = int((0.12 if open_ else 0.04) * sr)
    return 0.08 * np.diff(rng.standard_normal(n + 2), 2) * np.exp(-np.arange(n) / sr * (25 if open_ else 90))


def _bass_note(freq: float, seconds: float, sr: int) -> np.ndarray:
    """A plucked, saw-ish low note: 3 harmonics, fast decay."""
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * freq * h * t) / h for h in (1, 2, 3))
    return 0.32 * y * np.exp(-t * 5) * np.minimum(1.0, t * 200)


def _pad(freqs: list[float], seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One bar of a soft detuned chord with a 60 ms attack and a release into the next bar."""
    t = np.arange(int(seconds * sr)) / sr
    y = np.zeros(len(t))
    for f in freqs:
        for detune in (0.997, 1.003):
            for h, a in ((1, 1.0), (2, 0.3), (3, 0.1)):
                y += a * np.sin(2 * np.pi * f * detune * h * t + rng.uniform(0, 2 * np.pi))
    env = np.minimum(1.0, t / 0.06) * np.exp(-t * 0.6)
    return 0.025 * y * env


def _add(y: np.ndarray, at: float, sound: np.ndarray, sr: int) -> None:
    i = int(round(at * sr))
    if i < len(y):
        y[i : i + len(sound)] += sound[: len(y) - i]


def beat_song(seconds: float, tempo: float = 120.0, seed: int = 0, sr: int = SAMPLE_RATE) -> Song:
    """`seconds` of a song at `tempo` bpm; the seed picks the key, progression and section patterns."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / tempo
    n = int(round(seconds * sr))
    y = np.zeros(n)  # (n,) float64 mix
    key = 45 + int(rng.integers(0, 12))  # A2 .. G#3: the bass octave
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    kick = _kick(sr)
    n_bars = int(np.ceil(seconds / (4 * beat)))
    names = list(KICK_PATTERNS)
    patterns: list[str] = []
    kicks: list[float] = []
    for bar in range(n_bars):
        section, in_section = divmod(bar, SECTION_BARS)
        if in_section == 0:  # a new section: its kick pattern, bass rhythm and hat density
            pattern = "four" if section == 0 else names[int(rng.integers(len(names)))]
            bass_steps = [s / 2 for s in range(8) if s % 2 == 1 or rng.random() < 0.4]  # off-beats + some
            sixteenths = bool(rng.random() < 0.5)
        drop = in_section == SECTION_BARS - 1 and rng.random() < DROP_P
        patterns.append("drop" if drop else pattern)
        t0 = bar * 4 * beat
        shift, minor = progression[bar % len(progression)]
        root = key + shift
        third = 3 if minor else 4
        _add(y, t0, _pad([_midi_hz(root + 12 + i) for i in (0, third, 7)], 4 * beat + 0.3, sr, rng), sr)
        for pos in () if drop else KICK_PATTERNS[pattern]:
            _add(y, t0 + pos * beat, kick, sr)
            kicks.append(t0 + pos * beat)
        for pos in (2.0, 2.5, 3.0, 3.25, 3.5, 3.75) if drop else (1.0, 3.0):
            _add(y, t0 + pos * beat, _snare(sr, rng) * (0.6 if drop else 1.0), sr)
        for step in range(16 if sixteenths else 8):
            pos = step / (4 if sixteenths else 2)
            if pos % 1.0 != 0.0 or sixteenths:  # on-beat hats only in 16th sections
                _add(y, t0 + pos * beat, _hat(sr, rng, open_=pos % 2.0 == 1.5), sr)
        for pos in () if drop else bass_steps:
            octave = 12 if pos in (1.5, 3.5) and rng.random() < 0.3 else 0
            _add(y, t0 + pos * beat, _bass_note(_midi_hz(root - 12 + octave), 0.9 * beat / 2, sr), sr)
    y *= PEAK / max(float(np.abs(y).max()), 1e-9)
    beats = np.arange(int(np.ceil(n / sr / beat))) * beat  # (b,)
    kept = np.asarray([k for k in kicks if int(round(k * sr)) < n])  # (k,)
    return Song(y.astype(np.float32), sr, float(tempo), beats[beats * sr < n], kept, tuple(patterns))
