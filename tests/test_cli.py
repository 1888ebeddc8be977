"""The real daemon as a subprocess on loopback: audio from a file, OSC in and out, a file sink."""
import shutil
import subprocess
import time

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from conftest import free_port
from daemon_process import LATENTVJ, Listener, mp4_frames, run, wait_ready


def test_run_end_to_end(tmp_path, track_wav, features_show):
    listener = Listener()
    osc_in = free_port()
    control = SimpleUDPClient("127.0.0.1", osc_in)
    out = tmp_path / "live.mp4"
    proc = subprocess.Popen(
        [*LATENTVJ, "run", "--show", "demo", "--input", track_wav, "--loop", "--sink", f"file:{out}", "--sink", "null",
         "--osc-in", f"127.0.0.1:{osc_in}", "--osc-out", f"127.0.0.1:{listener.port}", "--fps", "15",
         "--duration", "10", "--size", "64x64", "--preset-dir", tmp_path / "presets"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(osc_in)
        for i in range(8):
            control.send_message(f"/latentvj/bias/{i}", 0.1 * i)
        control.send_message("/latentvj/scale", 0.0)
        time.sleep(0.5)
        mark = time.monotonic()
        # bad input of every kind while it plays
        for _ in range(200):
            control.send_message("/latentvj/scale", float("nan"))
        control._sock.sendto(b"\x01garbage", ("127.0.0.1", osc_in))
        control.send_message("/latentvj/show", str(tmp_path / "missing-show"))
        control._sock.settimeout(10)
        while b"missing-show" not in control._sock.recv(65536):  # refused on the show worker, said to us
            pass
        control.send_message("/latentvj/show", str(features_show))  # a good one: switch live
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        listener.close()
    assert proc.returncode == 0, stderr
    assert "published 150 frames" in stdout and "dropped 0" in stdout, stdout
    frames, audio_streams = mp4_frames(out)
    assert frames == 150 and audio_streams == 1
    assert {len(v) for _, v in listener.latents} <= {32, 8}  # the demo (an image show), then the features show
    assert 140 <= len(listener.latents) <= 150  # one per frame at 15 fps (UDP on loopback may lose a few)
    after = [v for t, v in listener.latents if mark <= t < mark + 0.5 and len(v) == 32]  # before the switch
    assert after and all(np.allclose(v, [0.1 * i for i in range(8)] + [0.0] * 24, atol=1e-6) for v in after)
    assert "missing-show" in stderr and "still playing 'demo'" in stderr
    assert "switching" in stderr
    assert "/latentvj/status" in listener.other and "/latentvj/features" in listener.other


def test_render_muxes_the_song(tmp_path, track_wav):
    out = tmp_path / "clip.mp4"
    r = run("render", track_wav, "--show", "demo", "-o", out, "--fps", "10", "-q")
    assert r.returncode == 0, r.stderr
    assert mp4_frames(out) == (60, 1)  # 6 s at 10 fps, with the audio


@pytest.mark.parametrize("breakage, message", [
    ("missing", "no such show bundle"),
    ("decoder", "decoder.ts: not a loadable TorchScript"),
    ("dims", "[mapping]: 'explained' should be 16 finite numbers, got shape (32,)"),
])
def test_a_bad_show_at_start_up_exits_non_zero_naming_the_problem(tmp_path, demo_show, breakage, message):
    show = tmp_path / "show"
    if breakage != "missing":
        shutil.copytree(demo_show, show)
        toml = (show / "show.toml").read_text()
        if breakage == "decoder":
            (show / "decoder.ts").write_bytes(b"junk")
            toml = toml[: toml.index("[checksums]")]
        else:
            toml = toml.replace("latent_dim = 32\ncontext", "latent_dim = 16\ncontext")
        (show / "show.toml").write_text(toml)
    r = run("run", "--show", show, "--duration", "1", "--sink", "null")
    assert r.returncode == 2
    assert message in r.stderr


def test_show_create_and_info(tmp_path, demo_show, small_decoder, track_wav):
    r = run("show", "create", "--encoder", demo_show / "encoder.ts", "--decoder", small_decoder,
            "--out", tmp_path / "new", "--calibrate", track_wav)
    assert r.returncode == 0, r.stderr
    r = run("show", "info", tmp_path / "new")
    assert "rave encoder.ts: 8-d, 44100 Hz, hop 2048" in r.stdout and "-> 32x32" in r.stdout


def test_osc_beyond_loopback_needs_an_allow_list():
    r = run("run", "--osc-in", "0.0.0.0:9099", "--duration", "1")
    assert r.returncode == 2 and "--osc-allow" in r.stderr
