"""OSCQuery JSON from real HTTP GETs on loopback, in process and from the running daemon."""
import json
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import free_port
from daemon_process import LATENTVJ, wait_ready
from latentvj.daemon.audio.music_analysis import EVENTS
from latentvj.daemon.audio.music_features import MUSIC_FEATURE_NAMES
from latentvj.daemon.control.oscquery import Namespace
from latentvj.daemon.control.state import Control
from latentvj.daemon.control.vocabulary import ADDRESSES, RANGES
from latentvj.daemon.web.server import WebServer


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture()
def query():
    control = Control(3)
    q = WebServer(("127.0.0.1", 0), ("127.0.0.1", 9000), Namespace(control), advertise=False)
    q.start()
    yield control, "http://%s:%d" % q.http
    q.stop()


def test_the_whole_address_space_with_types_ranges_and_current_values(query):
    control, base = query
    control.set_scale(2.0)
    control.set_dim_bias(2, -1.5)
    control.set_freeze(1)
    tree = get(base, "/")["CONTENTS"]["latentvj"]["CONTENTS"]
    served = set()

    def walk(node):
        if "TYPE" in node or "ACCESS" in node:
            served.add(node["FULL_PATH"])
        for child in node.get("CONTENTS", {}).values():
            walk(child)

    for node in tree.values():
        walk(node)
    wanted = {a.replace("<i>", str(i)) for a, *_ in ADDRESSES for i in range(3)}
    assert wanted <= served
    scale = get(base, "/latentvj/scale")
    assert scale["VALUE"] == [2.0] and scale["TYPE"] == "f" and scale["ACCESS"] == 3
    assert scale["RANGE"] == [{"MIN": RANGES["/latentvj/scale"][0], "MAX": RANGES["/latentvj/scale"][1]}]
    assert get(base, "/latentvj/bias/2?VALUE") == {"VALUE": [-1.5]}
    assert get(base, "/latentvj/freeze")["VALUE"] == [1]
    assert get(base, "/latentvj/permute")["TYPE"] == "iii"
    assert get(base, "/latentvj/show")["TYPE"] == "sf" and get(base, "/latentvj/reset")["ACCESS"] == 0
    info = get(base, "/?HOST_INFO")
    assert info["OSC_PORT"] == 9000 and info["OSC_TRANSPORT"] == "UDP" and info["EXTENSIONS"]["RANGE"]
    with pytest.raises(urllib.error.HTTPError, match="404"):
        get(base, "/latentvj/nothing")


def test_the_outputs_are_listed_read_only_with_their_types(query):
    _, base = query
    latent = get(base, "/latentvj/latent")
    assert latent["TYPE"] == "fff" and latent["ACCESS"] == 1 and "sent to --osc-out" in latent["DESCRIPTION"]
    features = get(base, "/latentvj/features")
    assert features["TYPE"] == "f" * 18 and features["ACCESS"] == 1
    assert features["DESCRIPTION"].endswith(", ".join(MUSIC_FEATURE_NAMES))
    assert get(base, "/latentvj/beat")["TYPE"] == "fff" and get(base, "/latentvj/status")["TYPE"] == "ffi"
    for event in EVENTS:
        node = get(base, f"/latentvj/onset/{event}")
        assert node["ACCESS"] == 0 and "TYPE" not in node


def test_a_show_with_another_latent_size_rebuilds_the_tree(query):
    control, base = query
    control.reset(dim=5)
    assert get(base, "/latentvj/bias/4?VALUE") == {"VALUE": [0.0]}


def test_the_daemon_serves_it_on_loopback_and_a_taken_port_does_not_stop_it(port):
    http = free_port()
    proc = subprocess.Popen([*LATENTVJ, "run", "--sink", "null", "--duration", "8", "--osc-in", f"127.0.0.1:{port}",
                             "--oscquery", f"127.0.0.1:{http}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_ready(port)
        info = get(f"http://127.0.0.1:{http}", "/?HOST_INFO")
        assert info["OSC_PORT"] == port and info["NAME"] == "latentvj"
        assert get(f"http://127.0.0.1:{http}", "/latentvj/scale?VALUE") == {"VALUE": [1.0]}
        second = subprocess.run([*LATENTVJ, "run", "--sink", "null", "--duration", "1", "--osc-in",
                                 f"127.0.0.1:{free_port()}", "--oscquery", f"127.0.0.1:{http}"],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 0 and "OSCQuery: cannot listen" in second.stderr
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
