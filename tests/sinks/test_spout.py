"""The Spout sink against a strict fake of SpoutGL (Linux cannot import the real one)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import TESTS, drive_sink, free_port
from latentvj.daemon.sinks import StreamInfo, make_sink

LAUNCH = TESTS / "fakes" / "launch.py"


def test_opens_sends_and_closes_on_the_runner_thread(fake_spout):
    runner = drive_sink(make_sink("spout:latentvj"), 12)
    assert (runner.written, runner.failures) == (12, 0)
    [sender] = fake_spout.senders
    assert sender.sent == 12 and sender.frame_syncs == 12 and sender.released
    assert sender.send_threads == {"sink-spout:latentvj"}  # the GL context's thread


def test_sending_from_another_thread_than_createOpenGL_is_refused(fake_spout):
    sink = make_sink("spout:x")
    sink.open(StreamInfo(64, 48, 30))
    import threading

    errors = []
    t = threading.Thread(target=lambda: _catch(errors, sink.write_frame, np.zeros((48, 64, 4), np.uint8), 0))
    t.start()
    t.join()
    assert "no OpenGL context" in str(errors[0])


def _catch(errors, fn, *args):
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)


@pytest.mark.parametrize("bad, error", [
    (np.zeros((48, 128, 4), np.uint8)[:, ::2], BufferError),  # not contiguous
    (np.zeros((24, 64, 4), np.uint8), BufferError),  # too small
    (np.zeros((48, 64, 4), np.float32), TypeError),  # floats
])
def test_buffers_the_wrapper_refuses(fake_spout, bad, error):
    sink = make_sink("spout:x")
    sink.open(StreamInfo(64, 48, 30))
    with pytest.raises(error):
        sink.write_frame(bad, 0)


def test_a_taken_name_is_a_clear_error_retried_with_backoff(fake_spout, fast_retry):
    fake_spout.taken.add("latentvj")
    runner = drive_sink(make_sink("spout:latentvj"), 5)
    assert runner.written == 0 and runner.failures == 1
    assert "another program may be using that sender name" in runner.last_error
    assert runner.dropped == 4  # the back-off, not a retry per frame


def test_falls_back_to_cpu_sharing_when_textures_cannot_be_shared(fake_spout):
    fake_spout.gldx_ready = False
    runner = drive_sink(make_sink("spout:x"), 5)
    assert (runner.written, runner.failures) == (5, 0)
    assert fake_spout.senders[0].getCPUshare()


def test_the_library_raising_mid_show_reopens(fake_spout, fast_retry):
    fake_spout.raise_after = 3
    import time

    from latentvj.daemon.sinks import SinkRunner

    runner = SinkRunner(make_sink("spout:x"), StreamInfo(64, 48, 30), queue_frames=16)
    runner.start()
    frame = np.zeros((48, 64, 4), np.uint8)
    for i in range(5):
        runner.put_frame(frame, i)
    time.sleep(0.3)
    fake_spout.raise_after = None
    for i in range(5, 8):
        runner.put_frame(frame, i)
    runner.stop()
    assert runner.failures == 1 and "device lost" in runner.last_error
    assert len(fake_spout.senders) == 2 and fake_spout.senders[1].sent == 3  # a fresh sender after the back-off


def test_after_release_nothing_more_is_sent(fake_spout):
    sink = make_sink("spout:x")
    sink.open(StreamInfo(64, 48, 30))
    sink.write_frame(np.zeros((48, 64, 4), np.uint8), 0)
    sink.close()
    with pytest.raises(AttributeError):  # our sink drops the sender: no send after stop can reach Spout
        sink.write_frame(np.zeros((48, 64, 4), np.uint8), 1)
    assert fake_spout.senders[0].released and fake_spout.senders[0].sent == 1


def test_several_sinks_at_once_one_failing_the_rest_and_osc_go_on(tmp_path, demo_show):
    """Spout (its name taken by another program), NDI (the real library) and a file, at one fps."""
    from daemon_process import Listener, mp4_frames

    listener = Listener()
    record, out = tmp_path / "spout.json", tmp_path / "set.mp4"
    try:
        r = subprocess.run([sys.executable, str(LAUNCH), "win32", str(record), "spout-taken=latentvj", "--",
                            "run", "--sink", "spout:latentvj", "--sink", "ndi:latentvj-test", "--sink", f"file:{out}",
                            "--duration", "3", "--fps", "15", "--size", "64x64", "--osc-in", f"127.0.0.1:{free_port()}",
                            "--osc-out", f"127.0.0.1:{listener.port}"],
                           capture_output=True, text=True, timeout=120)
    finally:
        listener.close()
    assert r.returncode == 0, r.stderr
    assert "published 45 frames" in r.stdout
    assert "sink ndi:latentvj-test written 45, dropped 0, failures 0" in r.stdout
    assert mp4_frames(out)[0] == 45
    assert 40 <= len(listener.latents) <= 45
    spout = next(line for line in r.stdout.splitlines() if line.startswith("sink spout"))
    assert "written 0" in spout and "another program may be using that sender name" in spout
    failures = int(spout.split("failures ")[1].split(",")[0])
    assert 1 <= failures <= 3  # back-off 1 s, 2 s, ...: not one per frame
    assert "retrying in" in r.stderr


def test_gpu_texture_with_a_cpu_decoder_says_so_and_sends_host_frames(tmp_path):
    record = tmp_path / "spout.json"
    r = subprocess.run([sys.executable, str(LAUNCH), "win32", str(record), "--",
                        "run", "--gpu-texture", "--duration", "1", "--fps", "15", "--size", "64x64",
                        "--osc-in", f"127.0.0.1:{free_port()}", "--osc-out", "127.0.0.1:9"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "--gpu-texture: no sink here takes cpu frames" in r.stderr
    [sender] = json.loads(record.read_text())["senders"]  # no --sink: Spout is the default on Windows
    assert sender["name"] == "latentvj" and sender["sent"] == 15 and sender["released"]
