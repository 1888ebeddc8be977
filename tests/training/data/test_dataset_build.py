import errno
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import DEMO, build
from latentvj.daemon.audio.files import load_audio
from latentvj.daemon.audio.music_analysis import STREAM_NAMES, MusicAnalysis
from latentvj.daemon.engine.latent_clock import LatentClock
from latentvj.daemon.show.rave_encoder import RaveEncoder
from latentvj.training.data import dataset_build
from latentvj.training.data.dataset import DatasetError, FrameDataset
from latentvj.training.data.video_io import VideoError


def arrays(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "items").rglob("*.*"))
            if p.suffix in (".u8", ".f32")}


def test_layout_split_and_stats(dataset, music_videos):
    data = FrameDataset(dataset)
    assert data.size == 32 and data.latent_dim == 8 and data.n_features == 6
    assert [it["frames"] for it in data.items] == [180, 150, 120]  # each video's length at 30 fps
    assert len(data.heldout_idx) and len(data.train_idx) == data.manifest["stats"]["train_frames"]
    # held out in whole runs of 1 s (30 frames), never single frames among training ones
    runs = data.segments(data.heldout_idx)
    assert all(len(r) >= 29 for r in runs[:-1])
    cond = data.conditioning(["rave", "music"])
    assert [s.kind for s in cond.streams] == ["rave", "music"] and cond.dim == 8 + 18
    z = data.inputs(data.train_idx, cond)[:, 0]  # (N, 26) standardised with the training frames' stats
    assert np.allclose(z.mean(0), 0, atol=1e-3)
    moving = z.std(0) > 0  # a music column can be constant on this short data (tempo not locked yet)
    assert moving[:8].all() and np.allclose(z.std(0)[moving], 1, atol=1e-2)
    assert data.frames(np.array([0, data.n - 1])).shape == (2, 32, 32, 3)


def test_latents_are_the_live_encoders(dataset, music_videos):
    """Frame k's row is the daemon's encoder fed hop by hop, sampled by its clock at k / fps."""
    data = FrameDataset(dataset)
    audio, sr = load_audio(music_videos[0], 44100)
    enc = RaveEncoder(DEMO / "encoder.ts", torch.device("cpu"))
    enc.warmup()
    clock = LatentClock(8, 6, enc.hop / sr, capacity=4096)
    mono = audio.mean(axis=1)
    for i in range(len(mono) // enc.hop):
        clock.push(enc.encode_hop(mono[i * enc.hop : (i + 1) * enc.hop]), np.zeros(6, np.float32))
    row = np.zeros(14, np.float32)
    want = np.stack([clock.sample(k / 30.0, row) and row[:8].copy() for k in range(150)])
    got = data.rows(np.arange(150))[:, :8]
    assert np.abs(got - want).max() < 1e-3


def test_music_rows_are_the_live_music_stream(dataset, music_videos):
    """Frame k's music row is the daemon's MusicAnalysis fed fine hop by fine hop, held by its
    clock and sampled at k / fps, as the live renderer reads it."""
    data = FrameDataset(dataset)
    audio, sr = load_audio(music_videos[0], 44100)
    music = MusicAnalysis(sr)
    mono = audio.mean(axis=1)
    rows = np.stack([music.encode_hop(mono[i * music.hop : (i + 1) * music.hop]).copy()
                     for i in range(len(mono) // music.hop)])  # (hops, 22)
    frames = np.arange(150)
    held = np.floor(frames / 30.0 * sr / music.hop).astype(int) - 1  # the newest row stamped by k / fps
    got = data.rows(frames)[:, 14:]
    assert got.shape == (150, len(STREAM_NAMES))
    np.testing.assert_allclose(got[held >= 0], rows[held[held >= 0]], rtol=1e-5, atol=1e-4)
    chroma = data.conditioning(["music"], ("chroma_A", "chroma_C"))
    assert chroma.dim == 2 and np.isfinite(data.inputs(frames, chroma)).all()


def test_finished_videos_are_reused_and_changed_ones_redone(tmp_path, music_videos):
    m1 = build(music_videos[:2], tmp_path / "d")
    assert (m1["_built"], m1["_reused"]) == (2, 0)
    before = arrays(tmp_path / "d")
    os.utime(music_videos[1])  # touched: treated as changed
    m2 = build(music_videos[:2], tmp_path / "d")
    assert (m2["_built"], m2["_reused"]) == (1, 1)
    assert arrays(tmp_path / "d") == before


def test_killed_build_resumes_to_the_same_arrays(tmp_path, music_videos):
    whole = tmp_path / "whole"
    build(music_videos, whole)
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "latentvj.daemon.cli", "dataset", "build", *map(str, music_videos), "--encoder",
           str(DEMO / "encoder.ts"), "--out", str(killed), "--size", "32", "--heldout-seconds", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((killed / "items").glob("*/item.toml")) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "dataset.toml").exists(), "the build finished before it was killed"
    m = build(music_videos, killed)
    assert m["_reused"] >= 1
    assert arrays(killed) == arrays(whole)
    assert not list((killed / "items").glob(".*"))  # no partial item left behind


def test_full_disk_keeps_finished_videos(tmp_path, music_videos, monkeypatch):
    build(music_videos[:1], tmp_path / "d")
    real_init = dataset_build._Appender.__init__

    class FullDisk:  # the file object, where ENOSPC really surfaces
        def __init__(self, f):
            self.f = f

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.f.close()

    def init(self, path):
        real_init(self, path)
        if path.parent.name.startswith(".c-"):
            self.f = FullDisk(self.f)

    monkeypatch.setattr(dataset_build._Appender, "__init__", init)
    with pytest.raises(DatasetError, match="disk full"):
        build([music_videos[0], music_videos[2]], tmp_path / "d")
    items = sorted(p.name for p in (tmp_path / "d" / "items").iterdir())
    assert len(items) == 1 and items[0].startswith("a-")  # the finished one kept, nothing half-written


@pytest.mark.parametrize("case", ["empty_folder", "missing", "not_rave", "no_audio"])
def test_bad_inputs(tmp_path, music_videos, case):
    from latentvj.training.synth.synthetic import procedural_track, write_music_video

    encoder = DEMO / "encoder.ts"
    videos = [music_videos[0]]
    if case == "empty_folder":
        (tmp_path / "empty").mkdir()
        videos, match = [tmp_path / "empty"], "no videos in this folder"
    elif case == "missing":
        videos, match = [tmp_path / "nope.mp4"], "no such file"
    elif case == "not_rave":
        encoder, match = DEMO / "decoder.ts", "not a RAVE export"
    else:
        videos = [write_music_video(tmp_path / "silent.mp4", procedural_track(44100, 1.0), 32, 32, audio_layout=None)]
        match = "silent.mp4: has no audio track"
    from latentvj.training.data.dataset_build import BuildOptions, build_dataset

    with pytest.raises((DatasetError, VideoError), match=match):
        build_dataset(videos, encoder, tmp_path / "out", BuildOptions(size=32))
    assert not (tmp_path / "out" / "dataset.toml").exists()
