"""Scores a VJ reads off a music video, real or generated: where the cuts fall, how much moves
within a shot, whether the picture flashes with the kick.

- cuts_on_beat: share of cuts within a frame of a beat (an editor cuts on the beat);
- cuts_per_min: how fast it is cut;
- motion: mean frame-to-frame change within shots, of the brightness-normalised picture;
- flash_r: correlation of the picture's brightness bursts with the kick.

A generated video is read beside its source (`compare`): 1 = as cut, as lively, as kick-driven as
the footage it learnt from. Everything runs on frames shrunk to about 32x32 (`shrink`): shots
and flashes are plain at that size, and grain, compression noise and the cost of full frames go.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter

SMALL = 32  # side the frames are compared at (area average)
CHUNK = 64  # frames shrunk at a time: a long video never sits in memory as full-size floats
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601
STD_FLOOR = 0.05  # luma std well below this counts as flat: a fade's last frames shrink to 0, not to noise
MASS_FLOOR = 0.5  # mean R+G+B (0..3, above black) well below this: the colour histogram fades with the light
BLOWN_OUT = 0.95  # a shrunk pixel this bright in any channel is (mostly) clipped
MIN_SEEN = 0.1  # share of pixels two frames must both show for a comparison on those alone
PAIRS = 512  # frame pairs compared at a time
CHROMA_BINS = 9  # per axis of the chroma histogram, over +-CHROMA_RANGE
CHROMA_RANGE = 0.3  # chromaticity beyond +-this is rare in footage: it shares the end bins
_UNRELATED = 2 / math.sqrt(math.pi)  # E|a - b| for independent N(0, 1): structure distance of two unrelated frames
FLASH_FRAMES = 6  # a flash lasting up to this many frames is no cut (kick flashes decay in ~150 ms)
CUT_ABS = 0.3  # a cut changes structure and colour at least this much (0 = same frame, ~1 = unrelated)
CUT_REL = 3.0  # ... and this many times the typical change around it (camera motion sets that)
CUT_WINDOW = 31  # frames the typical change is the median over (about a second)
CUT_GAP = 2  # at most one cut within this many frames either side


def shrink(frames: np.ndarray, size: int = SMALL) -> np.ndarray:
    """(N, H, W, 3) uint8 (or float in [0, 1]) -> (N, h, w, 3) float32 in [0, 1], area-averaged
    to at most `size` a side; frames already that small come back unchanged (but as floats)."""
    n, h, w = frames.shape[:3]
    rows, cols = (np.linspace(0, s, min(size, s) + 1).astype(np.int64) for s in (h, w))
    scale = 255.0 if frames.dtype == np.uint8 else 1.0
    area = np.diff(rows)[:, None, None] * np.diff(cols)[None, :, None] * scale  # (h, w, 1)
    out = np.empty((n, len(rows) - 1, len(cols) - 1, 3), np.float32)
    for a in range(0, n, CHUNK):
        x = np.add.reduceat(frames[a : a + CHUNK].astype(np.float32), rows[:-1], axis=1)
        out[a : a + CHUNK] = np.add.reduceat(x, cols[:-1], axis=2) / area
    return out


@dataclass
class Looks:
    """What the cut and motion scores compare, per pixel of the shrunk frames, computed once."""

    luma: np.ndarray  # (N, P) BT.601
    seen: np.ndarray  # (N, P) bool: not blown out (a flash's clipping destroys structure and colour there)
    cell: np.ndarray  # (N, P, 4) int: the four chroma histogram bins around the pixel's chromaticity
    share: np.ndarray  # (N, P, 4) the pixel's weight in each: its R+G+B, split bilinearly


def _soft_bins(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(...) values -> (..., 2) neighbouring bins of the chroma axis and (..., 2) their shares:
    a colour drifting across a bin edge moves the histogram smoothly."""
    u = (np.clip(v, -CHROMA_RANGE, CHROMA_RANGE) + CHROMA_RANGE) / (2 * CHROMA_RANGE) * (CHROMA_BINS - 1)
    lo = np.minimum(np.floor(u), CHROMA_BINS - 2).astype(np.int64)
    t = u - lo
    return np.stack([lo, lo + 1], -1), np.stack([1 - t, t], -1)


def looks(small: np.ndarray) -> Looks:
    """(N, h, w, 3) shrunk frames -> their Looks. Colour is the chromaticity (red-green and
    yellow-blue over R+G+B) above the frame's black level (2nd percentile of its darkest channel),
    each pixel weighted by its R+G+B above it: neither a flash's gain nor its added white moves it."""
    n = len(small)
    x = small.reshape(n, -1, 3)  # (N, P, 3)
    lifted = x - np.percentile(x.min(-1), 2, axis=1)[:, None, None]
    light = lifted.sum(-1)  # (N, P)
    safe = np.maximum(light, 1e-6)
    red_green = (lifted[..., 0] - lifted[..., 1]) / safe
    yellow_blue = ((lifted[..., 0] + lifted[..., 1]) / 2 - lifted[..., 2]) / safe
    (ri, rw), (yi, yw) = _soft_bins(red_green), _soft_bins(yellow_blue)  # (N, P, 2) each
    cell = (ri[..., :, None] * CHROMA_BINS + yi[..., None, :]).reshape(n, -1, 4)
    share = (rw[..., :, None] * yw[..., None, :]).reshape(n, -1, 4) * light[..., None]
    return Looks(x @ LUMA, x.max(-1) < BLOWN_OUT, cell, share)


def _normalised(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(K, P) luma, (K, P) pixel weights summing to 1 -> zero mean, unit std over those pixels: a
    flash's gain and offset cancel. The std is softly floored (sqrt(std^2 + STD_FLOOR^2)): a flat
    or dark frame stays near 0 rather than amplified noise, and a fade to black shrinks step by step."""
    y = y - (y * w).sum(1, keepdims=True)
    return y / np.hypot(np.sqrt((y * y * w).sum(1, keepdims=True)), STD_FLOOR)


def _histogram(lk: Looks, f: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(K,) frames, (K, P) pixel weights -> (K, CHROMA_BINS**2) colour histograms weighted by
    R+G+B: mass near 1 for frames lit well above MASS_FLOOR, less for darker ones (so a fade to
    black fades it smoothly too)."""
    bins = CHROMA_BINS**2
    share = lk.share[f] * w[..., None]  # (K, P, 4)
    flat = (np.arange(len(f))[:, None, None] * bins + lk.cell[f]).ravel()
    hist = np.bincount(flat, share.ravel(), len(f) * bins).reshape(len(f), bins)
    return hist / np.hypot(share.sum((1, 2)), MASS_FLOOR)[:, None]


def _pair_change(lk: Looks, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K,) frame pairs -> (K,) mean |change| of the normalised luma, (K,) colour histogram change
    (half the L1 distance), both over the pixels neither frame has blown out (all of them when
    fewer than MIN_SEEN are left: a white frame is compared as it is)."""
    both = lk.seen[a] & lk.seen[b]  # (K, P)
    both[both.mean(1) < MIN_SEEN] = True
    w = both / both.sum(1, keepdims=True)
    structure = (np.abs(_normalised(lk.luma[a], w) - _normalised(lk.luma[b], w)) * w).sum(1)
    colour = 0.5 * np.abs(_histogram(lk, a, w) - _histogram(lk, b, w)).sum(1)
    return structure, colour


def pair_change(lk: Looks, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_pair_change` a block of pairs at a time (memory stays flat for a long video)."""
    parts = [_pair_change(lk, a[s : s + PAIRS], b[s : s + PAIRS]) for s in range(0, len(a), PAIRS)]
    if not parts:
        return np.zeros(0), np.zeros(0)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _distance(lk: Looks, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K,) frame pairs -> (K,) change in structure and colour, ~1 between unrelated frames."""
    structure, colour = pair_change(lk, a, b)
    return 0.5 * (structure / _UNRELATED + colour)


def cut_scores(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) -> (N,) how much frame i starts something new (0 for frame 0).

    The least change from a frame before i (i-1 or i-1-FLASH_FRAMES) to one from i on (i or
    i+FLASH_FRAMES). A cut changes all four pairs; a flash of up to FLASH_FRAMES frames is absent
    from one frame on each side (gone by i+FLASH_FRAMES, not there at i-1-FLASH_FRAMES), so one
    pair stays small wherever i falls in it. Motion keeps i-1 -> i small; so does a flash's gain
    (normalised away, its blown-out pixels left out), which matters in fast motion.
    """
    lk = looks(shrink(frames))
    n = len(lk.luma)
    i = np.arange(1, n)
    after, before = np.minimum(i + FLASH_FRAMES, n - 1), np.maximum(i - 1 - FLASH_FRAMES, 0)
    d = np.min([_distance(lk, a, b) for a in (i - 1, before) for b in (i, after)], axis=0)  # (N-1,)
    return np.concatenate([[0.0], d]).astype(np.float32)


def detect_cuts(frames: np.ndarray, abs_thr: float = CUT_ABS, rel_thr: float = CUT_REL,
                window: int = CUT_WINDOW, gap: int = CUT_GAP) -> np.ndarray:
    """(N, H, W, 3) RGB frames -> (K,) indices (1..N-1) of frames that start a new shot.

    A cut is a score above `abs_thr` (so a still shot's compression noise is none) and above
    `rel_thr` times the median score of the `window` frames around it (so a handheld or panning
    shot, which changes a lot every frame, needs a change well beyond its own), and the largest
    within `gap` frames (a cut is one frame, not the two or three its change spills into)."""
    s = cut_scores(frames)
    if len(s) < 2:
        return np.zeros(0, np.int64)
    typical = median_filter(s, size=window, mode="nearest")
    peak = maximum_filter1d(s, size=2 * gap + 1, mode="nearest") == s
    cand = np.flatnonzero(peak & (s > np.maximum(abs_thr, rel_thr * typical)))
    keep = [c for k, c in enumerate(cand) if k == 0 or c - cand[k - 1] > gap]  # equal peaks: the first
    return np.asarray(keep, np.int64)


def beats_from_phase(beat_phase: np.ndarray) -> np.ndarray:
    """(N,) beat phase in [0, 1), wrapping at each beat -> (K,) frame indices a beat falls on."""
    return np.flatnonzero(np.diff(beat_phase) < -0.5) + 1


def cut_timing(cuts: np.ndarray, beats: np.ndarray, tolerance: int = 1) -> float:
    """Share of cuts within `tolerance` frames of a beat; NaN without cuts."""
    if len(cuts) == 0:
        return float("nan")
    if len(beats) == 0:
        return 0.0
    near = np.abs(np.asarray(cuts)[:, None] - np.asarray(beats)[None, :]).min(1)  # (K,) frames to the nearest beat
    return float(np.mean(near <= tolerance))


def cuts_per_minute(cuts: np.ndarray, n_frames: int, fps: float) -> float:
    """Cuts per minute of a video of `n_frames`; NaN for an empty one."""
    return float(len(cuts) * 60.0 * fps / n_frames) if n_frames > 0 else float("nan")


def motion_within_shots(frames: np.ndarray, cuts: np.ndarray) -> float:
    """Mean absolute change of the brightness-normalised small luma between consecutive frames of
    the same shot, as `detect_cuts` compares them (so a flash is no motion); pairs across a cut
    are left out. NaN without pairs."""
    n = len(frames)
    i = np.setdiff1d(np.arange(1, n), cuts)  # frames whose predecessor is in their shot
    if len(i) == 0:
        return float("nan")
    structure, _ = pair_change(looks(shrink(frames)), i - 1, i)
    return float(structure.mean())


def flash_correlation(frames: np.ndarray, kick_envelope: np.ndarray, window: int = 31) -> float:
    """Pearson r of the brightness bursts (mean luma minus its running median over `window`
    frames, about a second: the bursts stay, the shot's own level goes) with the kick envelope
    (N,). NaN when either is flat."""
    y = shrink(frames) @ LUMA  # (N, h, w)
    burst = y.mean((1, 2)) - median_filter(y.mean((1, 2)), size=window, mode="nearest")  # (N,)
    k = np.asarray(kick_envelope, np.float64)
    if len(k) < 3 or burst.std() < 1e-9 or k.std() < 1e-12:
        return float("nan")
    return float(np.corrcoef(burst, k)[0, 1])


def video_scores(frames: np.ndarray, beat_phase: np.ndarray, kick: np.ndarray, fps: float) -> dict[str, float]:
    """(N, H, W, 3) frames with their (N,) beat phase and kick envelope -> the scores, plus the
    `cuts` and `seconds` they were counted over (for `pool`)."""
    small = shrink(frames)  # once for all three
    cuts = detect_cuts(small)
    return {
        "cuts_on_beat": cut_timing(cuts, beats_from_phase(beat_phase)),
        "cuts_per_min": cuts_per_minute(cuts, len(small), fps),
        "motion": motion_within_shots(small, cuts),
        "flash_r": flash_correlation(small, kick),
        "cuts": float(len(cuts)),
        "seconds": len(small) / fps,
    }


def _weighted(values: list[float], weights: list[float]) -> float:
    ok = [(v, w) for v, w in zip(values, weights) if math.isfinite(v) and w > 0]
    return sum(v * w for v, w in ok) / sum(w for _, w in ok) if ok else float("nan")


def pool(parts: list[dict[str, float]]) -> dict[str, float]:
    """`video_scores` of several separate runs of frames as one: cut timing weighted by cuts, the
    rest by length (flash_r is then a mean of correlations, close to the pooled one)."""
    cuts, seconds = sum(p["cuts"] for p in parts), sum(p["seconds"] for p in parts)
    sec = [p["seconds"] for p in parts]
    return {
        "cuts_on_beat": _weighted([p["cuts_on_beat"] for p in parts], [p["cuts"] for p in parts]),
        "cuts_per_min": 60.0 * cuts / seconds if seconds > 0 else float("nan"),
        "motion": _weighted([p["motion"] for p in parts], sec),
        "flash_r": _weighted([p["flash_r"] for p in parts], sec),
        "cuts": cuts,
        "seconds": seconds,
    }


def _ratio(a: float, b: float) -> float:
    return a / b if math.isfinite(a) and math.isfinite(b) and b != 0 else float("nan")


def compare(out: dict[str, float], src: dict[str, float]) -> dict[str, float]:
    """The output's scores over the source's: 1 = as lively, as cut, as kick-driven."""
    return {
        "motion_ratio": _ratio(out["motion"], src["motion"]),
        "cuts_ratio": _ratio(out["cuts_per_min"], src["cuts_per_min"]),
        "flash_ratio": _ratio(out["flash_r"], src["flash_r"]),
    }


__all__ = ["shrink", "detect_cuts", "cut_scores", "beats_from_phase", "cut_timing", "cuts_per_minute",
           "motion_within_shots", "flash_correlation", "video_scores", "pool", "compare"]
