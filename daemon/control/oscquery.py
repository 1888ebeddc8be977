"""OSCQuery: the control address space, with types, ranges and current values, and the outputs
(read-only: /latentvj/latent, features, beat, status, onset/*), over HTTP, and
advertised by zeroconf (_oscjson._tcp, _osc._udp) so VDMX, ossia score or a TouchDesigner
OSCQuery component finds the daemon without typing ports.

python-oscquery provides the tree and its JSON; we fill in RANGE, refresh VALUE from the
controls on each GET, and answer GETs as its request handler does. The HTTP and WebSocket
server that asks is web/server.py (one port for OSCQuery and the page).
"""
from __future__ import annotations

import logging
from typing import Callable

from pythonoscquery.shared.osc_access import OSCAccess
from pythonoscquery.shared.osc_address_space import OSCAddressSpace
from pythonoscquery.shared.osc_host_info import OSCHostInfo
from pythonoscquery.shared.osc_path_node import OSCPathNode
from pythonoscquery.shared.oscquery_spec import OSCQueryAttribute

from .osc_out import published
from .state import Control, ControlValues
from .vocabulary import ADDRESSES, RANGES

log = logging.getLogger("latentvj.oscquery")
PLACEHOLDER = {"f": 0.0, "i": 0, "s": ""}


def address_space(dim: int, extra: list | None = None) -> OSCAddressSpace:
    """Every control address of ADDRESSES, "<i>" ones once per latent dimension, the outputs, and
    `extra` read-only nodes (address, value placeholders, what).

    /latentvj/scale is both a method (the global scale) and the container of /latentvj/scale/<i>,
    which the OSCQuery spec allows and python-oscquery's constructor does not: the per-dimension
    nodes go in first and the global one's attributes are set on the container they made."""
    space = OSCAddressSpace()
    for pattern, types, what, *_ in sorted(ADDRESSES, key=lambda a: "<i>" not in a.path):
        for address in ([pattern.replace("<i>", str(i)) for i in range(dim)] if "<i>" in pattern else [pattern]):
            if types == "i...":
                value, access = list(range(dim)), OSCAccess.READWRITE_VALUE
            elif types in ("f", "i"):
                value, access = PLACEHOLDER[types], OSCAccess.READWRITE_VALUE
            elif types == "s":
                value, access = "", OSCAccess.WRITEONLY_VALUE
            elif types == "s[f]":  # OSCQuery has no optional argument: both, the time may be 0 (a cut, a jump)
                value, access = ["", 0.0], OSCAccess.WRITEONLY_VALUE
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
    for address, values, what in extra or []:
        access = OSCAccess.NO_VALUE if values is None else OSCAccess.READONLY_VALUE
        space.add_node(OSCPathNode(address, access=access, value=values, description=what))
    return space


def control_values(v: ControlValues) -> dict[str, tuple]:
    """Every control address with its current arguments (what OSCQuery's VALUE and the page show)."""
    out: dict[str, tuple] = {
        "/latentvj/scale": (v.scale,), "/latentvj/smooth": (v.smooth,), "/latentvj/freeze": (int(v.freeze),),
        "/latentvj/noise": (v.noise,), "/latentvj/permute": tuple(int(p) for p in v.permutation),
    }
    for i in range(v.dim):
        out[f"/latentvj/scale/{i}"] = (float(v.scales[i]),)
        out[f"/latentvj/bias/{i}"] = (float(v.biases[i]),)
    return out


VALUE_QUERIES = ("HOST_INFO", "FULL_PATH", "CONTENTS", "TYPE", "VALUE", "ACCESS", "RANGE", "DESCRIPTION")


class Namespace:
    """The address space with current values, as OSCQuery clients read it.

    Rebuilt when a show with another latent size arrives; `version` counts rebuilds, so the
    WebSocket can tell its listeners PATH_CHANGED. `extra` adds read-only nodes (address, value
    placeholders, what) for values the web page listens to."""

    def __init__(self, control: Control, extra: Callable[[int], list] | None = None) -> None:
        self.control = control
        self.extra = extra
        self.dim = control.dim
        self.space = self._build(self.dim)
        self.version = 0

    def _build(self, dim: int) -> OSCAddressSpace:
        return address_space(dim, self.extra(dim) if self.extra is not None else [])

    def follow_size(self) -> None:
        """A show with another latent size rebuilds the tree (cheap when it has not changed)."""
        dim = self.control.dim
        if dim != self.dim:
            self.dim, self.space = dim, self._build(dim)
            self.version += 1

    def refresh(self) -> None:
        """Current values into the tree."""
        self.follow_size()
        v = self.control.snapshot()
        if v.dim != self.dim:  # the size changed between the two reads: the next GET has it
            return
        with self.space.lock:
            for address, value in control_values(v).items():
                self.space.find_node(address).attributes[OSCQueryAttribute.VALUE] = list(value)

    def answer(self, path: str, query: list[str], host_info: OSCHostInfo) -> tuple[int, str]:
        """An OSCQuery GET: (HTTP status, JSON text), as the proposal and python-oscquery's handler
        answer it (404 for an unknown path, 400 for an unknown attribute, 204 for the VALUE of a
        node that has none)."""
        for q in query:
            if q not in VALUE_QUERIES:
                return 400, f"Attribute {q} not understood by server"
        if "HOST_INFO" in query:
            return 200, host_info.to_json()
        self.refresh()
        with self.space.lock:
            node = self.space.find_node(path)
            if node is None:
                return 404, "OSC Path not found"
            attribute = OSCQueryAttribute(query[0]) if query else None
            if attribute is OSCQueryAttribute.VALUE and node.access in (OSCAccess.NO_VALUE,
                                                                         OSCAccess.WRITEONLY_VALUE):
                return 204, ""
            return 200, str(node.to_json(attribute))


def advertise(name: str, http: tuple[str, int], osc: tuple[str, int]):
    """Announce the OSCQuery HTTP port and the OSC port by zeroconf; returns the Zeroconf to close.
    Takes seconds: call it off the start-up path."""
    from zeroconf import ServiceInfo, Zeroconf

    host, port = http
    zc = Zeroconf(interfaces=[host]) if host not in ("", "0.0.0.0", "::") else Zeroconf()
    try:
        for kind, p in (("_oscjson._tcp.local.", port), ("_osc._udp.local.", osc[1])):
            zc.register_service(ServiceInfo(
                kind, f"{name}.{kind}", p, properties={"txtvers": "1"},
                server=f"{name}.local.", parsed_addresses=[osc[0]]))
    except Exception:
        zc.close()  # its threads and sockets; the caller logs why
        raise
    log.info("OSCQuery: advertised as %s (_oscjson._tcp, _osc._udp)", name)
    return zc
