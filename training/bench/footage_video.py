"""Music videos cut from real footage the way a VJ's are: the benchmark shows train and are judged on.

The editing rule, like an editor cutting to a drum machine:
- a cut lands exactly on a beat frame (the first frame at or after the beat); a shot lasts 2 beats
  with probability 0.6, 1 beat with 0.2, 4 beats with 0.2 (`SHOT_BEATS`, `SHOT_BEAT_P`);
- a shot is a stretch of one scene of a real clip (random start, playing forward at its own speed,
  each output frame showing the clip frame on screen at that time; the scene drawn by how much
  material it has) with probability `CLIP_P` when a scene has room for it, else a slow camera move
  over a photograph (pan and zoom, a new direction each shot, photos drawn by their weight);
  never the same source twice in a row when another one fits;
- each kick flashes the frame: every pixel moves `FLASH_LIFT * exp(-(t - kick) / FLASH_DECAY_S)` of
  the way to white, so the picture's brightness follows the kick whatever the footage is.
The ground truth (beats, kicks, cut frames, each frame's flash level, the shots) goes in a JSON
sidecar beside the mp4.

    python -m latentvj.training.bench.footage_video --out DIR [--seconds 60] [--size 128]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import NamedTuple

import av
import cv2
import numpy as np

from latentvj.training.synth.synthetic import write_music_video
from latentvj.training.bench.beat_song import beat_song
from latentvj.training.bench.footage import DEFAULT_CACHE, SUBSETS, Footage, FootageError, Sources, fetch_footage, load_sources

SHOT_BEATS = (1, 2, 4)
SHOT_BEAT_P = (0.2, 0.6, 0.2)
CLIP_P = 0.5  # chance a shot is a clip, when one is long enough
ZOOM = (0.5, 0.85)  # a camera move's crop side over the photo's short side: room left to pan
ZOOM_SPEED = 0.08  # zoom change per second
PAN_SPEED = 0.12  # centre travel per second, in crop sides
FLASH_LIFT = 0.5  # at the kick every pixel goes half way to white
FLASH_DECAY_S = 0.08
STANDARD = {  # name -> song seed, tempo (bpm), sources subset
    "train": (0, 120.0, "train"),
    "heldout": (1, 128.0, "heldout"),
}


class Shot(NamedTuple):
    start: int  # first frame
    end: int  # one past the last frame
    kind: str  # "clip" or "photo"
    source: str  # clip or photo name
    clip_start: float = 0.0  # clips: seconds into the clip at the shot's first frame
    move: tuple[float, ...] = ()  # photos: (cx, cy, side) at the start and at the end, photo pixels


def first_frames(times: np.ndarray, fps: float) -> np.ndarray:
    """(n,) int: the first frame shown at or after each time (seconds)."""
    return np.ceil(np.round(np.asarray(times, dtype=np.float64) * fps, 6)).astype(int)


def _camera_move(h: int, w: int, seconds: float, rng: np.random.Generator) -> tuple[float, ...]:
    """A slow pan and zoom that stays inside an h x w photo: (cx0, cy0, side0, cx1, cy1, side1)."""
    z0, dz = rng.uniform(*ZOOM), rng.choice([-1, 1]) * ZOOM_SPEED * seconds
    z1 = float(np.clip(z0 + (dz if ZOOM[0] <= z0 + dz <= ZOOM[1] else -dz), *ZOOM))  # in or out, whichever fits
    s0, s1 = z0 * min(h, w), z1 * min(h, w)
    angle = rng.uniform(0, 2 * math.pi)
    for scale in (1.0, 0.5, 0.25, 0.0):  # shorten the pan until it fits; no pan always does
        d = scale * PAN_SPEED * seconds * (s0 + s1) / 2
        dx, dy = d * math.cos(angle), d * math.sin(angle)
        lo = (max(s0, s1 - 2 * dx) / 2, max(s0, s1 - 2 * dy) / 2)  # the start centre's range in x and y
        hi = (min(w - s0 / 2, w - s1 / 2 - dx), min(h - s0 / 2, h - s1 / 2 - dy))
        if lo[0] <= hi[0] and lo[1] <= hi[1]:
            break
    cx, cy = rng.uniform(lo[0], hi[0]), rng.uniform(lo[1], hi[1])
    return (cx, cy, s0, cx + dx, cy + dy, s1)


def plan_edit(beats: np.ndarray, n_frames: int, fps: float, sources: Sources, rng: np.random.Generator) -> list[Shot]:
    """The shots, contiguous over n_frames, cut only on beat frames (see the module's rule)."""
    cuts = [f for f in dict.fromkeys(first_frames(beats, fps).tolist()) if 0 < f < n_frames]
    grid = [0, *cuts, n_frames]  # shot boundaries may only come from here
    shots: list[Shot] = []
    k, previous = 0, ""
    photos = {p.name: p for p in sources.photos}
    while k < len(grid) - 1:
        step = int(rng.choice(SHOT_BEATS, p=SHOT_BEAT_P))
        start, end = grid[k], grid[min(k + step, len(grid) - 1)]
        seconds = (end - start) / fps
        clips = [c for c in sources.clips if c.end - c.start >= seconds]
        if clips and rng.random() < CLIP_P:
            clips = [c for c in clips if c.name != previous] or clips
            room = np.array([c.end - c.start for c in clips])  # (c,) seconds: more material, more shots
            c = clips[int(rng.choice(len(clips), p=room / room.sum()))]
            shot = Shot(start, end, "clip", c.name, clip_start=float(rng.uniform(c.start, c.end - seconds)))
        else:
            names = [n for n in photos if n != previous] or list(photos)
            weights = np.array([photos[n].weight for n in names])
            name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            h, w = photos[name].image.shape[:2]
            shot = Shot(start, end, "photo", name, move=_camera_move(h, w, seconds, rng))
        shots.append(shot)
        previous = shot.source
        k += step
    return shots


class FootageEdit:
    """The edited picture, frame by frame: which shot, where the camera is, how bright the flash."""

    def __init__(self, sources: Sources, shots: list[Shot], kicks: np.ndarray, fps: float) -> None:
        self.size, self.shots, self.fps = sources.size, shots, fps
        self.kicks = np.sort(np.asarray(kicks, dtype=np.float64))  # (k,) seconds
        self._starts = np.array([s.start for s in shots])  # (s,)
        self._clips = {c.name: c for c in sources.clips}
        self._photos = {}  # name -> (image shrunk so the closest move is ~size px across, its scale)
        for p in sources.photos:
            f = min(1.0, self.size / (ZOOM[0] * min(p.image.shape[:2])))
            small = cv2.resize(p.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else p.image
            self._photos[p.name] = (small, f)

    @property
    def cut_frames(self) -> list[int]:
        return [s.start for s in self.shots[1:]]

    def flash(self, i: int) -> float:
        """The flash level at frame i, 0..1: exp(-(t - last kick) / FLASH_DECAY_S)."""
        t = i / self.fps
        k = int(np.searchsorted(self.kicks, t + 1e-9, side="right")) - 1
        return math.exp(-(t - self.kicks[k]) / FLASH_DECAY_S) if k >= 0 else 0.0

    def frame(self, i: int, flash: bool = True) -> np.ndarray:
        """(size, size, 3) uint8 RGB: frame i of the edit."""
        shot = self.shots[int(np.searchsorted(self._starts, i, side="right")) - 1]
        if shot.kind == "clip":
            clip = self._clips[shot.source]
            t = shot.clip_start + (i - shot.start) / self.fps
            img = clip.frames[max(int(np.searchsorted(clip.times, t + 1e-9, side="right")) - 1, 0)]
        else:
            small, f = self._photos[shot.source]
            u = (i - shot.start) / (shot.end - shot.start)
            cx, cy, side = (f * (a + (b - a) * u) for a, b in zip(shot.move[:3], shot.move[3:]))
            a = self.size / side  # crop [cx - side/2, cx + side/2] -> [0, size], pixel centres at +0.5
            m = np.array([[a, 0, (0.5 - cx + side / 2) * a - 0.5], [0, a, (0.5 - cy + side / 2) * a - 0.5]])
            img = cv2.warpAffine(small, m, (self.size, self.size), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT_101)
        e = self.flash(i) if flash else 0.0
        if e < 1e-3:
            return np.ascontiguousarray(img)
        px = img.astype(np.float32)  # (size, size, 3)
        return np.clip(px + (255.0 - px) * (FLASH_LIFT * e), 0, 255).astype(np.uint8)


def write_footage_video(path: Path, seconds: float = 60.0, size: int = 128, fps: int = 30, seed: int = 0,
                        tempo: float = 120.0, sources_subset: str = "all", cache: Path = DEFAULT_CACHE,
                        footage: Footage | None = None) -> dict:
    """Write an H.264 + AAC (mono) mp4 of a synthesised song cut over real footage, and its ground
    truth to path.with_suffix(".json"); returns that truth. `footage` overrides the fetched wheels."""
    sources = load_sources(footage or fetch_footage(cache), size, sources_subset)
    song = beat_song(seconds, tempo, seed)
    n_frames = int(len(song.audio) / song.sample_rate * fps)  # as write_music_video counts them
    edit = FootageEdit(sources, plan_edit(song.beats, n_frames, fps, sources, np.random.default_rng([seed, 1])),
                       song.kicks, fps)
    # write_music_video reads only .audio and .sample_rate from the track
    write_music_video(path, song, size, size, fps, audio_layout="mono",  # type: ignore[arg-type]
                      render=lambda _song, t, _w, _h: edit.frame(int(round(t * fps))))
    truth = {
        "video": path.name, "seconds": len(song.audio) / song.sample_rate, "fps": fps, "size": size,
        "n_frames": n_frames, "seed": seed, "tempo": tempo, "sample_rate": song.sample_rate,
        "sources_subset": sources_subset, "sources": sorted({s.source for s in edit.shots}),
        "beats": song.beats.round(6).tolist(), "kicks": song.kicks.round(6).tolist(),
        "beat_frames": [int(f) for f in first_frames(song.beats, fps) if f < n_frames],
        "kick_frames": [int(f) for f in first_frames(song.kicks, fps) if f < n_frames],
        "cut_frames": edit.cut_frames, "bar_patterns": list(song.bar_patterns),
        "flash": {"lift": FLASH_LIFT, "decay_s": FLASH_DECAY_S,
                  "per_frame": [round(edit.flash(i), 4) for i in range(n_frames)]},
        "shots": [{**s._asdict(), "move": [round(v, 2) for v in s.move]} for s in edit.shots],
    }
    path.with_suffix(".json").write_text(json.dumps(truth, indent=1))
    return truth


def contact_sheet(video: Path, truth: dict, out: Path, pairs: int = 8, columns: int = 4) -> Path:
    """A PNG of `pairs` (frame before a kick, kick frame) pairs, half of them on cuts, labelled."""
    cuts, kicks = set(truth["cut_frames"]), [k for k in truth["kick_frames"] if k > 0]
    on_cut, off_cut = [k for k in kicks if k in cuts], [k for k in kicks if k not in cuts]
    chosen = []
    for group, n in ((on_cut, pairs // 2), (off_cut, pairs - pairs // 2)):
        chosen += [group[int(j)] for j in np.linspace(0, len(group) - 1, n)] if group else []
    wanted = sorted({f for k in chosen for f in (k - 1, k)})
    frames = {}
    with av.open(str(video)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i in wanted:
                frames[i] = fr.to_ndarray(format="rgb24")
            if i >= wanted[-1]:
                break
    tile = max(truth["size"], 128)
    tiles = []
    for i in wanted:
        img = cv2.resize(frames[i], (tile, tile), interpolation=cv2.INTER_NEAREST)
        label = np.full((18, tile, 3), 30, np.uint8)
        text = f"{i}" + (" CUT" if i in cuts else "") + (" KICK" if i in truth["kick_frames"] else "")
        cv2.putText(label, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(np.pad(np.vstack([img, label]), ((2, 2), (2, 2), (0, 0))))
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    rows = [np.hstack(tiles[r : r + columns]) for r in range(0, len(tiles), columns)]
    cv2.imwrite(str(out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder for the videos, sidecars and contact sheet")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the train video")
    p.add_argument("--heldout-seconds", type=float, default=30.0, help="length of the held-out song's video")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the wheels and footage are kept")
    p.add_argument("--heldout-sources", choices=SUBSETS, default="heldout",
                   help="footage for the held-out song: the kept-back photos and clip ends, or other")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        footage = fetch_footage(args.cache)
    except FootageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, (seed, tempo, subset) in STANDARD.items():
        subset = args.heldout_sources if name == "heldout" else subset
        seconds = args.seconds if name == "train" else args.heldout_seconds
        video = args.out / f"footage_{name}.mp4"
        truth = write_footage_video(video, seconds, args.size, args.fps, seed, tempo, subset, footage=footage)
        print(f"{video}: {truth['seconds']:.1f} s, {truth['n_frames']} frames {args.size}x{args.size} at "
              f"{args.fps} fps, {tempo:g} bpm (seed {seed}), {len(truth['beats'])} beats, {len(truth['kicks'])} "
              f"kicks, {len(truth['cut_frames'])} cuts, {subset} footage: {', '.join(truth['sources'])}; "
              f"truth in {video.with_suffix('.json').name}")
        if name == "train":
            sheet = contact_sheet(video, truth, args.out / "footage_train_contact.png")
            print(f"{sheet}: contact sheet, frames before and on kicks, half of them on cuts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
