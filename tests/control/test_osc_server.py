"""OSC control in over real UDP on loopback: controls, presets, refusals with replies, timetags, floods, the allow-list."""
import socket
import struct
import time

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from latentvj.daemon.control.osc_server import ControlDispatcher, ControlServer
from latentvj.daemon.control.state import Control, ControlError
from latentvj.daemon.control.vocabulary import ControlHandlers


def msg(address, *args):
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


class Rig:
    def __init__(self, port, allow=None):
        self.control = Control(4)
        self.shows = []

        def switch(spec):
            if spec == "bad":
                raise ControlError("show: bad: no such show bundle")
            self.shows.append(spec)

        self.server = ControlServer(("127.0.0.1", port), ControlDispatcher(ControlHandlers(self.control, switch)), allow)
        self.server.start()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.addr = ("127.0.0.1", port)

    def send(self, dgram):
        self.sock.sendto(dgram, self.addr)

    def reply(self):
        data, _ = self.sock.recvfrom(65536)
        return OscMessage(data)

    def close(self):
        self.server.stop()
        self.sock.close()


@pytest.fixture()
def rig(port):
    r = Rig(port)
    yield r
    r.close()


def test_controls_take_effect_and_ping_answers(rig):
    rig.send(msg("/latentvj/scale", 0.5))
    rig.send(msg("/latentvj/scale/2", 3.0))
    rig.send(msg("/latentvj/bias/1", -0.25))
    rig.send(msg("/latentvj/smooth", 0.1))
    rig.send(msg("/latentvj/noise", 0.2))
    rig.send(msg("/latentvj/freeze", 1))
    rig.send(msg("/latentvj/permute", 3, 2, 1, 0))
    rig.send(msg("/latentvj/show", "other"))
    rig.send(msg("/latentvj/ping"))
    assert rig.reply().address == "/latentvj/pong"
    v = rig.control.snapshot()
    assert v.scale == 0.5 and v.scales[2] == 3.0 and v.biases[1] == -0.25 and v.freeze
    assert v.smooth == pytest.approx(0.1) and v.noise == pytest.approx(0.2)
    assert list(v.permutation) == [3, 2, 1, 0] and rig.shows == ["other"]


def test_presets_over_osc(rig, tmp_path):
    rig.control.preset_dir = tmp_path
    rig.send(msg("/latentvj/scale", 0.25))
    rig.send(msg("/latentvj/preset/save", "a"))
    assert rig.reply().address == "/latentvj/preset/saved"
    rig.send(msg("/latentvj/scale", 1.0))
    rig.send(msg("/latentvj/preset/load", "a"))
    assert rig.reply().address == "/latentvj/preset/loaded"
    assert rig.control.snapshot().scale == 0.25


BAD = {
    "truncated": msg("/latentvj/scale", 1.0)[:-3],
    "garbage": b"\x00\x01\x02\x03garbage",
    "non-utf8 address": b"/latentvj/\xff\xfe\x00\x00,f\x00\x00" + struct.pack(">f", 1.0),
    "wrong type": msg("/latentvj/scale", "loud"),
    "wrong count": msg("/latentvj/scale", 1.0, 2.0),
    "no args": msg("/latentvj/scale"),
    "nan": msg("/latentvj/scale", float("nan")),
    "inf": msg("/latentvj/bias/0", float("inf")),
    "dimension out of range": msg("/latentvj/scale/99", 1.0),
    "negative dimension": msg("/latentvj/bias/-1", 1.0),
    "unknown address": msg("/latentvj/warp", 1.0),
    "bad show": msg("/latentvj/show", "bad"),
    "freeze 7": msg("/latentvj/freeze", 7),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_messages_get_an_error_reply_and_change_nothing(rig, name):
    before = rig.control.snapshot()
    rig.send(BAD[name])
    reply = rig.reply()
    assert reply.address == "/latentvj/error"
    assert isinstance(reply.params[0], str) and reply.params[0]
    after = rig.control.snapshot()
    assert after.scale == before.scale and np.array_equal(after.biases, before.biases)
    # the server is still there
    rig.send(msg("/latentvj/ping"))
    assert rig.reply().address == "/latentvj/pong"


def test_future_timetag_is_handled_now(rig):
    b = OscBundleBuilder(time.time() + 3600)
    b.add_content(OscMessageBuilder("/latentvj/scale").build())
    m = OscMessageBuilder("/latentvj/scale")
    m.add_arg(0.75)
    bundle = OscBundleBuilder(time.time() + 3600)
    bundle.add_content(m.build())
    rig.send(bundle.build().dgram)
    rig.send(msg("/latentvj/ping"))
    t = time.monotonic()
    assert rig.reply().address == "/latentvj/pong"
    assert time.monotonic() - t < 1.5
    assert rig.control.snapshot().scale == 0.75


def test_a_flood_of_bad_messages_is_rate_limited(rig):
    for _ in range(500):
        rig.send(msg("/latentvj/scale", float("nan")))
    time.sleep(0.2)  # UDP may drop part of a burst in the kernel; what arrives is handled
    rig.send(msg("/latentvj/scale", 0.5))
    rig.sock.settimeout(0.5)
    errors = 0
    try:
        while True:
            if rig.reply().address == "/latentvj/error":
                errors += 1
    except socket.timeout:
        pass
    assert 0 < errors <= 2 * 20  # at most MAX_ERRORS_PER_S a second (two windows at worst)
    assert rig.control.snapshot().scale == 0.5  # the server is not stalled by the flood
    assert rig.server.dispatcher.errors >= 100  # they arrived and were counted, not all answered


def test_allow_list_drops_other_senders(port):
    r = Rig(port, allow=["127.0.0.2"])
    try:
        r.send(msg("/latentvj/scale", 0.1))
        r.send(msg("/latentvj/ping"))
        with pytest.raises(socket.timeout):
            r.sock.settimeout(0.5)
            r.reply()
        assert r.control.snapshot().scale == 1.0 and r.server.refused_senders == 2
    finally:
        r.close()
