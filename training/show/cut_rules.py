"""How the training video cuts, learnt from it, so the show cuts the same way to music it never heard.

The shots a show plays are the training footage's own stretches; which stretch, and when the
picture jumps to another, is the ShotPlayer's rule (daemon/show/shots.py): on a music event, never
sooner than `min_s` after the last cut, always by `max_s`, otherwise with a probability. Here each
part of that rule is read off the source:

- the source's cuts are found in its frames (video_scores.detect_cuts: flashes and camera moves are
  not cuts);
- `redraw_on`: the music event (beat, kick, snare, hat, as the daemon's analysis reports them) that
  most cuts land on, within a frame;
- `min_s` and `max_s`: the short and long ends of the source's shot lengths (10th and 90th
  percentiles, with a margin);
- `probability`: of the events that could have cut (at least `min_s` after the last cut), the share
  that did.

The footage bank is split at the same cuts, so a shot plays one stretch of one camera take, and
every cut on screen is one the rule made on the new music's events, none carried over from the
source's timing.
"""
from __future__ import annotations

import numpy as np

from latentvj.daemon.audio.music_analysis import EVENTS
from latentvj.daemon.show.shots import ShotRules

from latentvj.training.data.dataset import FrameDataset
from latentvj.training.show.image_show import frame_events
from latentvj.training.eval.video_scores import detect_cuts

MIN_CUTS = 4  # fewer cuts than this say nothing about a rule: the configured one stays
NEAR = 1  # frames: a cut this close to an event landed on it
MIN_SHOT_S = 0.25  # never learn a min_s shorter than this (a flicker, not an edit)


def source_cuts(data: FrameDataset) -> np.ndarray:
    """(C,) global frame indices where the training video starts a new shot, item by item."""
    out = []
    for i in range(len(data.items)):
        cuts = detect_cuts(data.item_frames(i))  # local indices
        out.append(cuts + data.offsets[i])
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def split_at_cuts(runs: list[np.ndarray], cuts: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive frame indices, cut again where a shot starts; single frames dropped."""
    out = []
    for r in runs:
        inside = cuts[(cuts > r[0]) & (cuts <= r[-1])]
        for part in np.split(r, np.searchsorted(r, inside)):
            if len(part) > 1:
                out.append(part)
    return out or runs


def _events(data: FrameDataset) -> np.ndarray:
    """(n,) EVENTS bits per frame of the whole dataset, item by item."""
    return np.concatenate([frame_events(data, np.arange(data.offsets[i], data.offsets[i + 1]))
                           for i in range(len(data.items))])


def learn_rules(data: FrameDataset, cuts: np.ndarray, fallback: ShotRules) -> tuple[ShotRules, dict]:
    """The rule the source's cuts follow, and a report of what was measured; `fallback` when the
    source has too few cuts to tell."""
    seconds = data.n / data.fps
    report = {"source_cuts": int(len(cuts)), "source_cuts_per_min": 60.0 * len(cuts) / max(seconds, 1e-9)}
    if len(cuts) < MIN_CUTS:
        return fallback, {**report, "learnt": False}
    bits = _events(data)
    near = np.zeros((len(EVENTS), len(cuts)), bool)  # (events, cuts): an event within NEAR frames
    for d in range(-NEAR, NEAR + 1):
        at = np.clip(cuts + d, 0, data.n - 1)
        for k in range(len(EVENTS)):
            near[k] |= (bits[at] >> k) & 1 == 1
    best = int(near.sum(1).argmax())  # ties: the earlier of EVENTS, the beat first
    same_item = data.item_of[cuts[1:]] == data.item_of[cuts[:-1]]
    gaps = np.diff(cuts)[same_item] / data.fps
    if len(gaps) < 2:
        gaps = np.array([seconds / (len(cuts) + 1)] * 2)
    min_s = max(MIN_SHOT_S, 0.8 * float(np.percentile(gaps, 10)))
    max_s = max(min_s + 0.5, 1.2 * float(np.percentile(gaps, 90)))
    # events that could have cut: at least min_s after the source's cut before them (a cut on the
    # event itself is that event cutting, not the one it waits after)
    events = np.flatnonzero((bits >> best) & 1)
    last = np.searchsorted(cuts, events - NEAR, side="left") - 1  # the last cut before each event
    since = np.where(last >= 0, (events - cuts[np.maximum(last, 0)]) / data.fps, np.inf)
    eligible = int((since >= min_s).sum())
    hits = int(near[best].sum())
    p = float(np.clip(hits / max(eligible, 1), 0.02, 1.0))
    rules = ShotRules((EVENTS[best],), p, round(min_s, 3), round(max_s, 3))
    return rules, {**report, "learnt": True, "on": EVENTS[best], "on_share": hits / len(cuts),
                   "probability": p, "min_s": rules.min_s, "max_s": rules.max_s}


def rules_table(rules: ShotRules) -> dict:
    """What a run's checkpoint keeps of the rule (plain values, for TOML and torch.save)."""
    return {"redraw_on": list(rules.redraw_on), "probability": rules.probability, "min_s": rules.min_s,
            "max_s": rules.max_s}
