"""Run settings: defaults, overridden by a TOML file (one per show or rig), overridden by flags.

The TOML keys are the long flag names with '_' for '-': `osc_out = ["127.0.0.1:9001"]`,
`latency_margin_ms = 25`. Unknown keys are an error that suggests the nearest known one.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .suggest import did_you_mean
from .toml_io import read_toml


H264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


class ConfigError(ValueError):
    """A setting or command line that cannot work; the message says which and why."""


def default_record_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "latentvj" / "takes")


def default_preset_dir() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return str(Path(base) / "latentvj" / "presets")


@dataclass
class RunConfig:
    show: str = "demo"
    input: str = "demo"
    loop: bool = False
    sink: list[str] | None = None  # None: the platform's texture sharing (sinks.default_sinks)
    osc_in: str = "127.0.0.1:9000"
    osc_allow: list[str] = field(default_factory=list)
    osc_out: list[str] = field(default_factory=lambda: ["127.0.0.1:9001"])
    osc_per_dim: bool = False
    osc_map: list[str] = field(default_factory=list)  # OSC output map files (osc_map.py)
    oscquery: str = "127.0.0.1:9010"  # HOST:PORT of the OSCQuery HTTP server and the web page, or "off"
    web: str = "on"  # "off": OSCQuery's JSON only, no page and no WebSocket
    web_token: str | None = None  # needed by the page off loopback (one is made when not given)
    show_dir: str | None = None  # a folder of show bundles the page offers
    midi: str | None = None  # a MIDI input device (name or part of it)
    midi_map: str | None = None  # MIDI map file (midi_map.py)
    latent_rate: float = 30.0
    features_rate: float = 30.0
    beat_rate: float = 30.0
    onset_events: bool = True  # /latentvj/onset/* the moment each is detected
    status_rate: float = 2.0
    fps: float = 30.0
    device: str = "auto"
    duration: float | None = None
    size: str | None = None
    half: bool = False
    stochastic: bool = False
    seed: int = 0
    channel: int | None = None
    input_rate: int | None = None
    input_channels: int | None = None
    latency_margin_ms: float = 20.0
    features_latency_ms: float = 7.0
    interpolation: str = "linear"
    preset_dir: str = field(default_factory=default_preset_dir)
    threads: int | None = None  # the thread budget (engine/thread_budget.py): torch intra-op threads
    switch_interval_ms: float = 5.0  # the GIL's switch interval (Python's default)
    h264_threads: int = 0  # libx264's threads per file sink; 0: one up to 512x512 frames, libx264's choice above
    h264_preset: str = "veryfast"
    record: str | None = None  # record a take from the start into this folder of takes (--record DIR)
    record_dir: str = field(default_factory=default_record_dir)  # where /latentvj/record 1 puts takes otherwise
    show_fade_s: float = 0.0  # the fade of a /latentvj/show without a time (0: a cut)
    fade_mode: str = "linear"  # show crossfades mix in linear light, or "srgb"
    sink_queue: int = 8
    gpu_texture: bool = False

    def check(self) -> None:
        if not 1 <= self.fps <= 240:
            raise ConfigError(f"fps {self.fps}: expected 1..240")
        if self.duration is not None and self.duration <= 0:
            raise ConfigError(f"duration {self.duration}: expected a positive number of seconds")
        if self.interpolation not in ("linear", "hold"):
            raise ConfigError(f"interpolation {self.interpolation!r}: expected linear or hold")
        if self.latency_margin_ms < 0 or self.features_latency_ms < 0:
            raise ConfigError("latency_margin_ms and features_latency_ms must be >= 0")
        if self.size is not None:
            parse_size(self.size)
        if self.web not in ("on", "off"):
            raise ConfigError(f"web {self.web!r}: expected on or off")
        if self.web_token is not None and not (8 <= len(self.web_token) <= 256 and self.web_token.isascii()
                                               and self.web_token.isprintable() and " " not in self.web_token):
            raise ConfigError("web_token: 8 to 256 printable ASCII characters without spaces")
        if self.threads is not None and not 1 <= self.threads <= 256:
            raise ConfigError(f"threads {self.threads}: expected 1..256")
        if not 0.05 <= self.switch_interval_ms <= 100:
            raise ConfigError(f"switch_interval_ms {self.switch_interval_ms}: expected 0.05..100")
        if not 0 <= self.h264_threads <= 64:
            raise ConfigError(f"h264_threads {self.h264_threads}: expected 0 (by frame size) to 64")
        if self.h264_preset not in H264_PRESETS:
            raise ConfigError(f"h264_preset {self.h264_preset!r}: expected one of {', '.join(H264_PRESETS)}")
        if not 0.0 <= self.show_fade_s <= 3600.0:
            raise ConfigError(f"show_fade_s {self.show_fade_s}: expected 0 (a cut) to 3600 seconds")
        if self.fade_mode not in ("linear", "srgb"):
            raise ConfigError(f"fade_mode {self.fade_mode!r}: expected linear or srgb")
        if self.midi_map and not self.midi:
            raise ConfigError("midi_map needs midi = DEVICE (--midi; `latentvj midi list` names them)")

    def size_tuple(self) -> tuple[int, int] | None:
        return parse_size(self.size) if self.size else None


def parse_size(text: str, error: type[Exception] = ConfigError) -> tuple[int, int]:
    """'512x288' -> (512, 288); `error` lets training raise its own kind."""
    w, sep, h = str(text).lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (16 <= int(w) <= 8192 and 16 <= int(h) <= 8192):
        raise error(f"size {text!r}: expected WxH, e.g. 512x512 (16..8192)")
    return int(w), int(h)


def parse_host_port(text: str, what: str) -> tuple[str, int]:
    """'127.0.0.1:9001' -> ('127.0.0.1', 9001); `what` names the flag or key in the error."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9001")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(path: str | Path | None, flags: dict[str, Any]) -> RunConfig:
    """flags: only the options given on the command line (argparse with SUPPRESS defaults)."""
    values: dict[str, Any] = {}
    known = {f.name for f in fields(RunConfig)}
    if path is not None:
        path = Path(path)
        doc = read_toml(path, ConfigError, "config file")
        for key, value in doc.items():
            name = key.replace("-", "_")
            if name not in known:
                raise ConfigError(f"{path}: unknown setting '{key}'{did_you_mean(name, known)}")
            values[name] = value
    values.update(flags)
    for key in ("sink", "osc_out", "osc_allow", "osc_map"):
        if isinstance(values.get(key), str):
            values[key] = [values[key]]
    for f in fields(RunConfig):
        if f.name in values:
            _check_type(f.name, values[f.name], str(f.type), path)
    cfg = RunConfig(**values)
    cfg.check()
    return cfg


def _check_type(name: str, value: Any, annotation: str, source: Path | None) -> None:
    """The annotations are simple ('float', 'int | None', 'list[str]'): check against them."""
    where = f"{source}: " if source else ""
    kinds = [k.strip() for k in annotation.split("|")]
    if value is None and "None" in kinds:
        return
    ok = {
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "list[str]": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }
    if not any(ok.get(k, False) for k in kinds):
        raise ConfigError(f"{where}'{name}' should be {annotation}, got {value!r}")
