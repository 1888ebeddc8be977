"""The scenarios: each starts a real daemon, measures it unstressed, attacks it, and returns one
line of figures and whether its targets were met (issue 14's targets)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pythonosc.osc_message import OscMessage

from latentvj.daemon.show.bundle import BUILTIN_DIR, MANIFEST
from latentvj.daemon.toml_io import dumps_toml, load_toml

from .bad_bundles import make_broken_bundles
from .daemon_under_test import LATENTVJ, DaemonUnderTest
from .fuzz import message
from .probes import Pinger
from .pulse_server import kill_pulse, pulse_env, start_pulse, stop_pulse
from .senders import Attack

DIM = 32  # the demo show's latent (8 sound + 24 footage dimensions)
FADE_S = 2.0  # the fade storm's fades
FADE_EVERY_S = 1.0


@dataclass
class Result:
    name: str
    ok: bool
    figures: str

    def line(self) -> str:
        return f"{self.name:<22} {'ok  ' if self.ok else 'MISS'} {self.figures}"


@dataclass
class Settings:
    work: Path
    quick: bool = False
    fuzz_n: int = 200_000
    fuzz_s: float = 60.0
    flood_s: float = 10.0
    burst_n: int = 3000
    storm_n: int = 20
    fades_n: int = 10
    soak_s: float = 600.0
    rss_every_s: float = 10.0

    @classmethod
    def make(cls, work: Path, quick: bool) -> "Settings":
        if not quick:
            return cls(work)
        return cls(work, True, fuzz_n=3000, fuzz_s=3.0, flood_s=2.0, burst_n=300, storm_n=4, fades_n=3, soak_s=12.0,
                   rss_every_s=2.0)


class Requester:
    """A controller's socket: sends and collects the replies it is owed."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.addr = ("127.0.0.1", port)

    def send(self, address: str, *args) -> None:
        self.sock.sendto(message(address, *args), self.addr)

    def replies(self, wait: float) -> list[OscMessage]:
        out = []
        self.sock.settimeout(wait)
        try:
            while True:
                out.append(OscMessage(self.sock.recv(65536)))
        except (socket.timeout, BlockingIOError):
            return out

    def reply_to(self, prefixes: tuple[str, ...], timeout: float) -> OscMessage | None:
        end = time.monotonic() + timeout
        self.sock.settimeout(0.1)
        while time.monotonic() < end:
            try:
                m = OscMessage(self.sock.recv(65536))
            except socket.timeout:
                continue
            if m.address.startswith(prefixes):
                return m
        return None

    def close(self) -> None:
        self.sock.close()


def _daemon(s: Settings, name: str, *extra: str, **kw) -> DaemonUnderTest:
    slug = "".join(c if c.isalnum() else "-" for c in name)
    d = DaemonUnderTest("demo", s.work / f"{slug}.log", *extra, **kw)
    d.wait_ready()
    return d


def _baseline(d: DaemonUnderTest, seconds: float) -> float:
    t = time.monotonic()
    time.sleep(seconds)
    return d.watch.fps(t, time.monotonic())


def _finish(d: DaemonUnderTest) -> tuple[str, bool]:
    """Stop the daemon: (its tracebacks and OSC counts as text, whether it was alive and clean)."""
    alive = d.alive()
    drops = d.udp_drops()
    code = d.stop()
    tb = d.tracebacks()
    return (f"tracebacks {tb}, {'alive' if alive else 'CRASHED'}, exit {code}; kernel dropped {drops}; osc in: "
            f"{d.osc_line()}", alive and tb == 0)


def _values_hold(d: DaemonUnderTest, req: Requester) -> bool:
    """After a flood: the last values sent are the ones in effect (scale 0: the latent is the biases)."""
    want = np.round(np.linspace(-1, 1, DIM), 3).astype(np.float32)
    req.send("/latentvj/reset")
    req.send("/latentvj/scale", 0.0)
    for i, v in enumerate(want):
        req.send(f"/latentvj/bias/{i}", float(v))
    time.sleep(1.0)
    last = d.watch.last()
    return last is not None and last.shape == want.shape and np.allclose(last, want, atol=1e-5)


def attack(s: Settings, name: str, kind: str, n: int, rate: float | None, check_values: bool = False,
           baseline_s: float | None = None) -> Result:
    d = _daemon(s, name)
    req = Requester(d.osc_in)
    try:
        base = _baseline(d, baseline_s or min(10.0, max(2.0, n / (rate or 1e9))))
        with Pinger(d.osc_in) as ping, Attack(d.osc_in, kind, n, DIM, rate) as a:
            sent, secs, rtt_after = a.wait()
            time.sleep(max(0.0, a.started + 3.0 - time.monotonic()))  # a burst's aftermath counts too
            end = time.monotonic()
            fps = d.watch.fps(a.started, end)
            low = d.watch.lowest_fps(a.started, end)
        held = _values_hold(d, req) if check_values else None
    finally:
        req.close()
        tail, clean = _finish(d)
    ratio = fps / base if base else 0.0
    ok = clean and ping.all_fast and (ratio >= 0.97) and held is not False
    figures = (f"{sent} packets in {secs:.1f} s ({sent / max(secs, 1e-9):.0f}/s); fps {fps:.2f} vs {base:.2f} "
               f"unstressed ({ratio:.1%}), lowest 0.5 s {low:.0f}; {ping.figures()}; ping right after: "
               f"{rtt_after * 1e3:.1f} ms" + ("" if held is None else f"; last values in effect: {held}")
               + f"; {tail}")
    return Result(name, ok, figures)


def _second_show(s: Settings) -> Path:
    """The demo under another name (model files linked): two valid shows to switch between."""
    d = s.work / "demo-b"
    if not d.exists():
        d.mkdir(parents=True)
        for f in (BUILTIN_DIR / "demo").iterdir():
            if f.name != MANIFEST:
                os.symlink(f.resolve(), d / f.name)
        doc = load_toml(BUILTIN_DIR / "demo" / MANIFEST)
        doc["name"] = "demo-b"
        (d / MANIFEST).write_text(dumps_toml(doc))
    return d


def _broken(s: Settings) -> list[tuple[str, Path]]:
    out = s.work / "broken"
    if out.exists():
        shutil.rmtree(out)
    return make_broken_bundles(BUILTIN_DIR / "demo", out)


def show_storm(s: Settings) -> Result:
    """Switches 0.3 s apart between two shows, then a corrupt and a missing bundle."""
    other = _second_show(s)
    broken = dict(_broken(s))
    d = _daemon(s, "show-storm")
    req = Requester(d.osc_in)
    try:
        base = _baseline(d, 3.0)
        asked = [str(other) if k % 2 else "demo" for k in range(s.storm_n)]
        t0 = time.monotonic()
        with Pinger(d.osc_in) as ping:
            for spec in asked + [str(broken["decoder file corrupt, checksum updated"]), str(s.work / "missing")]:
                req.send("/latentvj/show", spec)
                time.sleep(0.3)
            replies = req.replies(10.0)
        fps = d.watch.fps(t0, t0 + 0.3 * (s.storm_n + 2))
    finally:
        req.close()
        tail, clean = _finish(d)
    loaded = [m.params[0] for m in replies if m.address == "/latentvj/show/loaded"]
    errors = [m for m in replies if m.address == "/latentvj/error" and "superseded by" not in m.params[0]]
    superseded = [m for m in replies if m.address == "/latentvj/error" and "superseded by" in m.params[0]]
    answered = len(loaded) + len(errors) + len(superseded)
    want = "demo-b" if asked[-1] == str(other) else "demo"
    ok = (clean and ping.all_fast and bool(loaded) and loaded[-1] == want and len(errors) >= 2
          and answered == s.storm_n + 2  # every request answered, a superseded one too
          and fps >= 0.95 * base)  # loading a show costs the frames nothing
    return Result("show-switch storm", ok,
                  f"{s.storm_n} switches + a corrupt + a missing bundle: {len(loaded)} loaded, {len(errors)} refused, "
                  f"{len(superseded)} superseded ({answered}/{s.storm_n + 2} answered), "
                  f"playing '{loaded[-1] if loaded else None}' (last valid asked: '{want}'); fps {fps:.2f} vs "
                  f"{base:.2f} ({fps / base * 100:.1f} %); {ping.figures()}; {tail}")


def fade_storm(s: Settings) -> Result:
    """Crossfades of FADE_S between two shows, a new one every FADE_EVERY_S (so half of them start
    during the one before, which then fades from a still of the picture)."""
    other = _second_show(s)
    d = _daemon(s, "fade-storm")
    req = Requester(d.osc_in)
    try:
        base = _baseline(d, 3.0)
        asked = [str(other) if k % 2 == 0 else "demo" for k in range(s.fades_n)]
        t0 = time.monotonic()
        for spec in asked:
            req.send("/latentvj/show", spec, FADE_S)
            time.sleep(FADE_EVERY_S)
        replies = req.replies(FADE_S + 5.0)
        t1 = t0 + FADE_EVERY_S * s.fades_n + FADE_S
        fps = d.watch.fps(t0, t1)
    finally:
        req.close()
        tail, clean = _finish(d)
    loaded = [m.params[0] for m in replies if m.address == "/latentvj/show/loaded"]
    superseded = [m for m in replies if m.address == "/latentvj/error" and "superseded by" in m.params[0]]
    other_errors = [m for m in replies if m.address == "/latentvj/error" and "superseded by" not in m.params[0]]
    want = "demo-b" if asked[-1] == str(other) else "demo"
    ok = (clean and bool(loaded) and loaded[-1] == want and not other_errors
          and len(loaded) + len(superseded) == s.fades_n and fps >= 0.95 * base)
    return Result("fade storm", ok,
                  f"{s.fades_n} fades of {FADE_S:g} s, {FADE_EVERY_S:g} s apart: {len(loaded)} ended, "
                  f"{len(superseded)} superseded, {len(other_errors)} refused; playing "
                  f"'{loaded[-1] if loaded else None}' (last asked: '{want}'); fps {fps:.2f} vs {base:.2f} "
                  f"({fps / base * 100:.1f} %); {tail}")


def bad_bundles_at_start(s: Settings) -> Result:
    made = _broken(s)
    if s.quick:
        made = made[::7]
    one_line = 0
    misses = []
    for name, path in made:
        r = subprocess.run([*LATENTVJ, "run", "--show", str(path), "--duration", "1", "--sink", "null",
                            "--input", "tone", "--oscquery", "off", "--osc-in", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=120)
        errors = [line for line in r.stderr.splitlines() if ": error: " in line]
        if r.returncode == 2 and len(errors) == 1 and "Traceback" not in r.stderr:
            one_line += 1
        else:
            misses.append(name)
    return Result("bad bundles at start", one_line == len(made),
                  f"{one_line}/{len(made)} refused with one line and exit 2"
                  + (f"; not: {', '.join(misses)}" if misses else ""))


def bad_bundles_live(s: Settings) -> Result:
    made = _broken(s)
    d = _daemon(s, "bad-bundles-live")
    req = Requester(d.osc_in)
    refused = 0
    try:
        base = _baseline(d, 2.0)
        t0 = time.monotonic()
        for _, path in made:
            req.send("/latentvj/show", str(path))
            m = req.reply_to(("/latentvj/error", "/latentvj/show/loaded"), 30.0)
            refused += m is not None and m.address == "/latentvj/error"
        time.sleep(max(0.0, t0 + 3.0 - time.monotonic()))
        fps = d.watch.fps(t0, time.monotonic())
    finally:
        req.close()
        tail, clean = _finish(d)
    ratio = fps / base if base else 0.0
    # the target is a refusal for each; the frame rate while 33 bundles are read and checked is a figure
    return Result("bad bundles live", clean and refused == len(made),
                  f"{refused}/{len(made)} answered /latentvj/error while the show played on at {fps:.2f} fps "
                  f"({ratio:.1%} of unstressed); {tail}")


def soak(s: Settings) -> Result:
    """A fader at 30 Hz, a preset saved and loaded every 10 s and a show switch every minute."""
    other = _second_show(s)
    d = _daemon(s, "soak")
    req = Requester(d.osc_in)
    samples: list[tuple[float, float]] = []
    try:
        t0 = time.monotonic()
        nxt_rss = t0
        k = 0
        while time.monotonic() - t0 < s.soak_s:
            now = time.monotonic()
            if now >= nxt_rss:
                samples.append((now - t0, d.rss_mb()))
                nxt_rss += s.rss_every_s
            req.send("/latentvj/bias/0", float(np.sin(now)))
            if k % 300 == 0:
                req.send("/latentvj/preset/save", "soak")
                req.send("/latentvj/preset/load", "soak")
            if k % 1800 == 900:
                req.send("/latentvj/show", str(other) if (k // 1800) % 2 == 0 else "demo")
            req.replies(0.0)
            k += 1
            time.sleep(1 / 30)
        samples.append((time.monotonic() - t0, d.rss_mb()))
        fps = d.watch.fps(t0 + 1, time.monotonic())
    finally:
        req.close()
        tail, clean = _finish(d)
    span = min(60.0, s.soak_s / 4)
    first = np.mean([r for t, r in samples if t <= span])
    last = np.mean([r for t, r in samples if t >= samples[-1][0] - span])
    growth = last / first - 1
    # Both shows resident once each has played: compare from the second switch on as well.
    settled = [r for t, r in samples if t >= min(s.soak_s / 2, 90.0)]
    after = settled[-1] / settled[0] - 1 if settled else float("nan")
    return Result("soak", clean and growth < 0.05,
                  f"{s.soak_s:.0f} s, {len(samples)} RSS samples: first {span:.0f} s {first:.0f} MB, last {last:.0f} MB "
                  f"({growth:+.1%}); from {min(s.soak_s / 2, 90.0):.0f} s (both shows loaded once) to the end: "
                  f"{settled[0]:.0f} -> {settled[-1]:.0f} MB ({after:+.1%}); fps {fps:.2f}; {tail}")


def sound_card_loss(s: Settings) -> Result:
    if shutil.which("pulseaudio") is None:
        return Result("sound card lost", False, "not run: PulseAudio is not installed (apt-get install pulseaudio)")
    env = pulse_env(s.work / "xdg")
    start_pulse(env)
    d = None
    try:
        d = _daemon(s, "sound-card", env=env, input="pulse")
        base = _baseline(d, 4.0)
        t_kill = time.monotonic()
        pid = kill_pulse(env)
        time.sleep(3.0)
        start_pulse(env)
        t_back = time.monotonic()
        back = float("nan")
        while time.monotonic() - t_back < 15:
            if "is back" in d.log_text():
                back = time.monotonic() - t_back
                break
            time.sleep(0.05)
        time.sleep(max(0.0, t_back + 4.0 - time.monotonic()))
        end = time.monotonic()
        fps = d.watch.fps(t_kill, end)
        low = d.watch.lowest_fps(t_kill, end)
    finally:
        tail, clean = _finish(d) if d is not None else ("not started", False)
        stop_pulse(env)
    ratio = fps / base if base else 0.0
    return Result("sound card lost", clean and ratio >= 0.97,
                  f"PulseAudio (pid {pid}) killed, back after 3 s: fps {fps:.2f} vs {base:.2f} ({ratio:.1%}), lowest "
                  f"0.5 s {low:.0f}; audio back {back:.1f} s after the server; {tail}")


def all_scenarios(s: Settings) -> dict:
    rate = s.fuzz_n / s.fuzz_s
    flood = {r: (lambda r=r: attack(s, f"valid flood {r // 1000}k/s", "valid", int(r * s.flood_s), r,
                                    check_values=True)) for r in (1000, 5000, 10000)}
    return {
        "fuzz": lambda: attack(s, "fuzz", "fuzz", s.fuzz_n, rate),
        **{f"flood{r // 1000}k": f for r, f in flood.items()},
        "burst": lambda: attack(s, "burst", "garbage", s.burst_n, None, baseline_s=3.0),
        "storm": lambda: show_storm(s),
        "fades": lambda: fade_storm(s),
        "bundles-start": lambda: bad_bundles_at_start(s),
        "bundles-live": lambda: bad_bundles_live(s),
        "soak": lambda: soak(s),
        "sound-card": lambda: sound_card_loss(s),
    }
