"""OSCQuery's WebSocket with a plain client (the websockets package), on a real loopback port."""
import json
import os
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from fakes.manual_clock import ManualClock
from latentvj.daemon.control.osc_server import ControlDispatcher
from latentvj.daemon.control.oscquery import Namespace
from latentvj.daemon.control.state import Control
from latentvj.daemon.control.vocabulary import ControlHandlers
from latentvj.daemon.web.guard import Guard
from latentvj.daemon.web.hub import WebPage
from latentvj.daemon.web.live_values import LiveValues, page_nodes
from latentvj.daemon.web.preview import PreviewSink
from latentvj.daemon.web.server import WebServer
from latentvj.daemon.web.ws_session import MAX_PER_S


def osc(address, *args):
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def listen(ws, address, command="LISTEN"):
    ws.send(json.dumps({"COMMAND": command, "DATA": address}))


def until(ws, want, timeout=5.0):
    """The first message for which want(message) is true: OscMessage, or a dict for text frames."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            data = ws.recv(timeout=max(0.01, end - time.monotonic()))
        except TimeoutError:
            break
        m = json.loads(data) if isinstance(data, str) else OscMessage(data)
        if want(m):
            return m
    raise AssertionError("no such message")


def is_osc(address, test=lambda args: True):
    return lambda m: isinstance(m, OscMessage) and m.address == address and test(list(m.params))


def frames(preview, n, start=0):
    for k in range(start, start + n):
        preview.write_frame(np.full((32, 32, 4), k % 255, np.uint8), k)


@pytest.fixture()
def web(tmp_path, request):
    """A web server with the control handlers and no engine: (control, base URL, preview, server).
    With `@pytest.mark.parametrize("web", ["manual clock"], indirect=True)` its rate limits read a
    ManualClock (server.page.dispatcher.clock) that the test steps."""
    control = Control(3, tmp_path / "presets")
    handlers = ControlHandlers(control, lambda spec: spec)
    preview = PreviewSink(fps=1000)
    clock = ManualClock() if getattr(request, "param", None) == "manual clock" else time.monotonic
    page = WebPage(LiveValues(control, preview=preview), ControlDispatcher(handlers, clock), Guard(None, False), preview)
    server = WebServer(("127.0.0.1", 0), ("127.0.0.1", 9000), Namespace(control, page_nodes), page, advertise=False)
    server.start()
    yield control, "ws://%s:%d/" % server.http, preview, server
    server.stop()
    handlers.stop()


def test_listen_sends_the_value_now_and_each_change_and_ignore_stops_it(web):
    control, url, _, _ = web
    with connect(url) as ws:
        listen(ws, "/latentvj/scale")
        until(ws, is_osc("/latentvj/scale", lambda a: a == [1.0]))
        control.set_scale(2.5)
        until(ws, is_osc("/latentvj/scale", lambda a: a == [2.5]))
        listen(ws, "/latentvj/scale", "IGNORE")
        time.sleep(0.2)
        control.set_scale(3.0)
        with pytest.raises(AssertionError):
            until(ws, is_osc("/latentvj/scale"), timeout=0.5)


def test_osc_over_the_websocket_goes_through_the_control_handlers(web, tmp_path):
    control, url, _, _ = web
    with connect(url) as ws:
        ws.send(osc("/latentvj/ping"))
        until(ws, is_osc("/latentvj/pong"))
        ws.send(osc("/latentvj/bias/1", 0.75))
        ws.send(osc("/latentvj/preset/save", "web"))
        until(ws, is_osc("/latentvj/preset/saved"))  # slow work replies later, on the same socket
        assert control.snapshot().biases[1] == pytest.approx(0.75)
        assert (tmp_path / "presets" / "web.toml").is_file()
        ws.send(osc("/latentvj/bias/1", "loud"))
        until(ws, is_osc("/latentvj/error", lambda a: "expected f" in a[0]))
        listen(ws, "/latentvj/info/presets")
        until(ws, is_osc("/latentvj/info/presets", lambda a: a == ["web"]), timeout=5)


def test_path_changed_when_a_show_with_another_latent_size_arrives(web):
    control, url, _, _ = web
    with connect(url) as ws:
        listen(ws, "/latentvj/scale")
        until(ws, is_osc("/latentvj/scale"))
        control.reset(dim=5)
        assert until(ws, lambda m: isinstance(m, dict)) == {"COMMAND": "PATH_CHANGED", "DATA": "/"}
        listen(ws, "/latentvj/bias/4")
        until(ws, is_osc("/latentvj/bias/4", lambda a: a == [0.0]))


def test_the_preview_is_encoded_only_while_listened_to_and_a_client_can_drop_and_come_back(web):
    _, url, preview, server = web
    frames(preview, 5)
    assert preview.encoded == 0  # nobody watches: no JPEG is made
    with connect(url) as ws:
        listen(ws, "/latentvj/preview")
        deadline = time.monotonic() + 5
        while preview.watchers == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        frames(preview, 5, 5)
        m = until(ws, is_osc("/latentvj/preview"))
        index, wall, jpeg = m.params
        assert 5 <= index < 10 and abs(time.time() - wall) < 5 and jpeg[:2] == b"\xff\xd8"  # a JPEG
        # drop the connection mid-stream without a closing handshake
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.socket.close()
    deadline = time.monotonic() + 5
    while preview.watchers and time.monotonic() < deadline:
        frames(preview, 1, 10)
        time.sleep(0.05)
    assert preview.watchers == 0 and not server.hub.sessions
    with connect(url) as again:
        listen(again, "/latentvj/preview")
        until(again, is_osc("/latentvj/preview"))  # the newest frame at once
        frames(preview, 3, 20)
        until(again, is_osc("/latentvj/preview", lambda a: a[0] >= 20))


@pytest.mark.parametrize("web", ["manual clock"], indirect=True)
def test_bad_input_is_refused_with_a_reason_and_the_server_goes_on(web):
    control, url, _, server = web
    clock = server.page.dispatcher.clock
    with connect(url) as ws:
        ws.send("{not json")
        until(ws, is_osc("/latentvj/error", lambda a: "COMMAND" in a[0]))
        ws.send("[" * 60000)  # deeper than Python's recursion limit
        until(ws, is_osc("/latentvj/error", lambda a: "COMMAND" in a[0]))
        ws.send(json.dumps({"COMMAND": "SUBSCRIBE", "DATA": "/x"}))
        until(ws, is_osc("/latentvj/error", lambda a: "unknown COMMAND" in a[0]))
        ws.send(b"\x00\xff garbage \x13")
        until(ws, is_osc("/latentvj/error", lambda a: "malformed OSC packet" in a[0]))
        clock.advance(1.1)  # past the refusal limiter's second
        for k in range(1000):  # a thousand in no time at all
            ws.send(osc("/latentvj/bias/0", k / 1000))
        until(ws, is_osc("/latentvj/error", lambda a: f"more than {MAX_PER_S:.0f} messages a second" in a[0]))
        clock.advance(1.1)
        ws.send(osc("/latentvj/ping"))
        until(ws, is_osc("/latentvj/pong"))
    assert server.hub.too_fast > 0 and server.page.dispatcher.received < 1000


def test_oversized_messages_close_the_socket_not_the_server(web):
    _, url, _, _ = web
    with connect(url, max_size=None) as ws:
        ws.send(b"/" + b"x" * 70000)
        with pytest.raises(Exception):
            for _ in range(10):
                ws.recv(timeout=2)
    with connect(url) as ws:
        ws.send(osc("/latentvj/ping"))
        until(ws, is_osc("/latentvj/pong"))


def test_a_foreign_origin_a_rebinding_host_and_a_missing_token_are_refused(tmp_path):
    control = Control(3)
    handlers = ControlHandlers(control, lambda spec: spec)
    page = WebPage(LiveValues(control), ControlDispatcher(handlers), Guard("sesame-123", True))
    server = WebServer(("127.0.0.1", 0), ("127.0.0.1", 9000), Namespace(control, page_nodes), page, advertise=False)
    server.start()
    base = "%s:%d" % server.http
    try:
        for bad_url, headers in ((f"ws://{base}/", {}), (f"ws://{base}/?token=wrong", {}),
                                 (f"ws://{base}/?token=sesame-123", {"Origin": "http://evil.example"})):
            with pytest.raises(InvalidStatus) as info:
                connect(bad_url, additional_headers=headers, origin=headers.get("Origin"))
            assert info.value.response.status_code == 403
        with connect(f"ws://{base}/?token=sesame-123", origin=f"http://{base}") as ws:
            ws.send(osc("/latentvj/ping"))
            until(ws, is_osc("/latentvj/pong"))
        req = urllib.request.Request(f"http://{base}/", headers={"Host": "attacker.example:80"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=5)
        assert info.value.code == 403 and b"DNS rebinding" in info.value.read()
        page_req = urllib.request.Request(f"http://{base}/", headers={"Accept": "text/html"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(page_req, timeout=5)
        assert info.value.code == 403 and b"token" in info.value.read()
        ok = urllib.request.Request(f"http://{base}/?token=sesame-123", headers={"Accept": "text/html"})
        with urllib.request.urlopen(ok, timeout=5) as r:
            assert b"<title>latentvj</title>" in r.read()
    finally:
        server.stop()
        handlers.stop()


def bundle(*messages):
    b = OscBundleBuilder(IMMEDIATELY)
    for m in messages:
        b.add_content(m)
    return b.build().dgram


@pytest.mark.parametrize("web", ["manual clock"], indirect=True)
def test_a_bundle_costs_each_message_it_holds(web):
    control, url, _, server = web
    with connect(url) as ws:
        many = [OscMessageBuilder(address="/latentvj/bias/0") for _ in range(150)]
        for k, m in enumerate(many):
            m.add_arg(k / 1000)
        ws.send(bundle(*(m.build() for m in many)))  # more than a client may send at once
        until(ws, is_osc("/latentvj/error", lambda a: "a bundle counts each" in a[0]))
        assert control.snapshot().biases[0] == 0.0 and server.page.dispatcher.received == 0
        server.page.dispatcher.clock.advance(0.6)  # the budget refills
        few = OscMessageBuilder(address="/latentvj/bias/0")
        few.add_arg(0.25)
        ws.send(bundle(few.build()))
        ws.send(osc("/latentvj/ping"))
        until(ws, is_osc("/latentvj/pong"))
        assert control.snapshot().biases[0] == pytest.approx(0.25)


def test_a_long_listen_path_is_refused_and_names_that_are_not_utf8_do_not_stop_the_page(web, tmp_path):
    control, url, _, _ = web
    with connect(url) as ws:
        listen(ws, "/" + "x" * 300)
        until(ws, is_osc("/latentvj/error", lambda a: "at most 256 bytes" in a[0]))
        (tmp_path / "presets").mkdir()
        os.close(os.open(os.fsencode(tmp_path / "presets") + b"/caf\xe9.toml", os.O_CREAT | os.O_WRONLY))
        listen(ws, "/latentvj/info/presets")
        listen(ws, "/latentvj/scale")
        until(ws, is_osc("/latentvj/info/presets", lambda a: a == ["caf\ufffd"]), timeout=5)
        control.set_scale(0.5)
        until(ws, is_osc("/latentvj/scale", lambda a: a == [0.5]))
