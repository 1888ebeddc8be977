"""Does a show made from real footage look like it, and cut, move and flash with a song it never
heard? A benchmark that prints the targets with pass or fail, not a test.

    python -m latentvj.training.bench.footage_bench [--work DIR] [--seconds 60] [--heldout-seconds 40]
        [--size 128] [--steps N | --minutes N] [--sheet PNG]

1. two music videos cut from real footage (footage_video.STANDARD): train.mp4 (seed 0, 120 bpm,
   the training footage) and heldout.mp4 (seed 1, 128 bpm, footage kept back): another song at
   another tempo over pictures the show never saw;
2. `latentvj show make train.mp4 --out WORK/shows/footage`, timed; its work folder's times.toml
   splits the time per step;
3. `latentvj dataset build heldout.mp4` with the show's encoder at the same size;
4. scores (evaluate.py): sharpness and realism on the training video's held-out frames, then cuts
   on the beat, cuts per minute, motion within shots and flashes with the kick of the whole
   held-out song played through the show in order, each beside the source's own;
5. one table of the targets, and a contact sheet: the held-out song's frames and the show's, then
   the training video's held-out frames and the show's.

The work folder is kept and a second run redoes nothing finished (show make resumes; the videos
and the held-out dataset are made once) except the scores; other settings need another --work.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch

from latentvj.daemon.toml_io import dumps_toml, read_toml

from latentvj.training.data.dataset import MANIFEST, DatasetError, FrameDataset
from latentvj.training.eval.evaluate import evaluate, show_predictor
from latentvj.training.show.show_make import DEMO_ENCODER
from latentvj.training.train_config import SHOW_DEFAULTS
from latentvj.training.verbs import run_verb
from latentvj.training.bench.footage import FootageError
from latentvj.training.bench.footage_video import STANDARD, write_footage_video

FPS = 30
SETTINGS = "bench.toml"  # the settings the work folder was started with
TIME_LIMIT_MIN = {64: 20.0, 128: 60.0}  # frame size -> minutes the whole `show make` may take
COLUMNS = 12  # frames on the contact sheet


class Row(NamedTuple):
    what: str
    figure: str
    wanted: str
    verdict: str  # "pass", "FAIL", or "n/a" (not measured, or no target at this size)


def verdict(value: float | None, lo: float | None = None, hi: float | None = None) -> str:
    """None: not measured ("n/a"); NaN counts as a fail (e.g. a show that never cuts has no cut timing)."""
    if value is None:
        return "n/a"
    ok = math.isfinite(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
    return "pass" if ok else "FAIL"


def _f(value: float | None, spec: str) -> str:
    if value is None:
        return "not measured"
    return format(value, spec) if math.isfinite(value) else "none"


def _beside(m: dict, key: str, spec: str, unit: str = "", a: str = "", b: str = "", bspec: str = "",
            source: str = "") -> str:
    """m[key] with what it came from ("0.80x (12 vs 15)", or "80% (source 95%)"); just "not
    measured" when m lacks it."""
    if m.get(key) is None:
        return "not measured"
    more = (f" ({_f(m.get(a), bspec)} vs {_f(m.get(b), bspec)})" if a else
            f" (source {_f(m.get(source), spec)})" if source else "")
    return f"{_f(m[key], spec)}{unit if math.isfinite(m[key]) else ''}{more}"


def target_rows(train: dict, song: dict) -> list[Row]:
    """The picture targets from the training video's held-out frames (`train`), the music targets
    from the whole held-out song played through the show (`song`, evaluate(..., whole=True))."""
    g = song.get
    return [
        Row("sharpness of the footage shown, training video held out",
            _beside(train, "sharpness_shown", ".2f")
            + (f" (vs the same moment's frames {_f(train['sharpness'], '.2f')})" if "sharpness" in train else ""),
            ">= 0.8", verdict(train.get("sharpness_shown"), 0.8)),
        Row("realism, training video held out (1 = as new footage)", _beside(train, "realism", ".2f"), ">= 0.7",
            verdict(train.get("realism"), 0.7)),
        Row("cuts within a frame of a beat, held-out song",
            _beside(song, "cuts_on_beat", ".0%", source="source_cuts_on_beat"), ">= 70%",
            verdict(g("cuts_on_beat"), 0.7)),
        Row("cuts per minute over the source's",
            _beside(song, "cuts_ratio", ".2f", "x", "cuts_per_min", "source_cuts_per_min", ".1f"),
            ">= 0.5x", verdict(g("cuts_ratio"), 0.5)),
        Row("motion within shots over the source's",
            _beside(song, "motion_ratio", ".2f", "x", "motion", "source_motion", ".3f"),
            "0.5x .. 2x", verdict(g("motion_ratio"), 0.5, 2.0)),
        Row("flash r with the kick over the source's",
            _beside(song, "flash_ratio", ".2f", "x", "flash_r", "source_flash_r", ".2f"),
            ">= 0.7x", verdict(g("flash_ratio"), 0.7)),
    ]


def time_row(size: int, minutes: float, split: dict[str, float]) -> Row:
    """The whole `show make`, with its seconds per step (times.toml) shown in minutes."""
    limit = TIME_LIMIT_MIN.get(size)
    parts = ", ".join(f"{k} {v / 60:.1f}" for k, v in split.items())
    return Row(f"`show make` at {size}x{size}, minutes", f"{minutes:.1f} ({parts})",
               f"<= {limit:g} min" if limit else "no target at this size",
               verdict(minutes, hi=limit) if limit else "n/a")


def format_table(rows: list[Row]) -> str:
    """Aligned columns under a header, then how many targets were met."""
    head = Row("target", "figure", "wanted", "")
    w = [max(len(r[c]) for r in [head, *rows]) for c in range(3)]
    lines = [f"  {r.what:<{w[0]}}  {r.figure:<{w[1]}}  {r.wanted:<{w[2]}}  {r.verdict}".rstrip()
             for r in [head, *rows]]
    lines.insert(1, "  " + "-" * (sum(w) + 10))
    judged = [r for r in rows if r.verdict != "n/a"]
    lines.append(f"  {sum(r.verdict == 'pass' for r in judged)} of {len(judged)} targets met")
    return "\n".join(lines)


def _settings(work: Path, want: dict) -> None:
    """Refuse a work folder started with other settings: its videos and show would not match them."""
    path = work / SETTINGS
    if path.is_file():
        had = read_toml(path, DatasetError, "footage bench settings")
        if had != want:
            say = ", ".join(f"{k} {had.get(k)!r} -> {v!r}" for k, v in want.items() if had.get(k) != v)
            sys.exit(f"footage_bench: {work} was started with other settings ({say}); give another --work, "
                     "or delete it to start over")
    else:
        work.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps_toml(want))


def write_videos(work: Path, seconds: dict[str, float], size: int) -> dict[str, dict]:
    """train.mp4 and heldout.mp4 (and their truth sidecars), written once: name -> truth."""
    truths = {}
    for name, (seed, tempo, subset) in STANDARD.items():
        video = work / f"{name}.mp4"
        if not video.is_file():  # written under another name, then moved: a killed write is redone
            tmp = work / f".{name}.partial.mp4"
            truth = write_footage_video(tmp, seconds[name], size, FPS, seed, tempo, subset)
            truth["video"] = video.name
            video.with_suffix(".json").write_text(json.dumps(truth, indent=1))
            tmp.with_suffix(".json").unlink()
            os.replace(tmp, video)
        truths[name] = json.loads(video.with_suffix(".json").read_text())
    return truths


def run(*argv: str) -> float:
    return run_verb(*argv, who="footage_bench")


def pick(idx: np.ndarray, n: int = COLUMNS) -> np.ndarray:
    """Up to n of the indices, evenly spread, first and last included."""
    return np.unique(idx[np.linspace(0, len(idx) - 1, min(n, len(idx))).round().astype(int)])


@torch.no_grad()
def played(show: Path, data: FrameDataset, picks: np.ndarray, batch: int = 64) -> np.ndarray:
    """(N,) frames -> (N, H, W, 3) uint8 what the show draws for them live: every frame of their
    video from its start up to the last one picked goes through one (stateful) predictor in order,
    so the shots run as they would on stage."""
    predict, _ = show_predictor(str(show), data)
    got: dict[int, np.ndarray] = {}
    for item in np.unique(data.item_of[picks]):
        want = picks[data.item_of[picks] == item]
        frames = np.arange(data.offsets[item], want.max() + 1)
        for a in range(0, len(frames), batch):
            chunk = frames[a : a + batch]
            out = predict(chunk).float().clamp(0, 1).permute(0, 2, 3, 1).numpy()  # (B, H, W, 3)
            for j in np.flatnonzero(np.isin(chunk, want)):
                got[int(chunk[j])] = (out[j] * 255 + 0.5).astype(np.uint8)
    return np.stack([got[int(i)] for i in picks])


def _text(img: np.ndarray, lines: list[str], x: int, y: int, scale: float = 0.42) -> None:
    for k, line in enumerate(lines):
        cv2.putText(img, line, (x, y + 15 * k), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1, cv2.LINE_AA)


def sheet_image(sections: list[tuple[str, np.ndarray, list[tuple[list[str], np.ndarray]]]],
                tile: int = 112) -> np.ndarray:
    """(H, W, 3) uint8 RGB: for each section a title strip, the time of each column, then its rows;
    a row is (label lines, (N, h, w, 3) frames)."""
    label_w, gap, head, times = 150, 4, 22, 16
    cols = max(len(f) for _, _, rows in sections for _, f in rows)
    height = sum(head + times + len(rows) * (tile + gap) for _, _, rows in sections)
    sheet = np.full((height, label_w + cols * (tile + gap), 3), 28, np.uint8)
    y = 0
    for title, seconds, rows in sections:
        sheet[y : y + head] = 60
        _text(sheet, [title], 6, y + 15, 0.45)
        y += head
        for c, s in enumerate(seconds):
            _text(sheet, [f"{s:.1f} s"], label_w + c * (tile + gap) + 4, y + 12, 0.38)
        y += times
        for label, frames in rows:
            _text(sheet, label, 6, y + tile // 2 - 4)
            for c, f in enumerate(frames):
                x = label_w + c * (tile + gap)
                sheet[y : y + tile, x : x + tile] = cv2.resize(f, (tile, tile), interpolation=cv2.INTER_NEAREST)
            y += tile + gap
    return sheet


def contact_sheet(paths: list[Path], show: Path, song: FrameDataset, train: FrameDataset) -> None:
    """Row 1/2: the held-out song's frames (from 1 s on) and what the show draws for them; row 3/4:
    the training video's held-out frames and the show's."""
    a = pick(np.arange(min(int(song.fps), song.n - 1), song.n))
    b = pick(train.heldout_idx)
    sections = [
        (f"held-out song ({STANDARD['heldout'][1]:g} bpm, footage kept back), played from its start", a / song.fps,
         [(["held-out song", "source"], song.frames(a)), (["held-out song", "show"], played(show, song, a))]),
        ("training video, its held-out frames, played from its start", b / train.fps,
         [(["training video", "held out: source"], train.frames(b)), (["training video", "held out: show"],
                                                                      played(show, train, b))]),
    ]
    img = cv2.cvtColor(sheet_image(sections, tile=max(train.size, 112)), cv2.COLOR_RGB2BGR)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), img)


def _heldout_data(work: Path, video: Path, size: int, seconds: float) -> Path:
    """The held-out song as a dataset at the show's size with its encoder, built once. All of it is
    scored; the split (one segment in ten, like show make's) only feeds evaluate's held-out metrics."""
    out = work / "data_heldout"
    if not (out / MANIFEST).is_file():
        run("dataset", "build", str(video), "--encoder", str(DEMO_ENCODER), "--out", str(out), "--size", str(size),
            "--heldout-seconds", f"{min(8.0, seconds / 10):g}", "--heldout-every", "10")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("footage-bench"),
                   help="working folder (kept; finished steps are not redone)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the training video")
    p.add_argument("--heldout-seconds", type=float, default=40.0, help="length of the held-out song's video")
    p.add_argument("--size", type=int, default=128, help="frame size of the videos and the show")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="training steps (default: show make's)")
    budget.add_argument("--minutes", type=float, help="training time budget (show make fits the steps to it)")
    p.add_argument("--sheet", type=Path, help="write the contact sheet here too")
    args = p.parse_args(argv)
    w = args.work
    _settings(w, {"seconds": args.seconds, "heldout_seconds": args.heldout_seconds, "size": args.size,
                  "steps": args.steps or 0, "minutes": args.minutes or 0.0})
    try:
        truths = write_videos(w, {"train": args.seconds, "heldout": args.heldout_seconds}, args.size)
    except FootageError as exc:
        print(f"footage_bench: error: {exc}", file=sys.stderr)
        return 1
    show, make = w / "shows" / "footage", w / "shows" / "footage.make"
    train_for = (["--steps", str(args.steps)] if args.steps else
                 ["--minutes", f"{args.minutes:g}"] if args.minutes else [])
    wall = run("show", "make", str(w / "train.mp4"), "--out", str(show), "--size", str(args.size), *train_for)
    song_dir = _heldout_data(w, w / "heldout.mp4", args.size, args.heldout_seconds)

    train_m = evaluate(str(show), make / "data")
    song_m = evaluate(str(show), song_dir, whole=True)
    split = {k: float(v) for k, v in read_toml(make / "times.toml", DatasetError, "show make times").items()}
    minutes = max(wall, sum(split.values())) / 60  # times.toml sums every run of the job; wall: this run's

    for name, t in truths.items():
        print(f"{name}.mp4: {t['seconds']:.0f} s at {t['size']}x{t['size']}, {t['tempo']:g} bpm, "
              f"{len(t['cut_frames'])} cuts, {t['sources_subset']} footage: {', '.join(t['sources'])}")
    steps = read_toml(make / "make.toml", DatasetError, "show make settings")
    print(f"show {show}: {steps.get('resolved_steps') or steps.get('steps') or SHOW_DEFAULTS['steps']} steps; "
          f"`show make` {wall / 60:.1f} min in this run\n")
    rows = [*target_rows(train_m, song_m), time_row(args.size, minutes, split),
            Row("sharpness, held-out song (no target: other footage)", _f(song_m.get("sharpness"), ".2f"), "-", "n/a")]
    print(format_table(rows))
    print(f"\n  held out of the training video: {train_m['frames']} frames; held-out song: "
          f"{song_m.get('video_frames', 0)} frames in order")
    sheet = w / "sheet.png"
    contact_sheet([sheet, *([args.sheet] if args.sheet else [])], show, FrameDataset(song_dir),
                  FrameDataset(make / "data"))
    print(f"contact sheet: {sheet}{f' and {args.sheet}' if args.sheet else ''}")
    print(f"the show's own sheet: {make / 'sheet.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
