"""`latentvj show make VIDEO_OR_FOLDER... --out shows/NAME`: music videos in, a playable show out.

The four steps a show takes (`dataset build`, `train show`, `export`, then its sheet and scores)
run as one job in a work folder beside the bundle (`shows/NAME.make/`):

    make.toml     the job's settings, written first: the same command after a kill continues,
                  a different one is refused (it would mix two shows' parts)
    data/         the dataset (finished videos are kept)
    run/          the training run (checkpoints; resumed exactly)
    sheet.png     the show's contact sheet (latent directions, frames of its first video's song)
    scores.toml   held-out picture scores, and cuts, motion and flashes played over its whole
                  training song beside the video's own, as `latentvj eval` prints them
    times.toml    the seconds each step took

The bundle itself is exported to `NAME.partial` and renamed into place once the daemon's own
loader has checked it against the checkpoint, so a folder at `--out` is always a finished show.
One progress bar covers the whole job; its total is the job's estimated seconds, so its ETA is the
job's, and each step moves it by its share as it goes.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from latentvj.daemon.show.bundle import BUILTIN_DIR, sha256_of
from latentvj.daemon.toml_io import dumps_toml, read_toml

from latentvj.training.data.dataset import MANIFEST, DatasetError
from latentvj.training.data.dataset_build import BuildOptions, build_dataset, expand_inputs
from latentvj.training.show.show_trainer import MIN_FRAMES, train_show
from latentvj.training.train_config import SHOW_DEFAULTS, TrainConfig, apply, load_file
from latentvj.training.data.video_io import VideoError, probe

log = logging.getLogger("latentvj.make")
DEMO_ENCODER = BUILTIN_DIR / "demo" / "encoder.ts"
SETTINGS = "make.toml"
PROBE_STEPS = 12  # steps timed to turn --minutes into a step count (the first few are slower)
# seconds per unit of work on a 2-core CPU at 128x128, for the bar's first estimate only; the bar
# then runs at the measured rate
BUILD_S_PER_FRAME = 0.004
STEP_S_AT_128 = 0.55
FIXED_S = {"export": 20.0, "sheet": 25.0, "scores": 40.0}


@dataclass
class MakeOptions:
    size: int | None = None  # None: 128 on a CPU, 256 on a GPU
    steps: int | None = None  # None: from `minutes`, or the recipe's default
    minutes: float | None = None  # training time budget
    device: str | None = None  # None: cuda when there is one, else cpu
    encoder: Path | None = None  # None: the built-in demo's RAVE (unless conditioning reads no RAVE)
    conditioning: str = "rave,music"
    config: Path | None = None  # training settings (train_config.py) over the recipe's defaults
    name: str | None = None
    fps: float = 30.0
    work: Path | None = None  # None: OUT.make beside the bundle


def pick_device(device: str | None) -> str:
    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def work_dir(out: Path, opts: MakeOptions) -> Path:
    return opts.work or out.with_name(out.name + ".make")


def _settings(videos: list[Path], opts: MakeOptions, device: str) -> dict:
    """What decides the show's content: a resumed job must have the same (the device may change)."""
    uses_rave = "rave" in [k.strip() for k in opts.conditioning.split(",")]
    encoder = (opts.encoder or DEMO_ENCODER) if uses_rave else None
    if encoder is not None and not encoder.is_file():
        raise DatasetError(f"--encoder {encoder}: no such file")
    size = opts.size or (256 if device.startswith("cuda") else 128)
    train = load_file(opts.config) if opts.config else {}
    apply(TrainConfig(), train, str(opts.config))  # a bad setting is refused before any work
    return {"videos": [str(v.resolve()) for v in videos], "size": size, "fps": opts.fps, "train": train,
            "conditioning": opts.conditioning, "encoder": str(encoder.resolve()) if encoder else "none",
            "encoder_sha256": sha256_of(encoder) if encoder else "none",
            "steps": opts.steps or 0, "minutes": opts.minutes or 0.0}


def _check_videos(videos: list[Path], fps: float) -> float:
    """Every input a usable video with sound, long enough in all: the job's seconds of video."""
    total = 0.0
    for v in videos:
        info = probe(v)
        if info.fps <= 0 or info.seconds <= 0:
            raise VideoError(f"{v}: a still image or a stream without duration, not a video; give video files "
                             "with their soundtrack")
        total += info.seconds
    need = MIN_FRAMES / fps * 2.5  # the held-out split takes its share too
    if total < need:
        raise VideoError(f"{videos[0] if len(videos) == 1 else 'the videos'}: {total:.1f} s of video in all; a show "
                         f"needs at least {need:.0f} s (a minute or more learns far better)")
    return total


def _resume_settings(work: Path, want: dict) -> None:
    """Refuse to continue a job that was started with other settings."""
    path = work / SETTINGS
    if not path.is_file():
        work.mkdir(parents=True, exist_ok=True)
        tmp = work / f".{SETTINGS}.tmp"
        tmp.write_text(dumps_toml(want))
        os.replace(tmp, path)
        return
    had = read_toml(path, DatasetError, "show make settings")
    diff = [k for k in want if k != "resolved_steps" and had.get(k) != want[k]]
    if diff:
        say = ", ".join(f"{k} {had.get(k)!r} -> {want[k]!r}" for k in diff)
        raise DatasetError(f"{work} was started with other settings ({say}); run the same command to continue it, "
                           f"or delete {work} (and the bundle) to start over")


class JobBar:
    """One bar over the whole job, in estimated seconds; each step reports its own fraction."""

    def __init__(self, shares: dict[str, float], disable: bool = False) -> None:
        self.shares = shares
        self.bar = tqdm(total=round(sum(shares.values())), unit="s", desc="show make", disable=disable,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]")
        self.done = 0.0
        self.seconds: dict[str, float] = {}  # wall time of each step, this run of the job
        self._current: tuple[str, float] | None = None

    def _stop_clock(self) -> None:
        if self._current:
            name, t0 = self._current
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    def step(self, name: str) -> Callable[[float], None]:
        """A callback taking the fraction of step `name` now finished (0..1, increasing)."""
        self._stop_clock()
        self._current = (name, time.perf_counter())
        start, share = self.done, self.shares[name]
        self.bar.set_postfix_str(name)

        def report(fraction: float) -> None:
            self.done = start + share * min(max(fraction, 0.0), 1.0)
            if (ahead := round(self.done) - self.bar.n) > 0:
                self.bar.update(ahead)  # tqdm redraws at most every mininterval

        return report

    def close(self) -> None:
        self._stop_clock()
        self._current = None
        self.bar.close()


def _train_config(settings: dict, data: Path, steps: int) -> TrainConfig:
    cfg = apply(TrainConfig(), dict(SHOW_DEFAULTS), "train show defaults")
    apply(cfg, settings["train"], "show make --config")
    return apply(cfg, {"data": str(data), "conditioning": settings["conditioning"], "steps": steps,
                       "width": settings["size"], "height": settings["size"]}, "show make")


def _steps_for_minutes(settings: dict, data: Path, minutes: float, device: str) -> int:
    """Time a few real steps on this machine, then fit the budget."""
    with tempfile.TemporaryDirectory(prefix="latentvj-make-probe-") as tmp:
        cfg = _train_config(settings, data, 10 ** 6)
        stamps: list[float] = []
        train_show(cfg, Path(tmp) / "run", False, device=device, progress=False, until=PROBE_STEPS,
                   on_step=lambda done: stamps.append(time.perf_counter()))
    per_step = (stamps[-1] - stamps[2]) / max(len(stamps) - 3, 1)
    steps = max(100, int(minutes * 60 / per_step))
    log.info("%.2f s a step here: %d steps fit %.0f minutes", per_step, steps, minutes)
    return steps


def make_show(inputs: list[Path], out: Path, opts: MakeOptions, progress: bool = True) -> dict:
    """Run (or continue) the whole job; returns {bundle, work, sheet, scores, metrics}."""
    device = pick_device(opts.device)
    videos = expand_inputs(inputs)
    work = work_dir(out, opts)
    settings = _settings(videos, opts, device)
    if out.exists() and not (work / SETTINGS).is_file():
        raise DatasetError(f"--out {out}: exists and was not made by this command; choose a new --out")
    seconds = _check_videos(videos, opts.fps)
    work.mkdir(parents=True, exist_ok=True)
    with _only_job(work):
        return _make(videos, out, opts, device, work, settings, seconds, progress)


@contextmanager
def _only_job(work: Path) -> Iterator[None]:
    """One job per work folder: a second one would delete the first's half-built files."""
    with open(work / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(f"{work}: another `latentvj show make` is working in this folder; wait for it "
                               "or stop it first") from None
        yield


def _make(videos: list[Path], out: Path, opts: MakeOptions, device: str, work: Path, settings: dict,
          seconds: float, progress: bool) -> dict:
    _resume_settings(work, settings)
    data_dir, run_dir = work / "data", work / "run"
    saved = read_toml(work / SETTINGS, DatasetError, "show make settings")
    steps = int(saved.get("resolved_steps") or opts.steps or SHOW_DEFAULTS["steps"])
    frames = seconds * opts.fps
    scale = (settings["size"] / 128) ** 2 * (0.1 if device.startswith("cuda") else 1.0)
    bar = JobBar({"dataset": 2 * frames * BUILD_S_PER_FRAME, "train": steps * STEP_S_AT_128 * scale, **FIXED_S},
                 disable=not progress)
    try:
        report = bar.step("dataset")
        counted = [0]

        def frames_done(n: int) -> None:
            counted[0] += n
            report(counted[0] / (2 * frames))

        encoder = None if settings["encoder"] == "none" else Path(settings["encoder"])
        # one held-out segment in ten, at most 8 s long, so a short job still has held-out frames
        split = BuildOptions(size=settings["size"], fps=opts.fps, device=device,
                             heldout_seconds=min(8.0, seconds / 10), heldout_every=10)
        build_dataset(videos, encoder, data_dir, split, progress=frames_done)
        report(1.0)
        report = bar.step("train")  # the --minutes probe is training time too
        if opts.minutes and not saved.get("resolved_steps"):
            steps = _steps_for_minutes(settings, data_dir, opts.minutes, device)
            (work / SETTINGS).write_text(dumps_toml({**saved, "resolved_steps": steps}))
        if not (run_dir / "metrics.toml").is_file():
            cfg = _train_config(settings, data_dir, steps)
            resume = (run_dir / "checkpoint.pt").is_file()
            train_show(cfg, run_dir, resume, device=device, progress=False, on_step=lambda d: report(d / steps))
        report(1.0)
        bundle = _export(run_dir, out, encoder, opts.name or out.name, bar.step("export"))
        sheet = _sheet(bundle, work, data_dir, device, bar.step("sheet"))
        metrics = _scores(bundle, work, data_dir, bar.step("scores"))
    finally:
        bar.close()
        _add_times(work, bar.seconds)
    return {"bundle": bundle, "work": work, "sheet": sheet, "scores": work / "scores.toml", "metrics": metrics,
            "steps": steps, "settings": settings}


def _add_times(work: Path, seconds: dict[str, float]) -> None:
    """times.toml: each step's wall seconds, summed over every run of the job (a resumed job too)."""
    path = work / "times.toml"
    had = read_toml(path, DatasetError, "show make times") if path.is_file() else {}
    total = {k: round(float(had.get(k, 0.0)) + seconds.get(k, 0.0), 1) for k in ("dataset", "train", *FIXED_S)}
    tmp = work / ".times.toml.tmp"
    tmp.write_text(dumps_toml(total))
    os.replace(tmp, path)


def _export(run: Path, out: Path, encoder: Path | None, name: str, report: Callable[[float], None]) -> Path:
    """Export once; a bundle left from an earlier try of the same job is kept if it is complete."""
    from latentvj.daemon.show.bundle import ShowError

    from latentvj.training.export import export_show

    marker = run / "exported.toml"
    ck_sha = sha256_of(run / "checkpoint.pt")
    if out.is_dir() and marker.is_file() and read_toml(marker, DatasetError, "export marker").get("checkpoint") == ck_sha:
        report(1.0)
        return out
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        export_show(run, partial, encoder, name)
    except ShowError as exc:
        raise DatasetError(str(exc)) from exc
    shutil.rmtree(out, ignore_errors=True)  # an older export of this job (the marker did not match)
    os.replace(partial, out)
    marker.write_text(dumps_toml({"checkpoint": ck_sha, "bundle": str(out.resolve())}))
    report(1.0)
    return out


def _first_song(data_dir: Path) -> Path:
    """The first video's soundtrack: the strip's frames then follow music the show was made from."""
    m = read_toml(data_dir / MANIFEST, DatasetError, "dataset manifest")
    return Path(m["items"][0]["video"])


def _sheet(bundle: Path, work: Path, data_dir: Path, device: str, report: Callable[[float], None]) -> Path:
    from latentvj.daemon.show.sheet import make_sheet

    path = work / "sheet.png"
    if not path.is_file():
        tmp = work / ".sheet.tmp.png"
        make_sheet(str(bundle), tmp, audio=_first_song(data_dir), frames=8, dims=8,
                   device="cuda" if device.startswith("cuda") else "cpu",
                   progress=lambda done, total: report(done / max(total, 1)))
        os.replace(tmp, path)
    report(1.0)
    return path


def _scores(bundle: Path, work: Path, data_dir: Path, report: Callable[[float], None]) -> dict:
    from latentvj.training.eval.evaluate import evaluate

    path = work / "scores.toml"
    if path.is_file():
        report(1.0)
        return read_toml(path, DatasetError, "show scores")
    m = evaluate(str(bundle), data_dir, whole=True)  # held-out pictures; cuts and flashes over its whole song
    clean = {k: float(v) for k, v in m.items()}  # TOML keeps nan (a score with nothing to measure)
    tmp = work / ".scores.toml.tmp"
    tmp.write_text(dumps_toml(clean))
    os.replace(tmp, path)
    report(1.0)
    return m


__all__ = ["MakeOptions", "make_show", "work_dir"]
