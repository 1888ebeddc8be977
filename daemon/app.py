"""One live run wired together: input, show, controls, OSC in and out, MIDI, OSCQuery, sinks and
the engine. `latentvj run` is `Daemon(cfg).run(stop)`; tests and tools can build one the same way.

Everything that can fail at start-up (a bad flag, show, input, map or busy port) fails in the
constructor with one of our errors, before any thread starts. The methods `reload_maps` and
`midi_learn` are the handlers of `/latentvj/map/reload` and `/latentvj/midi/learn`: they run on
a control worker thread (or the MIDI library's), never on the render thread.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path


from .audio.sources import open_input
from .config import ConfigError, RunConfig, is_loopback, parse_host_port
from .control.map_files import MapError
from .control.midi_input import MidiInput
from .control.midi_map import Binding, MidiMap, load_midi_map
from .control.osc_map import load_map
from .control.osc_out import OscOut
from .control.osc_server import ControlDispatcher, ControlServer
from .control.oscquery import Namespace
from .control.state import Control, ControlError
from .control.vocabulary import ERROR_ADDRESS, REPLIES, ControlHandlers
from .engine.live_engine import LiveEngine
from .engine.engine_options import EngineOptions
from .engine.thread_budget import ThreadBudget
from .record.take_folder import TakeFolder, take_header
from .record.take_format import RecordError
from .show.bundle import BUILTIN_DIR
from .show.device import pick_device
from .show.runtime import RuntimeOptions, ShowRuntime
from .sinks import default_sinks, make_sink
from .web.guard import Guard
from .web.hub import WebPage
from .web.live_values import LiveValues, page_nodes
from .web.preview import PreviewSink
from .web.recent_errors import RecentErrors
from .web.server import WebServer

log = logging.getLogger("latentvj")
DEMO_LOOP = BUILTIN_DIR / "demo_loop.flac"


def spend_threads(cfg: RunConfig, budget: ThreadBudget | None = None) -> ThreadBudget:
    """Set the run's thread budget (process-wide, before any model loads) and say what it is;
    `budget`: one made from cfg for a particular use (render's)."""
    budget = budget or ThreadBudget.from_config(cfg)
    budget.apply()
    log.info("%s", budget.describe())
    return budget


def runtime_options(cfg: RunConfig) -> RuntimeOptions:
    """How shows are loaded for this run (device, size, precision)."""
    return RuntimeOptions(pick_device(cfg.device), cfg.size_tuple(), cfg.half, deterministic=not cfg.stochastic)


def check_osc(cfg: RunConfig) -> list[tuple[str, int]]:
    """Before anything slow: the control address (loopback, or an allow-list) and the OSC targets."""
    host, _ = parse_host_port(cfg.osc_in, "--osc-in")
    if not is_loopback(host) and not cfg.osc_allow:
        raise ConfigError(f"--osc-in {cfg.osc_in}: listening beyond this machine needs --osc-allow ADDRESS "
                          "(the senders allowed to control the daemon)")
    if cfg.oscquery != "off":
        parse_host_port(cfg.oscquery, "--oscquery")
    return [parse_host_port(t, "--osc-out") for t in cfg.osc_out]


class Daemon:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        targets = check_osc(cfg)
        self.sink_specs = cfg.sink
        if not self.sink_specs:
            self.sink_specs, why = default_sinks()
            if why:
                log.warning("%s", why)
        self.budget = spend_threads(cfg)
        sinks = [make_sink(s, self.budget.h264) for s in self.sink_specs]
        self.preview = PreviewSink() if cfg.web == "on" and cfg.oscquery != "off" else None
        if self.preview is not None:
            sinks.append(self.preview)
        opts = runtime_options(cfg)
        rt = ShowRuntime.load(cfg.show, opts)
        log.info("%s", rt.describe())
        self.source = open_input(cfg.input, rt.sample_rate, cfg.loop, cfg.input_channels, cfg.input_rate, DEMO_LOOP)
        if cfg.channel is not None and not 0 <= cfg.channel < self.source.channels:
            raise ConfigError(f"--channel {cfg.channel}: input {cfg.input!r} has channels 0..{self.source.channels - 1}")
        self.control = Control(rt.latent_dim, Path(cfg.preset_dir).expanduser())
        maps = [load_map(p, rt.latent_dim) for p in cfg.osc_map]
        self.osc_out = OscOut(targets, cfg.fps, cfg.latent_rate, cfg.features_rate, cfg.status_rate,
                              cfg.osc_per_dim, maps, cfg.beat_rate, cfg.onset_events)
        max_frames = round(cfg.duration * cfg.fps) if cfg.duration else None
        self.engine = LiveEngine(self.source, rt, self.control, sinks, self.osc_out,
                                 EngineOptions.from_config(cfg, max_frames), opts)
        self.handlers = ControlHandlers(self.control, self.engine.switch_show,
                                        self.reload_maps if cfg.osc_map or cfg.midi_map else None,
                                        self.midi_learn if cfg.midi else None, cfg.show_fade_s, self.record)
        self.takes = TakeFolder(Path(cfg.record or cfg.record_dir).expanduser(), take_header(self.engine))
        if cfg.record:
            self.takes.check()
        self.handlers.observer = self._note_message
        self.midi: MidiInput | None = None
        if cfg.midi:
            midi_map = load_midi_map(cfg.midi_map) if cfg.midi_map else MidiMap(None, [])
            self.midi = MidiInput(cfg.midi, midi_map, self.handlers.handle)
        self.server = self._control_server()
        self.web: WebServer | None = None
        self.recent_errors: RecentErrors | None = None

    def _control_server(self) -> ControlServer:
        host, port = parse_host_port(self.cfg.osc_in, "--osc-in")
        try:
            return ControlServer((host, port), ControlDispatcher(self.handlers), allow=self.cfg.osc_allow or None)
        except OSError as exc:
            raise ConfigError(f"--osc-in {self.cfg.osc_in}: cannot listen ({exc.strerror}); "
                              "is another daemon running?") from exc

    # ---- lifetime -----------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Start, serve until `stop` is set or a --duration / non-looping file ends, then stop."""
        self.start()
        try:
            self.engine.pump_until(stop)  # the main thread runs the sinks' event loops (Syphon)
        finally:
            self.stop()

    def start(self) -> None:
        """The control server starts last: once it answers /latentvj/ping, everything else is up
        (frames, MIDI, the OSCQuery port), so a controller that waits for the pong finds it all."""
        cfg = self.cfg
        self.web = self._start_web()
        if cfg.record:  # from the first block of audio on: a take that replays frame for frame
            rec = self.takes.start(self.source, self._recording_failed)
            self.engine.record(rec)
            log.info("recording a take to %s", rec.folder)
        self.engine.start()
        if self.midi is not None:
            self.midi.start()
        self.server.start()
        log.info("running: input %s, sinks %s, OSC in %s, out %s, %g fps; offsets: encoder clock %.1f ms, "
                 "music stream %.1f ms", getattr(self.source, "name", cfg.input), ", ".join(self.sink_specs),
                 cfg.osc_in, ", ".join(cfg.osc_out) or "none", cfg.fps, self.engine.status().latency_s * 1e3,
                 self.engine.fast_latency * 1e3)

    def _start_web(self) -> WebServer | None:
        """OSCQuery (and, unless --web off, the page and its WebSocket) on loopback unless
        --oscquery names another interface; a taken port turns them off, not the daemon."""
        cfg = self.cfg
        if cfg.oscquery == "off":
            return None
        http = parse_host_port(cfg.oscquery, "--oscquery")
        page = None
        if cfg.web == "on":
            self.recent_errors = RecentErrors().attach()
            live = LiveValues(self.control, self.engine, self.preview, self.recent_errors,
                              Path(cfg.show_dir).expanduser() if cfg.show_dir else None,
                              str(getattr(self.source, "name", cfg.input)))
            # its own dispatcher: the same handlers, but counters and refusal limits apart from UDP's
            # (the UDP budget is charged by its dispatcher's counts)
            page = WebPage(live, ControlDispatcher(self.handlers),
                           Guard(cfg.web_token, needs_token=not is_loopback(http[0])), self.preview)
        namespace = Namespace(self.control, page_nodes if page is not None else None)
        try:
            server = WebServer(http, parse_host_port(cfg.osc_in, "--osc-in"), namespace, page)
        except OSError as exc:
            log.warning("OSCQuery: cannot listen on %s (%s); OSCQuery and the web page are off (--oscquery HOST:PORT)",
                        cfg.oscquery, exc.strerror)
            return None
        if not is_loopback(http[0]):
            log.warning("OSCQuery on %s: other machines can read the control address space", cfg.oscquery)
        server.start()
        return server

    def stop(self) -> None:
        if self.midi is not None:
            self.midi.stop()
        if self.web is not None:
            self.web.stop()
        if self.recent_errors is not None:
            self.recent_errors.detach()
        self.server.stop()
        self.handlers.stop()
        self.engine.stop()
        rec = self.engine.record(None)
        if rec is not None:
            rec.close()
            log.info("take %s: %d frames", rec.folder, rec.frames)

    # ---- control handlers (OSC / MIDI threads) -------------------------------------------------
    def reload_maps(self) -> str:
        """/latentvj/map/reload: all files or none; a bad one keeps the maps that run."""
        cfg = self.cfg
        try:
            new = [load_map(p, self.engine.status().latent_dim) for p in cfg.osc_map]
            new_midi = load_midi_map(cfg.midi_map) if cfg.midi_map else None
        except MapError as exc:
            raise ControlError(f"{exc}; the previous maps stay") from exc
        self.osc_out.set_maps(new)
        if self.midi is not None and new_midi is not None:
            self.midi.map = new_midi
        log.info("reloaded %d OSC map(s), %d routes; MIDI map: %s", len(new), sum(len(m.routes) for m in new),
                 f"{len(new_midi.bindings)} bindings" if new_midi else "none")
        return ", ".join([str(m.path) for m in new] + ([str(new_midi.path)] if new_midi else []))

    def record(self, on: bool, reply=None) -> tuple:
        """/latentvj/record 1|0 (a control worker): start a take in a new folder, or end the one
        running (its last second of audio is written before the reply)."""
        if on:
            if self.engine.recording is not None:
                return (REPLIES["/latentvj/record"], 1, str(self.engine.recording.folder))
            try:
                rec = self.takes.start(self.source, self._recording_failed)
            except RecordError as exc:
                raise ControlError(str(exc)) from exc
            self.engine.record(rec)
            log.info("recording a take to %s", rec.folder)
            return (REPLIES["/latentvj/record"], 1, str(rec.folder))
        old = self.engine.record(None)
        if old is None:
            return (REPLIES["/latentvj/record"], 0, "")
        old.close()
        log.info("take %s ended: %d frames", old.folder, old.frames)
        return (REPLIES["/latentvj/record"], 0, str(old.folder))

    def _recording_failed(self, why: str) -> None:
        """The recorder's thread, once: its disk failed. The engine lets go of it; controllers hear."""
        self.engine.record(None)
        self.osc_out.notice(ERROR_ADDRESS, why)

    def _note_message(self, address: str, args: tuple) -> None:
        """Every control message applied goes into the take being recorded (for reading it back)."""
        rec = self.engine.recording
        if rec is not None:
            rec.event("message", t=self.engine.media_now(), address=address, args=list(args))

    def midi_learn(self, address: str) -> str:
        """/latentvj/midi/learn: the next moved control plays `address` (and is added to the map file)."""
        midi = self.midi
        midi.learn(address, lambda binding: self._learned(binding, address))
        log.info("MIDI learn: move a control on %s to bind it to %s", midi.name, address)
        return address

    def _learned(self, binding: Binding, address: str) -> None:
        """On the MIDI library's thread, once a control has moved: into the file first, then a new
        map swapped in whole (a reload reading the file meanwhile finds the binding there; the
        running map is never changed in place)."""
        where = self.cfg.midi_map
        if where:
            with open(Path(where).expanduser(), "a") as f:
                f.write("\n" + binding.toml())
        running = self.midi.map
        self.midi.map = replace(running, bindings=[*running.bindings, binding])
        log.info("MIDI learn: %s %d on channel %d plays %s; %s", binding.kind, binding.number, binding.channel,
                 address, f"added to {where}" if where else "add to a --midi-map:\n" + binding.toml())

    # ---- the end ------------------------------------------------------------------------------
    def summary(self) -> str:
        engine = self.engine
        s = engine.stats
        span = s.ended - s.started
        f50, f95, f99 = s.percentiles("frame_ms")
        l50, l95, l99 = s.percentiles("latency_ms")
        st = engine.status()
        per_stream = [f"{name} p50 {s.percentiles(arr, (50,))[0]:.1f} (offset {off * 1e3:.1f})"
                      for name, arr, off, used in (("encoder", "clock_latency_ms", st.latency_s, st.uses_clock),
                                                   ("music", "music_latency_ms", st.fast_latency_s, st.uses_music))
                      if used]
        d50, _, d99 = s.percentiles("decode_ms")
        lines = [
            f"published {s.published} frames in {span:.1f} s ({s.fps():.2f} fps, target {engine.opts.fps:g}); "
            f"dropped {s.dropped}; held late latents {s.late}",
            f"frame time ms  p50 {f50:.2f}  p95 {f95:.2f}  p99 {f99:.2f}",
            f"latency ms     p50 {l50:.1f}  p95 {l95:.1f}  p99 {l99:.1f}  (measured: publish time - capture of the "
            f"newest audio the picture read; per stream: {', '.join(per_stream)})",
            f"decoder ms     p50 {d50:.2f}  p99 {d99:.2f}; encoded {st.encoder.hops} hops",
            f"audio          overflows {self.source.ring.overflows}, lost frames {st.encoder.lost_frames}, "
            f"reconnects {getattr(self.source, 'reconnects', 0)}",
            *engine.sinks.report(),
        ]
        d, srv = self.server.dispatcher, self.server
        lines.append(f"osc in         {d.received} messages, {d.errors} refused ({d.limiter.suppressed_total} of them "
                     f"not logged), {srv.refused_senders} from senders not allowed; past the budget: "
                     f"{srv.deferred} waited, {srv.dropped} dropped; {d.unexpected.count} unexpected errors")
        if self.midi is not None:
            m = self.midi
            lines.append(f"midi           {m.received} messages from {m.name}, {m.refused} refused, "
                         f"unplugged {m.unplugs} times")
        lines.append(f"osc out        {self.osc_out.sent} messages sent, {self.osc_out.send_errors} failed")
        return "\n".join(lines)
