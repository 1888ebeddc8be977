"""Every sink the daemon knows: its --sink syntax, where it runs, what it needs, and whether it
is usable here. `make_sink`, the default sink and `latentvj sinks` all read this one table.

Texture-sharing libraries are imported only when their sink is asked for or listed, so a
missing one is a clear message naming the package, never an ImportError at start-up.
"""
from __future__ import annotations

import glob
import importlib
import importlib.metadata
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .base import Sink, SinkError
from .mp4 import H264Settings, Mp4Sink
from .ndi import NdiSink
from .null import NullSink
from .png import PngSink
from .spout import SpoutSink
from .syphon import SyphonSink
from .v4l2 import MODPROBE, V4l2Sink

DEFAULT_NAME = "latentvj"
PLATFORM_NAMES = {"darwin": "macOS", "win32": "Windows", "linux": "Linux"}


@dataclass(frozen=True)
class SinkKind:
    name: str
    usage: str
    what: str
    make: Callable[[str, str], Sink]
    platforms: tuple[str, ...] = ()  # sys.platform values; empty: everywhere
    module: str = ""  # the library to import; empty: nothing beyond latentvj's own dependencies
    distribution: str = ""  # its name on PyPI
    install: str = ""  # how to get it
    takes: str = ""  # "name", "path", "device" or "" (no argument)


KINDS: dict[str, SinkKind] = {k.name: k for k in [
    SinkKind("syphon", "syphon:NAME", "Syphon server (TouchDesigner, Resolume, VDMX, MadMapper on macOS)",
             SyphonSink, ("darwin",), "syphon", "syphon-python",
             "comes with `pip install latentvj` on macOS 12+; else `pip install 'syphon-python[numpy]'`", "name"),
    SinkKind("spout", "spout:NAME", "Spout sender (TouchDesigner, Resolume on Windows)",
             SpoutSink, ("win32",), "SpoutGL", "SpoutGL",
             "comes with `pip install latentvj` on Windows; else `pip install SpoutGL`", "name"),
    SinkKind("ndi", "ndi:NAME", "NDI source on the network (any machine, any OS)",
             NdiSink, (), "cyndilib", "cyndilib", "`pip install 'latentvj[ndi]'`", "name"),
    SinkKind("v4l2", "v4l2:/dev/videoN", "virtual webcam (v4l2loopback; OBS, browsers, Zoom)",
             V4l2Sink, ("linux",), "pyvirtualcam", "pyvirtualcam", "`pip install 'latentvj[v4l2]'`", "device"),
    SinkKind("file", "file:PATH.mp4", "video file, H.264 with the input audio", Mp4Sink, takes="path"),
    SinkKind("png", "png:DIR", "numbered PNG files", PngSink, takes="path"),
    SinkKind("null", "null", "nowhere (benchmarks, OSC only)", lambda spec, _arg: NullSink(spec)),
]}
SINK_HELP = " | ".join(k.usage for k in KINDS.values())


def current_platform() -> str:
    """sys.platform, behind a function so tests can stand on another platform without
    changing it for every other library in the process."""
    return sys.platform


def unusable_reason(kind: SinkKind) -> str | None:
    """None when the sink can be made here; else why not and what to install."""
    here = current_platform()
    if kind.platforms and here not in kind.platforms:
        where = " or ".join(PLATFORM_NAMES.get(p, p) for p in kind.platforms)
        return f"{where} only (this is {PLATFORM_NAMES.get(here, here)})"
    if kind.module:
        try:
            importlib.import_module(kind.module)
        except ModuleNotFoundError as exc:
            if exc.name and kind.module.split(".")[0] != exc.name.split(".")[0]:
                return f"{kind.distribution} is installed but needs {exc.name!r}, which is missing: reinstall it ({kind.install})"
            return f"{kind.distribution} is not installed: {kind.install}"
        except Exception as exc:  # noqa: BLE001 - a native library that fails to load raises anything
            return f"{kind.distribution} is installed but does not load ({type(exc).__name__}: {exc}); reinstall it ({kind.install})"
    if kind.name == "v4l2" and not glob.glob("/dev/video*"):
        return f"no /dev/video* device: load the v4l2loopback kernel module ({MODPROBE})"
    return None


def _check_name(kind: SinkKind, spec: str, name: str) -> None:
    if not name.strip() or any(not c.isprintable() for c in name):
        raise SinkError(f"--sink {spec}: the {kind.name} name must be visible text, got {name!r}")
    if kind.name == "spout" and (not name.isascii() or len(name) > 255):
        raise SinkError(f"--sink {spec}: Spout sender names are ASCII and at most 255 characters")
    if len(name) > 255:
        raise SinkError(f"--sink {spec}: names are at most 255 characters")


def parse_spec(spec: str) -> tuple[SinkKind, str]:
    kind_name, sep, arg = spec.partition(":")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise SinkError(f"--sink {spec}: unknown sink (expected {SINK_HELP}; `latentvj sinks` lists them)")
    if kind.takes == "name":
        arg = arg if sep else DEFAULT_NAME
        _check_name(kind, spec, arg)
    elif kind.takes == "device":
        if not arg.startswith("/dev/video"):
            raise SinkError(f"--sink {spec}: expected {kind.usage}, a v4l2loopback device")
    elif kind.takes == "path":
        if not arg:
            raise SinkError(f"--sink {spec}: expected {kind.usage}")
        if kind.name == "file" and not arg.lower().endswith((".mp4", ".mov", ".mkv")):
            raise SinkError(f"--sink {spec}: the file sink writes .mp4 (or .mov/.mkv), got {arg!r}")
    elif sep:
        raise SinkError(f"--sink {spec}: {kind.name} takes no argument")
    return kind, arg


def make_sink(spec: str, h264: H264Settings | None = None) -> Sink:
    """A sink for `spec`, or SinkError saying exactly why it cannot work here; `h264`: how file
    sinks encode (the run's thread budget)."""
    kind, arg = parse_spec(spec)
    why = unusable_reason(kind)
    if why is None and kind.name == "v4l2" and not Path(arg).exists():
        why = f"there is no {arg}; v4l2loopback makes one ({MODPROBE})"
    if why is not None:
        raise SinkError(f"--sink {spec}: {kind.name} is not usable here: {why}")
    if kind.name == "file" and h264 is not None:
        return Mp4Sink(spec, arg, h264)
    return kind.make(spec, arg)


def default_sinks() -> tuple[list[str], str]:
    """The platform's texture sharing under the name `latentvj`; else null, with the reason."""
    kind = KINDS[{"darwin": "syphon", "win32": "spout"}.get(current_platform(), "ndi")]
    why = unusable_reason(kind)
    if why is None:
        return [f"{kind.name}:{DEFAULT_NAME}"], ""
    return ["null"], (f"no --sink given and {kind.name}, this platform's default, is not usable ({why}); "
                      "frames go nowhere (OSC still runs). `latentvj sinks` lists the others")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _notes(kind: SinkKind) -> str:
    """What else decides whether it works, beyond the library."""
    if kind.name == "ndi" and current_platform() == "linux":
        running = Path("/run/avahi-daemon/socket").exists() or Path("/var/run/avahi-daemon/socket").exists()
        return ("avahi-daemon is running: other machines can discover the source" if running else
                "avahi-daemon is not running: frames are sent, but other machines cannot discover the source "
                "(install and start avahi-daemon)")
    if kind.name == "v4l2":
        return f"devices here: {', '.join(sorted(glob.glob('/dev/video*')))} (only v4l2loopback ones work)"
    return ""


def report() -> str:
    """`latentvj sinks`: every sink, usable or not here, and what to do about it."""
    lines = []
    for kind in KINDS.values():
        why = unusable_reason(kind)
        state = "yes" if why is None else "no"
        detail = why or (f"{kind.distribution} {_version(kind.distribution)}" if kind.distribution else "built in")
        note = _notes(kind) if why is None else ""
        lines.append(f"{kind.usage:<18} {state:<4} {kind.what}")
        lines.append(f"{'':<23}{detail}")
        if note:
            lines.append(f"{'':<23}{note}")
    specs, why = default_sinks()
    lines.append("")
    lines.append(f"without --sink: {', '.join(specs)}" + (f"  ({why})" if why else ""))
    lines.append("several at once: repeat --sink (e.g. --sink spout:latentvj --sink ndi:latentvj --sink file:set.mp4)")
    return "\n".join(lines)
