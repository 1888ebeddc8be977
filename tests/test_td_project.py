"""td_project/build.py against the strict fake `td`, and the panel's OSC contract with the daemon."""
import re
import runpy
import socket
import sys
import time

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from conftest import REPO, eventually
from fakes.td_fake import TDError, check_network, make_td, tomllib
from latentvj.daemon.control.osc_out import OscOut
from latentvj.daemon.control.osc_server import ControlDispatcher, ControlServer
from latentvj.daemon.control.state import Control
from latentvj.daemon.control.vocabulary import ADDRESSES, ControlHandlers

TD_DIR = REPO / "td_project"
DIMS = 4


@pytest.fixture()
def td(monkeypatch):
    fake = make_td()
    monkeypatch.setitem(sys.modules, "td", fake)
    return fake


@pytest.fixture()
def builder(td):
    """build.py's globals, loaded as the Textport would but without building."""
    return runpy.run_path(str(TD_DIR / "build.py"), init_globals={"LATENTVJ_NO_BUILD": True})


def snapshot(comp):
    nodes = {}
    for name, node in sorted(comp.children.items()):
        pars = {p: (v.expr, v.val) for p, v in node.par._pars.items()}
        wires = [c.connections[0].name if c.connections else None for c in node.inputConnectors]
        nodes[name] = (node.OPType, pars, wires, node.text, [[c.val for c in r] for r in node.rows])
    custom = {n: p.val for n, p in comp.par._pars.items()}
    return nodes, custom


class Channel:
    def __init__(self, name):
        self.name = name


def test_the_textport_one_liner_builds_a_network_touchdesigner_would_accept(td):
    exec(open(TD_DIR / "build.py").read(), {"LATENTVJ_DIMS": DIMS})
    comp = td.op("/project1/latentvj")
    check_network(comp)
    spec = runpy.run_path(str(TD_DIR / "build.py"), init_globals={"LATENTVJ_NO_BUILD": True})["NODES"]
    assert set(comp.children) == set(spec)
    for name, (cls, inputs, *_rest) in spec.items():
        node = comp.op(name)
        assert node.OPType == cls
        assert [c.connections[0].name for c in node.inputConnectors if c.connections] == inputs
    assert [f"Bias{i}" for i in range(DIMS)] == [n for n in comp.par._pars if n.startswith("Bias")]
    assert comp.op("video_in").par.sendername.eval() == "latentvj"
    assert comp.op("feedback").par.top.val == "/project1/latentvj/trail"
    assert comp.op("latent_in").par.port.eval() == 9001 and comp.op("status_in").par.port.eval() == 9002
    assert comp.op("osc_out").par.address.eval() == "127.0.0.1" and comp.op("osc_out").par.port.eval() == 9000


def test_rebuilding_updates_in_place_and_keeps_the_performers_values(td, builder):
    comp = builder["build"]("/project1", DIMS)
    first = snapshot(comp)
    comp.par.Decay = 0.5
    comp.op("midi_map").rows[1][1].val = "Blend"  # the performer re-routed c1
    builder["build"]("/project1", DIMS)
    nodes, custom = snapshot(comp)
    assert custom["Decay"] == 0.5 and nodes["midi_map"][4][1][1] == "Blend"
    comp.par.Decay = first[1]["Decay"]
    comp.op("midi_map").rows[1][1].val = "Scale"
    assert snapshot(comp) == first
    # operators an older version made and the spec dropped go; a changed class is replaced
    comp.create(td.nullTOP, "old_extra")
    comp.store("latentvj_nodes", comp.fetch("latentvj_nodes") + ["old_extra"])
    comp.op("out").destroy()
    comp.create(td.levelTOP, "out")
    builder["build"]("/project1", DIMS)
    assert comp.op("old_extra") is None and comp.op("out").OPType == "nullTOP"
    assert comp.op("window").par.winop.val == "/project1/latentvj/out"
    check_network(comp)


@pytest.mark.parametrize("edit, error", [
    (lambda n: n.__setitem__("x", ("noSuchTOP", [], {}, None, (0, 0))), "noSuchTOP"),
    (lambda n: n["level"][2].__setitem__("brightnes1", 1.0), "no such parameter"),
    (lambda n: n.__setitem__("trail", ("compositeTOP", ["video_in", "latent"], {}, None, (0, 0))), "cannot wire CHOP"),
    (lambda n: n["out"][1].append("level"), "index out of range"),
    (lambda n: n["trail"][2].__setitem__("operand", "glow"), "not one of"),
    (lambda n: n["decay"][2].__setitem__("opacity", "=parent().par.Fade"), "does not have"),
    (lambda n: n.__setitem__("panel_exec", n["panel_exec"][:3] + ("def onPulse(p, x):\n    pass\n",)
                             + n["panel_exec"][4:]), "onPulse must take (par)"),
])
def test_the_fake_refuses_what_touchdesigner_would(builder, edit, error):
    nodes = {k: (v[0], list(v[1]), dict(v[2]), v[3], v[4]) for k, v in builder["NODES"].items()}
    edit(nodes)
    builder["NODES"].clear()
    builder["NODES"].update(nodes)
    if "panel_exec" in nodes and nodes["panel_exec"][3].startswith("def onPulse(p"):
        builder["build"].__globals__["PANEL_CALLBACKS"] = nodes["panel_exec"][3]  # run_path returns a copy
    with pytest.raises((TDError, AttributeError, KeyError, IndexError), match=re.escape(error)):
        builder["build"]("/project1", DIMS)


@pytest.mark.parametrize("name", ["scale", "Latent_scale", "2x", "LatentScale"])
def test_custom_parameter_names_touchdesigner_refuses(builder, name):
    builder["PAGES"].append(("Extra", [(name, "Float", 0.0, 0.0, 1.0, "x")]))
    with pytest.raises(TDError, match="capital letter"):
        builder["build"]("/project1", DIMS)


def test_every_confirm_item_is_listed_in_the_readme():
    api = tomllib.loads((TD_DIR / "td_api.toml").read_text())
    readme = (TD_DIR / "README.md").read_text()
    guesses = [name for name, spec in api["ops"].items() if spec["seen"] == "guess"]
    assert guesses and all(f"`{g}`" in readme for g in guesses)
    assert all(spec["source"].startswith("https://derivative.ca/UserGuide/") for spec in api["ops"].values())


def _daemon(port):
    control = Control(DIMS)
    shows = []
    takes = []  # what /latentvj/record asked for

    def record(on, reply=None):
        takes.append(on)
        return ("/latentvj/record/state", int(on), "take")

    server = ControlServer(("127.0.0.1", port), ControlDispatcher(ControlHandlers(control, shows.append,
                                                                                record=record)))
    server.takes = takes
    server.start()
    return control, shows, server


def test_every_panel_message_is_one_the_daemon_accepts(builder, tmp_path, port):
    """Play every panel control (and a MIDI fader) in the fake, send what the OSC Out DAT was
    asked to send to the daemon's real server on loopback, and check the daemon took it."""
    comp = builder["build"]("/project1", DIMS)
    osc_out = comp.op("osc_out")
    comp.par.Scale = 2.5
    comp.par.Bias3 = -1.25
    comp.par.Smooth = 0.4
    comp.par.Noise = 0.3
    comp.par.Show = "myshow"
    comp.par.Loadshow.pulse()
    comp.par.Presetname = "verse"
    comp.par.Presetmorph = 2.0
    comp.par.Presetsave.pulse()
    comp.par.Presetload.pulse()
    comp.par.Freeze = True
    comp.par.Record = True
    comp.par.Sync.pulse()
    comp.par.Reset.pulse()
    comp.op("midi_exec").module["onValueChange"](Channel("c2"), 0, 0.5, 0.0)  # Noise 0..2
    comp.op("midi_exec").module["onValueChange"](Channel("n36"), 0, 1.0, 0.0)  # Freeze on
    comp.op("midi_exec").module["onValueChange"](Channel("c99"), 0, 1.0, 0.0)  # not mapped: nothing
    sent = osc_out.sent
    addresses = {a for a, _ in sent}
    expected = {a.format(i=i) for a, _, _ in builder["MESSAGES"].values() for i in range(DIMS)}
    assert expected - {f"/latentvj/bias/{i}" for i in range(DIMS) if i != 3} <= addresses
    assert ("/latentvj/noise", [1.0]) == sent[-2] and ("/latentvj/freeze", [1]) == sent[-1]

    control, shows, server = _daemon(port)
    control.preset_dir = tmp_path
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.15)
    try:
        replies = []
        for address, values in sent[:-2]:  # up to and including Reset
            b = OscMessageBuilder(address=address)
            for v in values:
                b.add_arg(v)
            sock.sendto(b.build().dgram, ("127.0.0.1", port))
            try:
                replies.append(OscMessage(sock.recvfrom(65536)[0]).address)
            except socket.timeout:
                pass
        deadline = time.monotonic() + 2
        while server.dispatcher.received < len(sent) - 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.dispatcher.errors == 0, replies
        assert "/latentvj/preset/saved" in replies and "/latentvj/preset/loaded" in replies
        assert shows == ["myshow"] and (tmp_path / "verse.toml").is_file()
        assert eventually(lambda: server.takes == [True])  # the toggle once: Sync and Reset leave recording alone
        saved = (tmp_path / "verse.toml").read_text()
        assert "2.5" in saved and "-1.25" in saved
        v = control.snapshot()
        assert v.scale == 1.0 and v.biases[3] == 0.0 and not v.freeze  # Reset came last
        assert comp.par.Scale.val == 1.0 and comp.par.Bias3.val == 0.0  # and the panel followed
    finally:
        sock.close()
        server.stop()


def test_the_daemons_status_reaches_the_panel(builder, port):
    comp = builder["build"]("/project1", DIMS)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", port))
    rx.settimeout(2.0)
    out = OscOut([("127.0.0.1", port)], fps=30, latent_rate=0, features_rate=0, status_rate=30)
    try:
        out.publish(0, np.zeros(DIMS, np.float32), np.zeros(0, np.float32), (29.97, 81.4, 3))
        msg = OscMessage(rx.recvfrom(65536)[0])
    finally:
        rx.close()
        out.close()
    callbacks = comp.op(comp.op("status_in").par.callbacks.val).module
    callbacks["onReceiveOSC"](None, 1, "", b"", 0.0, msg.address, list(msg.params), ("127.0.0.1", 0))
    assert comp.par.Status.val == "30.0 fps, 81 ms latency, 3 dropped"


def test_onsets_features_and_beat_reach_the_network(builder, port):
    from latentvj.daemon.audio.music_analysis import EVENTS

    assert builder["ONSET_EVENTS"] == EVENTS
    comp = builder["build"]("/project1", DIMS)
    assert comp.op("features_select").par.channames.val == "*vj/features*"
    assert comp.op("beat_select").par.channames.val == "*vj/beat*"
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", port))
    rx.settimeout(2.0)
    out = OscOut([("127.0.0.1", port)], fps=30, latent_rate=0, features_rate=0, status_rate=0, onset_events=True)
    try:
        out.events(0b0010)  # a kick
        out.events(0b0011)  # a beat and a kick
        msgs = [OscMessage(rx.recvfrom(65536)[0]) for _ in range(3)]
    finally:
        rx.close()
        out.close()
    callbacks = comp.op(comp.op("status_in").par.callbacks.val).module
    for msg in msgs:
        callbacks["onReceiveOSC"](None, 1, "", b"", 0.0, msg.address, list(msg.params), ("127.0.0.1", 0))
    table = comp.op("onsets")
    counts = {table[r, 0].val: table[r, 1].val for r in range(1, table.numRows)}
    assert counts == {"beat": "1", "kick": "2", "snare": "0", "hat": "0"}
    builder["build"]("/project1", DIMS)  # a rebuild keeps the counts
    assert comp.op("onsets")[2, 1].val == "2"


def test_panel_addresses_are_in_the_daemons_table(builder):
    table = {a.path for a in ADDRESSES}
    for address, kind, _ in builder["MESSAGES"].values():
        assert address.replace("{i}", "<i>") in table
        types = next(a.types for a in ADDRESSES if a.path == address.replace("{i}", "<i>"))
        assert kind in (types, types.replace("[", "").replace("]", ""))  # optional arguments sent


def test_the_panel_has_as_many_bias_sliders_as_the_running_daemons_show(builder, free_oscquery):
    """The builder asks the daemon's OSCQuery JSON for the latent size; without a daemon, the demo's."""
    from latentvj.daemon.control.oscquery import Namespace
    from latentvj.daemon.web.server import WebServer

    assert builder["pick_dims"](None, free_oscquery) == (32, f"no daemon at {free_oscquery}: the demo's")
    server = WebServer(("127.0.0.1", 0), ("127.0.0.1", 9000), Namespace(Control(5), lambda dim: []), advertise=False)
    server.start()
    try:
        where = "%s:%d" % server.http
        assert builder["daemon_dims"](where) == 5
        assert builder["pick_dims"](None, where) == (5, f"the daemon at {where}")
        assert builder["pick_dims"](7, where) == (7, "LATENTVJ_DIMS")
        comp = builder["build"]("/project1", builder["pick_dims"](None, where)[0])
        assert [f"Bias{i}" for i in range(5)] == [n for n in comp.par._pars if n.startswith("Bias")]
    finally:
        server.stop()


@pytest.fixture()
def free_oscquery():
    """HOST:PORT where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "127.0.0.1:%d" % s.getsockname()[1]
