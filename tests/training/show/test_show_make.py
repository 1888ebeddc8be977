"""`latentvj show make`: one command from videos to a checked show, resumable, refusing bad input."""
import os
import signal
import subprocess
import sys
import time

import av
import cv2
import numpy as np
import pytest

from conftest import CPU, procedural_track
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.toml_io import load_toml
from latentvj.training.data.dataset import DatasetError
from latentvj.training.show.show_make import MakeOptions, make_show
from latentvj.training.data.video_io import VideoError

# a small recipe: the same code path as the defaults, in seconds on a CPU
SMALL = ("batch = 4\nworkers = 0\neval_every = 10\nckpt_every = 10\nlog_every = 5\neval_frames = 60\n"
         "latent = 8\naudio_latent = 3\ncontext = 2\nmusic_window = 3\nadv_start = 0.25\n")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    from latentvj.training.synth.synthetic import write_music_video

    return write_music_video(tmp_path_factory.mktemp("make_in") / "song.mp4", procedural_track(44100, 8.0, seed=4),
                             48, 48)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("make_cfg") / "small.toml"
    path.write_text(SMALL)
    return path


def _opts(small, **kw) -> MakeOptions:
    return MakeOptions(**{"size": 32, "steps": 12, "conditioning": "music", "config": small, **kw})


@pytest.fixture(scope="module")
def made(tmp_path_factory, video, small):
    out = tmp_path_factory.mktemp("make_out") / "shows" / "mine"
    return make_show([video], out, _opts(small), progress=False)


def test_one_command_makes_a_checked_show_its_sheet_and_scores(made):
    """--conditioning music: no RAVE anywhere, so the dataset is built without an encoder."""
    show = made["bundle"]
    ShowRuntime.load(show, CPU)  # the daemon plays it
    assert load_toml(show / "show.toml")["encoder"]["kind"] == "features"
    assert made["sheet"].stat().st_size > 1000
    scores = load_toml(made["scores"])
    assert 0 < scores["sharpness"] and "realism" in scores
    assert not list(show.parent.glob("*.partial")), "the export's temporary folder is left behind"
    assert load_toml(made["work"] / "make.toml")["conditioning"] == "music"


def test_the_same_command_again_redoes_nothing(made, video, small):
    ck = made["work"] / "run" / "checkpoint.pt"
    before = (ck.stat().st_mtime_ns, made["sheet"].stat().st_mtime_ns, (made["bundle"] / "show.toml").stat().st_mtime_ns)
    again = make_show([video], made["bundle"], _opts(small), progress=False)
    assert again["bundle"] == made["bundle"]
    assert (ck.stat().st_mtime_ns, made["sheet"].stat().st_mtime_ns,
            (made["bundle"] / "show.toml").stat().st_mtime_ns) == before


def test_other_settings_on_the_same_job_are_refused_and_change_nothing(made, video, small):
    settings = (made["work"] / "make.toml").read_bytes()
    with pytest.raises(DatasetError, match=r"started with other settings \(size 32 -> 48\)"):
        make_show([video], made["bundle"], _opts(small, size=48), progress=False)
    assert (made["work"] / "make.toml").read_bytes() == settings


def test_an_existing_folder_that_is_not_its_show_is_refused(tmp_path, video, small):
    (tmp_path / "theirs").mkdir()
    with pytest.raises(DatasetError, match="theirs: exists and was not made by this command"):
        make_show([video], tmp_path / "theirs", _opts(small), progress=False)


def _no_audio(path):
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width = s.height = 32
        s.pix_fmt = "yuv420p"
        for _ in range(90):
            frame = av.VideoFrame.from_ndarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8),
                                               format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _bad(kind: str, d):
    from latentvj.training.synth.synthetic import write_music_video

    if kind == "still":
        cv2.imwrite(str(d / "still.png"), np.full((32, 32, 3), 128, np.uint8))
        return d / "still.png", VideoError, "still.png: is a still image"
    if kind == "no audio":
        return _no_audio(d / "silent.mp4"), VideoError, "silent.mp4: has no audio track"
    if kind == "2 s":
        v = write_music_video(d / "short.mp4", procedural_track(44100, 2.0, seed=1), 32, 32)
        return v, VideoError, r"short.mp4: 2.0 s of video in all; a show needs at least"
    if kind == "empty folder":
        (d / "empty").mkdir()
        return d / "empty", DatasetError, "empty: no videos in this folder"
    (d / "notes.mp4").write_text("not a video")
    return d / "notes.mp4", VideoError, "notes.mp4: not a readable video"


@pytest.mark.parametrize("kind", ["still", "no audio", "2 s", "empty folder", "not a video"])
def test_bad_input_is_one_clear_error_and_leaves_nothing(tmp_path, small, kind):
    path, error, message = _bad(kind, tmp_path)
    out = tmp_path / "shows" / "x"
    with pytest.raises(error, match=message):
        make_show([path], out, _opts(small), progress=False)
    assert not out.exists() and not out.with_name("x.make").exists()


def test_ctrl_c_stops_with_a_checkpoint_and_the_same_command_continues(tmp_path, video, small):
    out = tmp_path / "shows" / "cut"
    cmd = [sys.executable, "-m", "latentvj.daemon.cli", "show", "make", str(video), "--out", str(out), "--size", "32",
           "--steps", "400", "--conditioning", "music", "--config", str(small), "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tb = out.with_name("cut.make") / "run" / "tb"
    deadline = time.monotonic() + 300
    while not tb.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(1.0)  # a few steps in
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "the same command continues" in err
    assert not out.exists()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "resumed from step" in done.stderr
    assert f"play it:  latentvj run --show {out}" in done.stdout
