"""`latentvj dataset build`: music videos -> aligned (latent, features, frame) arrays on disk.

Layout of DATA:
    dataset.toml                  what was built: encoder, sizes, items in order, split, stats
    items/<key>/frames.u8         (n, size, size, 3) uint8 RGB, raw, memory-mapped on read
    items/<key>/rows.f32          (n, latent_dim + n_features + n_music) float32:
                                  [raw RAVE z | built-in features | music stream row]
    items/<key>/item.toml         written last: the item is finished (source and encoder identity)

Without a RAVE export (`--encoder` left out) the rows carry no RAVE columns (latent_dim 0) and the
clock runs at the built-in features encoder's rate: enough for shows that read the music stream
alone (`--conditioning music`).

Every stream comes from the daemon's own code (RaveEncoder and FeaturesEncoder on the RAVE hop,
MusicAnalysis on the fine hop), fed hop by hop from a reset state into its own LatentClock
(interpolated, and held for the music stream, as live) and sampled at each frame's time exactly
as the live renderer samples it, so a model trained here sees the conditioning it will see on
stage. Training picks the streams and columns it wants (a show's conditioning) from these rows. Each video is one unit
of work: a killed build redoes at most the video it was in; a finished video is reused unless
its file, the encoder or the sizes changed.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from latentvj.daemon.audio.features import FeaturesEncoder, feature_names
from latentvj.daemon.audio.hop_stream import HopStream
from latentvj.daemon.audio.music_analysis import STREAM_NAMES, MusicAnalysis
from latentvj.daemon.engine.latent_clock import LatentClock
from latentvj.daemon.show.bundle import ShowError, sha256_of
from latentvj.daemon.show.rave_encoder import RaveEncoder
from latentvj.daemon.toml_io import dumps_toml, load_toml

from latentvj.training.data.dataset import DATASET_FORMAT, MANIFEST, DatasetError, heldout_mask
from latentvj.training.data.video_io import VideoError, iter_audio, iter_frames, probe

log = logging.getLogger("latentvj.dataset")
MUSIC_VERSION = 1  # bump when the music stream's values change: finished items are then rebuilt
# RAVE's prior is N(0, 1): a latent that moves less than this over the training music carries
# nothing the sound explains, and standardising it by its own tiny std would turn encoder noise
# into full-size input (seen on footage: std 0.001 to 0.01 per dimension)
RAVE_STD_FLOOR = 0.05
NO_ENCODER = "none"  # the manifest's encoder when the dataset was built without RAVE
Progress = Callable[[int], None]  # called with the number of frames just finished
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg")


@dataclass
class BuildOptions:
    size: int = 256
    fps: float = 30.0
    heldout_seconds: float = 8.0  # length of each contiguous held-out segment
    heldout_every: int = 10  # one segment in this many is held out
    device: str = "cpu"


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given; folders contribute their videos, sorted. An empty result is an error."""
    videos: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.suffix.lower() in VIDEO_SUFFIXES and q.is_file())
            if not found:
                raise DatasetError(f"{p}: no videos in this folder (looked for {', '.join(VIDEO_SUFFIXES)})")
            videos += found
        elif p.exists():
            videos.append(p)
        else:
            raise DatasetError(f"{p}: no such file or folder")
    if not videos:
        raise DatasetError("no input videos given")
    return videos


def item_key(path: Path) -> str:
    return f"{path.stem[:40]}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}"


def source_id(path: Path) -> dict:
    st = path.stat()
    return {"file": str(path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


class _Appender:
    """Append-only raw array file; a full disk raises DatasetError naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.f = open(path, "wb")

    def write(self, a: np.ndarray) -> None:
        try:
            self.f.write(a.tobytes())
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DatasetError(f"{self.path}: disk full; free space and run the same command again "
                                   "(finished videos are kept)") from exc
            raise

    def close(self) -> None:
        try:
            self.f.close()
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot finish writing ({exc})") from exc


class NoRave:
    """The hop clock of a dataset built without RAVE: no latent columns, the features encoder's rate."""

    latent_dim = 0
    deterministic = True

    def __init__(self, sample_rate: int = 44100, hop: int = 2048) -> None:
        self.sample_rate, self.hop = sample_rate, hop
        self._z = np.zeros(0, dtype=np.float32)

    def reset(self) -> None:
        pass

    def warmup(self) -> None:
        pass

    def encode_hop(self, mono: np.ndarray) -> np.ndarray:
        return self._z


def encode_item(video: Path, out: Path, enc: RaveEncoder | NoRave, opts: BuildOptions, bar_pos: int = 0,
                progress: Progress | None = None) -> dict:
    """Write one video's arrays into `out` (a fresh folder); returns its item record. `progress` is
    told of each frame, once for its sound and once for its picture."""
    info = probe(video)
    feats = FeaturesEncoder(enc.sample_rate, enc.hop)
    music = MusicAnalysis(enc.sample_rate)
    enc.reset()
    clock = LatentClock(enc.latent_dim, feats.latent_dim, enc.hop / enc.sample_rate, t0=0.0, capacity=1024)
    music_clock = LatentClock(music.dim, 0, music.hop / enc.sample_rate, t0=0.0, capacity=4096,
                              rest=music.encode_hop(np.zeros(music.hop, np.float32)).copy(), interpolate=False)
    music.reset()
    no_features = np.zeros(0, dtype=np.float32)
    hops, fine = HopStream(enc.sample_rate, None), HopStream(enc.sample_rate, None)  # as the live encoder thread
    hops.reset(enc.sample_rate, enc.hop)
    fine.reset(enc.sample_rate, music.hop)
    width = enc.latent_dim + feats.latent_dim
    row = np.zeros(width + music.dim, dtype=np.float32)  # [z | features | music row]
    rows = _Appender(out / "rows.f32")
    k = 0  # frames sampled so far

    def sample(t: float) -> None:
        clock.sample(t, row[:width])
        music_clock.sample(t, row[width:])
        rows.write(row)

    bar = tqdm(total=int(info.seconds * opts.fps) or None, unit="frame", desc=f"audio  {video.name[:30]}",
               leave=False, position=bar_pos, disable=progress is not None)
    samples = 0
    for block in iter_audio(video, enc.sample_rate):
        samples += len(block)
        hops.push(block[:, None])
        while (mono := hops.next_hop()) is not None:
            clock.push(enc.encode_hop(mono), feats.encode_hop(mono))
        fine.push(block[:, None])
        while (mono := fine.next_hop()) is not None:
            music_clock.push(music.encode_hop(mono), no_features)
        # sampled as the renderer samples, once every stream covers the frame's time
        while clock.count and k / opts.fps <= min(clock.newest_time(), music_clock.newest_time()):
            sample(k / opts.fps)
            k += 1
            bar.update(1)
            if progress:
                progress(1)
    n_audio = int(samples / enc.sample_rate * opts.fps)
    if clock.count == 0:
        raise VideoError(f"{video}: audio shorter than one hop ({enc.hop} samples)")
    while k < n_audio:  # the last partial hop: hold the newest latent, as live does
        sample(k / opts.fps)
        k += 1
    rows.close()
    bar.close()
    frames = _Appender(out / "frames.u8")
    n = 0
    for img in tqdm(iter_frames(video, opts.fps, opts.size, info.audio_start), total=n_audio, unit="frame",
                    desc=f"frames {video.name[:30]}", leave=False, position=bar_pos, disable=progress is not None):
        if n >= k:
            break
        frames.write(img)
        n += 1
        if progress:
            progress(1)
    frames.close()
    if n < k:  # the picture ends before the sound: keep the paired part only
        os.truncate(out / "rows.f32", n * row.nbytes)
    if n < opts.fps:
        raise VideoError(f"{video}: only {n} usable frames (under one second)")
    return {"frames": n, "seconds": n / opts.fps, "source_width": info.width,
            "source_height": info.height, "source_fps": info.fps, "audio_channels": info.audio_channels,
            "audio_rate": info.audio_rate, "source": source_id(video)}


def _finished(item_dir: Path, video: Path, identity: dict) -> dict | None:
    """The item's record if it was finished with this source, encoder and sizes; else None."""
    marker = item_dir / "item.toml"
    if not marker.is_file():
        return None
    try:
        rec = load_toml(marker)
    except Exception:  # noqa: BLE001 - an unreadable marker means "not finished"
        return None
    if rec.get("source") != source_id(video) or rec.get("identity") != identity:
        return None
    width = identity["latent_dim"] + identity["n_features"] + identity["n_music"]
    sizes_ok = ((item_dir / "frames.u8").stat().st_size == rec["frames"] * identity["size"] ** 2 * 3
                and (item_dir / "rows.f32").stat().st_size == rec["frames"] * width * 4)
    return rec if sizes_ok else None


def _stats(data: Path, items: list[dict], identity: dict, opts: BuildOptions) -> dict:
    """Mean and std of every column (z, features, music) over the training frames, chunk by chunk."""
    width = identity["latent_dim"] + identity["n_features"] + identity["n_music"]
    s1 = np.zeros(width)
    s2 = np.zeros(width)
    count = 0
    for it in items:
        rows = np.memmap(data / "items" / it["key"] / "rows.f32", dtype=np.float32, mode="r", shape=(it["frames"], width))
        train = ~heldout_mask(it["start"], it["frames"], opts.fps, opts.heldout_seconds, opts.heldout_every)
        for a in range(0, it["frames"], 4096):
            x = rows[a : a + 4096][train[a : a + 4096]].astype(np.float64)
            s1 += x.sum(0)
            s2 += (x * x).sum(0)
            count += len(x)
    mean = s1 / max(count, 1)
    std = np.sqrt(np.maximum(s2 / max(count, 1) - mean * mean, 0.0))
    d, f = identity["latent_dim"], identity["latent_dim"] + identity["n_features"]
    std = np.maximum(std, 1e-6)
    std[:d] = np.maximum(std[:d], RAVE_STD_FLOOR)
    return {"latent_mean": mean[:d].tolist(), "latent_std": std[:d].tolist(),
            "features_mean": mean[d:f].tolist(), "features_std": std[d:f].tolist(),
            "music_mean": mean[f:].tolist(), "music_std": std[f:].tolist(), "train_frames": count}


def build_dataset(inputs: list[Path], encoder: Path | None, out: Path, opts: BuildOptions,
                  progress: Progress | None = None) -> dict:
    """`encoder` None: no RAVE columns (shows that read the music stream alone). `progress` hides
    the per-video bars and is told of each frame instead (twice: its sound, then its picture)."""
    videos = expand_inputs(inputs)
    if encoder is None:
        enc: RaveEncoder | NoRave = NoRave()
    else:
        try:
            enc = RaveEncoder(encoder, torch.device(opts.device), deterministic=True)
        except ShowError as exc:
            raise DatasetError(f"--encoder {exc}") from exc
    enc.warmup()
    identity = {"encoder_sha256": NO_ENCODER if encoder is None else sha256_of(encoder), "size": opts.size,
                "fps": opts.fps,
                "latent_dim": enc.latent_dim, "n_features": len(feature_names()), "n_music": len(STREAM_NAMES),
                "music_version": MUSIC_VERSION, "deterministic": enc.deterministic}
    (out / "items").mkdir(parents=True, exist_ok=True)
    items: list[dict] = []
    reused = built = 0
    start = 0.0  # seconds on the dataset's concatenated timeline
    for video in tqdm(videos, unit="video", desc="dataset", disable=progress is not None):
        key = item_key(video)
        item_dir = out / "items" / key
        rec = _finished(item_dir, video, identity)
        if rec is None:
            partial = out / "items" / f".{key}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            try:
                rec = encode_item(video, partial, enc, opts, bar_pos=1, progress=progress)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)  # nothing half-written survives
                raise
            rec["key"], rec["identity"] = key, identity
            (partial / "item.toml").write_text(dumps_toml(rec))
            shutil.rmtree(item_dir, ignore_errors=True)
            os.replace(partial, item_dir)  # the finished item appears in one step
            built += 1
        else:
            reused += 1
            if progress:
                progress(2 * rec["frames"])
        rec = dict(rec, start=start, video=str(video))
        start += rec["seconds"]
        items.append(rec)
    manifest = {
        "format": DATASET_FORMAT, "encoder": NO_ENCODER if encoder is None else str(encoder.resolve()), "encoder_sha256": identity["encoder_sha256"],
        "sample_rate": enc.sample_rate, "hop": enc.hop, "latent_dim": enc.latent_dim, "deterministic": enc.deterministic,
        "features": feature_names(), "music": list(STREAM_NAMES), "music_hop": MusicAnalysis(enc.sample_rate).hop,
        "size": opts.size, "fps": opts.fps,
        "split": {"heldout_seconds": opts.heldout_seconds, "heldout_every": opts.heldout_every},
        "items": [{k: v for k, v in it.items() if k != "identity"} for it in items],
    }
    manifest["stats"] = _stats(out, items, identity, opts)
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(dumps_toml(manifest))
    os.replace(tmp, out / MANIFEST)
    manifest["_built"], manifest["_reused"] = built, reused
    return manifest
