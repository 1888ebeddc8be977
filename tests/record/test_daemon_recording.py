"""Recording from the daemon: `--record` from the start (and what a kill -9 leaves), and
`/latentvj/record 1|0` over OSC."""
from __future__ import annotations

import signal
import socket
import subprocess
import time

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from conftest import CPU, eventually, free_port
from daemon_process import LATENTVJ, wait_ready
from latentvj.daemon.engine.replay import replay
from latentvj.daemon.record.take import Take
from record.live_take import MemorySink


def send(sock: socket.socket, port: int, address: str, *args) -> None:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    sock.sendto(b.build().dgram, ("127.0.0.1", port))


def replies(sock: socket.socket, address: str, timeout: float = 20.0) -> tuple:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            msg = OscMessage(sock.recvfrom(65536)[0])
        except socket.timeout:
            continue
        if msg.address == address:
            return tuple(msg.params)
    raise AssertionError(f"no {address} reply")


def daemon(track_wav, port: int, *flags):
    return subprocess.Popen([*LATENTVJ, "run", "--input", str(track_wav), "--loop", "--sink", "null", "--osc-in",
                             f"127.0.0.1:{port}", "--oscquery", "off", "--device", "cpu", "--size", "64x64",
                             *map(str, flags)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_take_killed_mid_set_replays_up_to_its_last_flush(track_wav, tmp_path):
    port = free_port()
    proc = daemon(track_wav, port, "--record", tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        wait_ready(port)
        send(sock, port, "/latentvj/bias/0", 1.5)
        send(sock, port, "/latentvj/noise", 0.3)
        takes = list(tmp_path.iterdir())
        assert len(takes) == 1
        assert eventually(lambda: len(list((takes[0] / "audio").glob("*.flac"))) >= 3, 30)
    finally:
        proc.send_signal(signal.SIGKILL)  # no goodbye: what a crash or a power cut leaves
        proc.wait(10)
        sock.close()
    take = Take.open(takes[0])
    assert not take.clean
    info = take.info()
    assert "did NOT end cleanly" in info and "/latentvj/bias/<i> 1" in info and "/latentvj/noise 1" in info
    sink = MemorySink()
    result = replay(take, CPU, [sink])
    assert result.frames >= 2 * 30 and len(sink.frames) == result.frames


def test_record_over_osc_starts_and_ends_a_take(track_wav, tmp_path):
    port = free_port()
    proc = daemon(track_wav, port, "--record-dir", tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    try:
        wait_ready(port)
        send(sock, port, "/latentvj/record", 1)
        on, folder = replies(sock, "/latentvj/record/state")
        assert on == 1 and folder.startswith(str(tmp_path))
        send(sock, port, "/latentvj/scale", 2.0)
        assert eventually(lambda: len(list((tmp_path / folder).glob("audio/*.flac"))) >= 1, 30)
        send(sock, port, "/latentvj/record", 0)
        off, same = replies(sock, "/latentvj/record/state")
        assert off == 0 and same == folder
        send(sock, port, "/latentvj/record", 7)
        assert "expected 1 (start) or 0 (stop)" in replies(sock, "/latentvj/error")[0]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        sock.close()
    take = Take.open(folder)
    assert take.clean and "/latentvj/scale 1" in take.info()
    assert len(take.frames) >= 30
    sink = MemorySink()  # a take started mid-set replays from its start (its shows' streams start fresh there)
    assert replay(take, CPU, [sink]).frames == len(take.frames) == len(sink.frames)
