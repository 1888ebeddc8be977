"""OSCQuery: the control address space, with types, ranges and current values, and the outputs
(read-only: /latentvj/latent, features, beat, status, onset/*), over HTTP, and
advertised by zeroconf (_oscjson._tcp, _osc._udp) so VDMX, ossia score or a TouchDesigner
OSCQuery component finds the daemon without typing ports.

python-oscquery provides the tree, the JSON and the request handler; we bind the HTTP server to
the interface we are given (its own service listens on every interface, and ours stays on
loopback unless told otherwise), fill in RANGE, and refresh VALUE from the controls on each GET.
"""
from __future__ import annotations

import logging
import threading

from pythonoscquery.osc_query_service import OSCQueryHTTPHandler, OSCQueryHTTPServer
from pythonoscquery.shared.osc_access import OSCAccess
from pythonoscquery.shared.osc_address_space import OSCAddressSpace
from pythonoscquery.shared.osc_host_info import OSCHostInfo
from pythonoscquery.shared.osc_path_node import OSCPathNode
from pythonoscquery.shared.oscquery_spec import OSCQueryAttribute

from .osc_out import published
from .state import Control
from .vocabulary import ADDRESSES, RANGES

log = logging.getLogger("latentvj.oscquery")
PLACEHOLDER = {"f": 0.0, "i": 0, "s": ""}


def address_space(dim: int) -> OSCAddressSpace:
    """Every control address of ADDRESSES, "<i>" ones once per latent dimension.

    /latentvj/scale is both a method (the global scale) and the container of /latentvj/scale/<i>,
    which the OSCQuery spec allows and python-oscquery's constructor does not: the per-dimension
    nodes go in first and the global one's attributes are set on the container they made."""
    space = OSCAddressSpace()
    for pattern, types, what in sorted(ADDRESSES, key=lambda a: "<i>" not in a[0]):
        for address in ([pattern.replace("<i>", str(i)) for i in range(dim)] if "<i>" in pattern else [pattern]):
            if types == "i...":
                value, access = list(range(dim)), OSCAccess.READWRITE_VALUE
            elif types in ("f", "i"):
                value, access = PLACEHOLDER[types], OSCAccess.READWRITE_VALUE
            elif types == "s":
                value, access = "", OSCAccess.WRITEONLY_VALUE
            else:
                value, access = None, OSCAccess.NO_VALUE
            node = space.find_node(address)
            if node is None:
                node = OSCPathNode(address, access=access, value=value, description=what)
                space.add_node(node)
            else:
                values = value if isinstance(value, list) else [value]
                node.attributes.update({OSCQueryAttribute.ACCESS: access, OSCQueryAttribute.VALUE: values,
                                        OSCQueryAttribute.TYPE: [type(v) for v in values],
                                        OSCQueryAttribute.DESCRIPTION: what})
            if pattern in RANGES:
                low, high = RANGES[pattern]
                node.attributes[OSCQueryAttribute.RANGE] = [{"MIN": low, "MAX": high}]
    for address, values, what in published(dim):  # outputs, read-only: VALUE holds placeholders of the types
        access = OSCAccess.NO_VALUE if values is None else OSCAccess.READONLY_VALUE
        space.add_node(OSCPathNode(address, access=access, value=values, description=f"(sent to --osc-out) {what}"))
    return space


class _Handler(OSCQueryHTTPHandler):
    def do_GET(self) -> None:
        self.server.refresh()
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # not a stderr line per request
        log.debug("%s %s", self.client_address[0], format % args)


class _Server(OSCQueryHTTPServer):
    daemon_threads = True

    def __init__(self, address, host_info, control: Control) -> None:
        self.control = control
        self.dim = control.dim
        super().__init__(address_space(self.dim), host_info, address, _Handler)

    def refresh(self) -> None:
        """Current values into the tree; a show with another latent size rebuilds it."""
        v = self.control.snapshot()
        if v.dim != self.dim:
            self.dim, self.address_space = v.dim, address_space(v.dim)
        values = {"/latentvj/scale": v.scale, "/latentvj/smooth": v.smooth, "/latentvj/freeze": int(v.freeze),
                  "/latentvj/noise": v.noise, "/latentvj/permute": v.permutation.tolist()}
        for i in range(v.dim):
            values[f"/latentvj/scale/{i}"] = float(v.scales[i])
            values[f"/latentvj/bias/{i}"] = float(v.biases[i])
        with self.address_space.lock:
            for address, value in values.items():
                node = self.address_space.find_node(address)
                node.attributes[OSCQueryAttribute.VALUE] = value if isinstance(value, list) else [value]


class OscQuery:
    """HTTP on `http` (HOST, PORT); advertises the OSC control port `osc` as `name`."""

    def __init__(self, http: tuple[str, int], osc: tuple[str, int], control: Control, name: str = "latentvj",
                 advertise: bool = True) -> None:
        extensions = {"ACCESS": True, "VALUE": True, "RANGE": True, "TYPE": True, "DESCRIPTION": True,
                      "CLIPMODE": False}
        self.host_info = OSCHostInfo(name, extensions, osc[0], osc[1], "UDP")
        self.server = _Server(http, self.host_info, control)  # OSError if the port is taken
        self.http = self.server.server_address[:2]
        self.name, self.advertise, self.zeroconf, self._announcer = name, advertise, None, None
        self._thread = threading.Thread(target=self.server.serve_forever, name="oscquery", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("OSCQuery: http://%s:%d/ (the control address space with current values)", *self.http)
        if self.advertise:  # zeroconf's announcements take seconds: not on the start-up path
            self._announcer = threading.Thread(target=self._advertise_or_warn, name="oscquery-mdns", daemon=True)
            self._announcer.start()

    def _advertise_or_warn(self) -> None:
        try:
            self._advertise()
        except Exception as exc:  # no multicast on this interface: discovery off, HTTP still there
            log.warning("OSCQuery: zeroconf advertising failed (%s); clients can still use http://%s:%d/",
                        exc, *self.http)

    def _advertise(self) -> None:
        from zeroconf import ServiceInfo, Zeroconf

        host, port = self.http
        zc = Zeroconf(interfaces=[host]) if host not in ("", "0.0.0.0") else Zeroconf()
        self.zeroconf = zc
        for kind, p in (("_oscjson._tcp.local.", port), ("_osc._udp.local.", self.host_info.osc_port)):
            zc.register_service(ServiceInfo(
                kind, f"{self.name}.{kind}", p, properties={"txtvers": "1"},
                server=f"{self.name}.local.", parsed_addresses=[self.host_info.osc_ip]))
        log.info("OSCQuery: advertised as %s (_oscjson._tcp, _osc._udp)", self.name)

    def stop(self) -> None:
        if self._announcer is not None:
            self._announcer.join(timeout=10.0)
        if self.zeroconf is not None:
            self.zeroconf.unregister_all_services()
            self.zeroconf.close()
        self.server.shutdown()
        self.server.server_close()
