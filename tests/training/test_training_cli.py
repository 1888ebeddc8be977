import subprocess
import sys

import pytest

from conftest import DEMO
from latentvj.training import rave


def test_the_daemon_never_loads_training_code():
    code = ("import sys; from latentvj.daemon.cli import build_parser; build_parser(['run']).parse_args(['run']); "
            "print(sorted(m for m in sys.modules if m.startswith('latentvj.training')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_training_verbs_are_reachable_and_fail_cleanly(tmp_path):
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "dataset", "build", str(tmp_path / "none.mp4"),
                        "--encoder", str(DEMO / "encoder.ts"), "--out", str(tmp_path / "d")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip() == f"latentvj dataset: error: {tmp_path / 'none.mp4'}: no such file or folder"
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "eval", str(tmp_path), str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a dataset" in r.stderr


def test_rave_command_lines(tmp_path):
    """What `train rave` asks of acids-rave (its training itself is proven by make_demo_show)."""
    (tmp_path / "audio").mkdir()
    job = rave.RaveJob(tmp_path / "audio", "mine", tmp_path / "out", steps=50, gpu=1)
    cmds = rave.commands(tmp_path / "venv/bin/python", job, tmp_path / "work")
    prep = cmds["preprocess"]
    assert prep[prep.index("--output_path") + 1] == str((tmp_path / "work/preprocessed").resolve())
    train = cmds["train"]
    for flag, value in (("--max_steps", "50"), ("--channels", "1"), ("--n_signal", "131072"), ("--gpu", "1"),
                        ("--config", "v2"), ("--name", "mine")):
        assert train[train.index(flag) + 1] == value
    assert "--progress=false" in train and ["--override", "CAPACITY=8"] == train[train.index("CAPACITY=8") - 1 :][:2]
    assert "--streaming=true" in cmds["export"]


def test_rave_refuses_an_empty_folder(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "notes.txt").write_text("no audio here")
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "train", "rave", str(tmp_path / "audio"),
                        "--name", "x", "--out", str(tmp_path / "out"), "--venv", str(tmp_path / "venv")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no audio files" in r.stderr
    assert not (tmp_path / "venv").exists()  # nothing installed for nothing


def test_rave_without_ffmpeg_says_so_before_installing_anything(tmp_path, monkeypatch):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "a.wav").write_bytes(b"")
    monkeypatch.setattr(rave.shutil, "which", lambda name: None)
    with pytest.raises(rave.DatasetError, match="ffmpeg"):
        rave.train_rave(rave.RaveJob(tmp_path / "audio", "x", tmp_path / "out"), venv=tmp_path / "venv")
    assert not (tmp_path / "venv").exists()
