"""The web server: OSCQuery's JSON over HTTP, its WebSocket (LISTEN / IGNORE / PATH_CHANGED,
OSC both ways) and the page, on one port (default http://127.0.0.1:9010/).

aiohttp serves all three from one asyncio loop on its own thread: it does HTTP and WebSockets
in one maintained library with no second server package (starlette would need uvicorn and a
WebSocket library beside it). Nothing here is on the render thread: the page reads values the
engine replaces whole, and the preview is a sink with its own thread (preview.py).

GET / answers a browser (Accept: text/html) with the page and anyone else with the OSCQuery
tree; GET /?HOST_INFO and /latentvj/...?VALUE are OSCQuery's; an Upgrade: websocket on any path
is the WebSocket.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path

from aiohttp import web
from pythonoscquery.shared.osc_host_info import OSCHostInfo

from ..control.oscquery import Namespace, advertise
from .hub import Hub, WebPage
from .ws_session import Session

log = logging.getLogger("latentvj.web")

PAGE_DIR = Path(__file__).parent / "page"
PAGE_FILES = {"index.html": "text/html", "app.js": "text/javascript", "osc.js": "text/javascript",
              "style.css": "text/css"}
MAX_CLIENTS = 16
MAX_MESSAGE = 65507  # bytes in one WebSocket message: what one UDP OSC datagram can hold


class WebServer:
    """HTTP and WebSocket on `http` (HOST, PORT); advertises the OSC control port `osc` as `name`.
    Binds at construction (OSError when the port is taken), serves from `start`."""

    def __init__(self, http: tuple[str, int], osc: tuple[str, int], namespace: Namespace, page: WebPage | None = None,
                 name: str = "latentvj", advertise: bool = True) -> None:
        extensions = {"ACCESS": True, "VALUE": True, "RANGE": True, "TYPE": True, "DESCRIPTION": True,
                      "CLIPMODE": False, "LISTEN": page is not None, "PATH_CHANGED": page is not None}
        self.host_info = OSCHostInfo(name, extensions, osc[0], osc[1], "UDP")
        self.namespace = namespace
        self.page = page
        self.name, self.advertise = name, advertise
        family = socket.AF_INET6 if ":" in http[0] else socket.AF_INET
        self._sock = socket.create_server(http, family=family)
        self.http = self._sock.getsockname()[:2]
        self.hub: Hub | None = None
        self.zeroconf = None
        self._loop: asyncio.AbstractEventLoop | None = None  # made on the server's thread, by start
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._announcer: threading.Thread | None = None

    # ---- lifetime -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10.0)
        host, port = self.http
        where = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        if self.page is not None and self.page.guard.token is not None:
            log.warning("web page: %s?token=%s (the token is needed off loopback)", where, self.page.guard.token)
        elif self.page is not None:
            log.info("web page and OSCQuery: %s", where)
        else:
            log.info("OSCQuery: %s (the control address space with current values)", where)
        if self.advertise:  # zeroconf's announcements take seconds: not on the start-up path
            self._announcer = threading.Thread(target=self._advertise_or_warn, name="oscquery-mdns", daemon=True)
            self._announcer.start()

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=MAX_MESSAGE)
        app.router.add_get("/{path:.*}", self._get)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.SockSite(runner, self._sock).start())
        ticker = None
        if self.page is not None:
            self.hub = Hub(self.namespace, self.page, self._loop)
            ticker = self._loop.create_task(self.hub.run())
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            if ticker is not None:
                ticker.cancel()
            for s in list(self.hub.sessions if self.hub else ()):
                self._loop.run_until_complete(s.ws.close())
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    def stop(self) -> None:
        if self._announcer is not None:
            self._announcer.join(timeout=10.0)
        if self.zeroconf is not None:
            self.zeroconf.unregister_all_services()
            self.zeroconf.close()
        if self._thread.is_alive() and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10.0)
        self._sock.close()

    def _advertise_or_warn(self) -> None:
        try:
            self.zeroconf = advertise(self.name, self.http, (self.host_info.osc_ip, self.host_info.osc_port))
        except Exception as exc:  # noqa: BLE001 - no multicast on this interface: discovery off, HTTP still there
            log.warning("OSCQuery: zeroconf advertising failed (%s%s); clients can still use http://%s:%d/",
                        type(exc).__name__, f": {exc}" if str(exc) else "", *self.http)

    # ---- requests -----------------------------------------------------------------------------
    async def _get(self, request: web.Request) -> web.StreamResponse:
        guard = self.page.guard if self.page is not None else None
        if guard is not None:
            why = guard.host_refusal(request.headers.get("Host"))
            if why is not None:
                return web.Response(status=403, text=f"refused: {why}\n")
        path = "/" + request.match_info["path"]
        if request.headers.get("Upgrade", "").lower() == "websocket" and self.page is not None:
            return await self._websocket(request)
        query = [k for k in request.query if k != "token"]
        if self.page is not None and not query and request.path in ("/", *(f"/{f}" for f in PAGE_FILES)):
            wants_page = "text/html" in request.headers.get("Accept", "") or request.path != "/"
            if wants_page:
                why = guard.token_refusal(request.query.get("token")) if request.path == "/" else None
                if why is not None:
                    return web.Response(status=403, text=f"refused: {why}\n")
                name = request.path[1:] or "index.html"
                return web.FileResponse(PAGE_DIR / name, headers={"Content-Type": PAGE_FILES[name],
                                                                  "Cache-Control": "no-cache"})
        status, text = self.namespace.answer(path, query, self.host_info)
        return web.Response(status=status, text=text, content_type="application/json")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        guard, hub = self.page.guard, self.hub
        why = guard.origin_refusal(request.headers.get("Origin"), request.headers.get("Host")) \
            or guard.token_refusal(request.query.get("token"))
        if why is not None:
            log.warning("web: WebSocket from %s refused: %s", request.remote, why)
            return web.Response(status=403, text=f"refused: {why}\n")
        if len(hub.sessions) + hub.opening >= MAX_CLIENTS:
            return web.Response(status=503, text=f"refused: {MAX_CLIENTS} clients already connected\n")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=10.0, compress=False)
        hub.opening += 1
        try:
            await ws.prepare(request)
        finally:
            hub.opening -= 1
        peer = request.transport.get_extra_info("peername") or ("?", 0)
        session = Session(hub, ws, (str(peer[0]), int(peer[1])))
        hub.sessions.add(session)
        writer = asyncio.ensure_future(session.write())
        try:
            await session.read()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            session.close()
            hub.sessions.discard(session)
            writer.cancel()
            await ws.close()
        return ws
