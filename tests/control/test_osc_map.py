"""OSC output maps: loading with file:line errors, values, and real UDP on loopback."""
import socket

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from conftest import REPO, eventually
from latentvj.daemon.audio.features import FEATURE_NAMES
from latentvj.daemon.control.osc_map import MapError, load_map
from latentvj.daemon.control.osc_out import OscOut

EXAMPLE = REPO / "examples" / "resolume.toml"

GOOD = """target = "127.0.0.1:{port}"
rate = 30

[[route]]
source = "latent/1"
address = "/composition/layers/1/video/opacity"
in = [-2.0, 2.0]
out = [0.0, 1.0]

[[route]]
source = "feature/loudness"
address = "/composition/layers/2/video/opacity"
in = [-60.0, 0.0]
out = [1.0, 0.0]
curve = "square"
"""


def write(tmp_path, text, name="map.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_the_shipped_resolume_example_loads():
    m = load_map(EXAMPLE, latent_dim=8)
    assert m.target == ("127.0.0.1", 7000) and len(m.routes) == 4


def test_values_are_scaled_curved_and_clamped(tmp_path):
    m = load_map(write(tmp_path, GOOD.format(port=7000)), latent_dim=8)
    latent = np.zeros(8, np.float32)
    features = np.zeros(len(FEATURE_NAMES), np.float32)
    latent[1], features[0] = 1.0, -30.0
    assert m.values(latent, features) == [("/composition/layers/1/video/opacity", 0.75),
                                          ("/composition/layers/2/video/opacity", 0.75)]  # 1 - 0.5**2
    latent[1], features[0] = 9.0, -90.0
    assert [v for _, v in m.values(latent, features)] == [1.0, 1.0]
    assert len(m.values(np.zeros(1, np.float32), features)) == 1  # a show with fewer dims: route skipped


@pytest.mark.parametrize("edit, line, message", [
    (lambda t: t.replace("in = [-2.0, 2.0]", "in = [0.5, 0.5]"), 7, "min = max"),
    (lambda t: t.replace('"latent/1"', '"latent/9"'), 5, "8 dimensions"),
    (lambda t: t.replace('"feature/loudness"', '"feature/loudnes"'), 11, "did you mean 'feature/loudness'"),
    (lambda t: t.replace('address = "/composition/layers/2', 'address = "composition/layers/2'), 12, "must start with '/'"),
    (lambda t: t.replace('curve = "square"', 'curve = "cubic"'), 15, "not one of linear"),
    (lambda t: t.replace('curve = "square"', 'curev = "square"'), 15, "did you mean 'curve'"),
    (lambda t: t.replace("rate = 30", "rate = 0"), 2, "above 0"),
    (lambda t: t.replace('target = "127.0.0.1:{port}"', 'target = "127.0.0.1"'), 1, "HOST:PORT"),
    (lambda t: t.replace('out = [1.0, 0.0]\n', ''), 10, "'out' is missing"),
])
def test_mistakes_name_the_file_and_line(tmp_path, edit, line, message):
    path = write(tmp_path, edit(GOOD).format(port=7000))
    with pytest.raises(MapError, match=message) as err:
        load_map(path, latent_dim=8)
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_a_syntax_error_gives_the_toml_line(tmp_path):
    path = write(tmp_path, GOOD.format(port=7000).replace('curve = "square"', 'curve = "square'))
    with pytest.raises(MapError, match=r"not valid TOML: .*line 15"):
        load_map(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(MapError, match="cannot read the OSC map"):
        load_map(tmp_path / "nope.toml")


def test_routes_reach_their_host_over_udp(tmp_path):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    m = load_map(write(tmp_path, GOOD.format(port=sock.getsockname()[1]).replace("rate = 30", "rate = 15")), 8)
    out = OscOut([], fps=30, latent_rate=30, features_rate=30, status_rate=2, maps=[m])
    latent, features = np.full(8, 1.0, np.float32), np.full(len(FEATURE_NAMES), -30.0, np.float32)
    for frame in range(4):  # rate 15 at 30 fps: frames 0 and 2
        out.publish(frame, latent, features, (30.0, 60.0, 0))
    got = []
    try:
        while True:
            msg = OscMessage(sock.recvfrom(1024)[0])
            got.append((msg.address, msg.params[0]))
    except socket.timeout:
        pass
    finally:
        sock.close()
        out.close()
    assert got == [("/composition/layers/1/video/opacity", 0.75), ("/composition/layers/2/video/opacity", 0.75)] * 2


def test_a_bad_map_stops_the_daemon_at_start_with_file_and_line(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, GOOD.format(port=7000).replace("in = [-2.0, 2.0]", "in = [1, 1]"))
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "run", "--osc-map", str(path), "--duration", "1",
                        "--sink", "null"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and f"{path}:7: route 1: 'in' = [1, 1] has min = max" in r.stderr


def test_reload_keeps_the_running_map_when_the_new_one_is_bad(tmp_path):
    import subprocess
    import sys

    from conftest import free_port
    from daemon_process import Listener, wait_ready

    listener = Listener()
    path = write(tmp_path, GOOD.format(port=listener.port))
    osc_in = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "latentvj.daemon.cli", "run", "--osc-map", str(path),
                             "--duration", "8", "--sink", "null", "--fps", "15", "--size", "64x64",
                             "--osc-in", f"127.0.0.1:{osc_in}", "--osc-out", "127.0.0.1:9"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(osc_in)
        path.write_text(GOOD.format(port=listener.port).replace('"latent/1"', '"latent/99"'))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5.0)
        sock.sendto(OscMessageBuilder("/latentvj/map/reload").build().dgram, ("127.0.0.1", osc_in))
        error = OscMessage(sock.recvfrom(4096)[0])
        def sent() -> int:
            return len(listener.other.get("/composition/layers/1/video/opacity", []))

        before = sent()
        kept_sending = eventually(lambda: sent() - before >= 10)  # the old map goes on (15 fps, every frame)
        path.write_text(GOOD.format(port=listener.port).replace("/layers/1/", "/layers/5/"))
        sock.sendto(OscMessageBuilder("/latentvj/map/reload").build().dgram, ("127.0.0.1", osc_in))
        ok = OscMessage(sock.recvfrom(4096)[0])
        eventually(lambda: "/composition/layers/5/video/opacity" in listener.other)
        sock.close()
    finally:
        proc.kill()
        proc.communicate()
        listener.close()
    assert error.address == "/latentvj/error" and "latent/99" in error.params[0] and "previous maps stay" in error.params[0]
    assert kept_sending
    assert ok.address == "/latentvj/map/reloaded" and str(path) in ok.params[0]
    assert "/composition/layers/5/video/opacity" in listener.other
