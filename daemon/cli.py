"""`latentvj`: one command, verbs over the daemon's library (run, render, show, devices, bench).

Errors we expect (a bad show, a missing file, a busy port, a bad flag) end with one line on
stderr and exit status 2; everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys
import threading
from pathlib import Path

import torch

from . import __version__
from .audio_input import AudioInputError, PacedSource, SoundCardSource, list_devices, load_audio, tone_signal
from .config import ConfigError, RunConfig, load_config, parse_size
from .control import Control, ControlError
from .decoder import pick_device
from .engine import EngineOptions, LiveEngine
from .osc_control import ControlDispatcher, ControlHandlers, ControlServer
from .midi_input import MidiError, MidiInput, input_names, open_backend
from .midi_map import MidiMap, load_midi_map
from .osc_map import MapError, load_map
from .osc_out import OscOut, parse_host_port
from .oscquery import OscQuery
from .show import BUILTIN_DIR, ShowError
from .show_runtime import RuntimeOptions, ShowRuntime
from .sinks import SINK_HELP, SinkError, default_sinks, make_sink

log = logging.getLogger("latentvj")
DEMO_LOOP = BUILTIN_DIR / "demo_loop.flac"


# ---- shared pieces ---------------------------------------------------------------------------
def runtime_options(cfg: RunConfig) -> RuntimeOptions:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    return RuntimeOptions(pick_device(cfg.device), cfg.size_tuple(), cfg.half, deterministic=not cfg.stochastic)


def open_input(cfg: RunConfig, rt: ShowRuntime):
    """demo | tone | an audio file | a sound card by index or name."""
    spec = cfg.input
    if spec == "demo":
        audio, rate = load_audio(DEMO_LOOP, rt.sample_rate)
        return PacedSource("demo", audio, rate, loop=True)
    if spec == "tone":
        return PacedSource("tone", tone_signal(rt.sample_rate), rt.sample_rate, loop=True)
    path = Path(spec).expanduser()
    if path.is_file():
        audio, rate = load_audio(path, rt.sample_rate)
        return PacedSource(path.name, audio, rate, loop=cfg.loop)
    if "/" in spec or path.suffix.lower() in (".wav", ".flac", ".mp3", ".ogg", ".aiff", ".m4a", ".mp4"):
        raise AudioInputError(f"input {spec}: no such file")
    device = int(spec) if spec.isdigit() else spec
    return SoundCardSource(device, cfg.input_channels, cfg.input_rate)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_osc(cfg: RunConfig) -> tuple[tuple[str, int], list[tuple[str, int]]]:
    """Before anything slow: the control address (loopback, or an allow-list) and the targets."""
    host, port = parse_host_port(cfg.osc_in, "--osc-in")
    if not _is_loopback(host) and not cfg.osc_allow:
        raise ConfigError(f"--osc-in {cfg.osc_in}: listening beyond this machine needs --osc-allow ADDRESS "
                          "(the senders allowed to control the daemon)")
    if cfg.oscquery != "off":
        parse_host_port(cfg.oscquery, "--oscquery")
    return (host, port), [parse_host_port(t, "--osc-out") for t in cfg.osc_out]


def start_oscquery(cfg: RunConfig, control: Control) -> OscQuery | None:
    """On loopback unless --oscquery names another interface; a taken port turns discovery off, not the daemon."""
    if cfg.oscquery == "off":
        return None
    http = parse_host_port(cfg.oscquery, "--oscquery")
    try:
        query = OscQuery(http, parse_host_port(cfg.osc_in, "--osc-in"), control)
    except OSError as exc:
        log.warning("OSCQuery: cannot listen on %s (%s); discovery is off (--oscquery HOST:PORT)", cfg.oscquery,
                    exc.strerror)
        return None
    if not _is_loopback(http[0]):
        log.warning("OSCQuery on %s: other machines can read the control address space", cfg.oscquery)
    query.start()
    return query


def control_server(cfg: RunConfig, handlers: ControlHandlers) -> ControlServer:
    host, port = parse_host_port(cfg.osc_in, "--osc-in")
    try:
        return ControlServer((host, port), ControlDispatcher(handlers), allow=cfg.osc_allow or None)
    except OSError as exc:
        raise ConfigError(f"--osc-in {cfg.osc_in}: cannot listen ({exc.strerror}); is another daemon running?") from exc


def summary(engine: LiveEngine, server: ControlServer | None, midi: MidiInput | None = None) -> str:
    s = engine.stats
    span = s.ended - s.started
    f50, f95, f99 = s.percentiles("frame_ms")
    l50, l95, l99 = s.percentiles("latency_ms")
    d50, _, d99 = s.percentiles("decode_ms")
    ring = engine.source.ring
    lines = [
        f"published {s.published} frames in {span:.1f} s ({s.fps():.2f} fps, target {engine.opts.fps:g}); "
        f"dropped {s.dropped}; held late latents {s.late}",
        f"frame time ms  p50 {f50:.2f}  p95 {f95:.2f}  p99 {f99:.2f}",
        f"latency ms     p50 {l50:.1f}  p95 {l95:.1f}  p99 {l99:.1f}  (fixed offset {engine.latency * 1e3:.1f} ms)",
        f"decoder ms     p50 {d50:.2f}  p99 {d99:.2f}; encoded {engine.encoded_hops} hops",
        f"audio          overflows {ring.overflows}, lost frames {engine.lost_frames}, "
        f"reconnects {getattr(engine.source, 'reconnects', 0)}",
    ]
    for st in engine.sinks.stats():
        lines.append(f"sink {st['sink']:<10} written {st['written']}, dropped {st['dropped']}, failures {st['failures']}, "
                     f"write ms p50 {st['write_ms_p50']:.2f} p99 {st['write_ms_p99']:.2f}"
                     + (f"; last error: {st['last_error']}" if st["last_error"] else ""))
    if server is not None:
        d = server.dispatcher
        lines.append(f"osc in         {d.received} messages, {d.errors} refused, {server.refused_senders} from senders not allowed")
    if midi is not None:
        lines.append(f"midi           {midi.received} messages from {midi.name}, {midi.refused} refused, "
                     f"unplugged {midi.unplugs} times")
    if engine.osc_out is not None:
        lines.append(f"osc out        {engine.osc_out.sent} messages sent, {engine.osc_out.send_errors} failed")
    return "\n".join(lines)


# ---- verbs -----------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace, flags: dict) -> int:
    cfg = load_config(args.config, flags)
    _, targets = check_osc(cfg)
    specs = cfg.sink
    if not specs:
        specs, why = default_sinks()
        if why:
            log.warning("%s", why)
    sinks = [make_sink(s) for s in specs]
    opts = runtime_options(cfg)
    rt = ShowRuntime.load(cfg.show, opts)
    log.info("%s", rt.describe())
    source = open_input(cfg, rt)
    if cfg.channel is not None and not 0 <= cfg.channel < source.channels:
        raise ConfigError(f"--channel {cfg.channel}: input {cfg.input!r} has channels 0..{source.channels - 1}")
    control = Control(rt.latent_dim, Path(cfg.preset_dir).expanduser())
    maps = [load_map(p, rt.latent_dim) for p in cfg.osc_map]
    osc_out = OscOut(targets, cfg.fps, cfg.latent_rate, cfg.features_rate, cfg.status_rate, cfg.osc_per_dim, maps)
    max_frames = round(cfg.duration * cfg.fps) if cfg.duration else None
    engine = LiveEngine(source, rt, control, sinks, osc_out,
                        EngineOptions.from_config(cfg, max_frames), opts)

    midi: MidiInput | None = None

    def reload_maps() -> str:
        """/latentvj/map/reload: all files or none; a bad one keeps the maps that run."""
        try:
            new = [load_map(p, engine.runtime.latent_dim) for p in cfg.osc_map]
            new_midi = load_midi_map(cfg.midi_map) if cfg.midi_map else None
        except MapError as exc:
            raise ControlError(f"{exc}; the previous maps stay") from exc
        osc_out.set_maps(new)
        if midi is not None and new_midi is not None:
            midi.map = new_midi
        log.info("reloaded %d OSC map(s), %d routes; MIDI map: %s", len(new), sum(len(m.routes) for m in new),
                 f"{len(new_midi.bindings)} bindings" if new_midi else "none")
        return ", ".join([str(m.path) for m in new] + ([str(new_midi.path)] if new_midi else []))

    def midi_learn(address: str) -> str:
        """/latentvj/midi/learn: the next moved control plays `address` (and is added to the map file)."""
        def bound(binding) -> None:
            midi.map.bindings.append(binding)
            if cfg.midi_map:
                with open(Path(cfg.midi_map).expanduser(), "a") as f:
                    f.write("\n" + binding.toml())
            log.info("MIDI learn: %s %d on channel %d plays %s; %s", binding.kind, binding.number, binding.channel,
                     address, f"added to {cfg.midi_map}" if cfg.midi_map else "add to a --midi-map:\n" + binding.toml())
        midi.learn(address, bound)
        log.info("MIDI learn: move a control on %s to bind it to %s", midi.name, address)
        return address

    handlers = ControlHandlers(control, engine.switch_show, reload_maps if cfg.osc_map or cfg.midi_map else None,
                               midi_learn if cfg.midi else None)
    if cfg.midi:
        midi = MidiInput(cfg.midi, load_midi_map(cfg.midi_map) if cfg.midi_map else MidiMap(None, []), handlers.handle)
    server = control_server(cfg, handlers)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine.start()
    server.start()
    if midi is not None:
        midi.start()
    oscquery = start_oscquery(cfg, control)
    log.info("running: input %s, sinks %s, OSC in %s, out %s, %g fps, latency %.1f ms",
             getattr(source, "name", cfg.input), ", ".join(specs), cfg.osc_in, ", ".join(cfg.osc_out) or "none",
             cfg.fps, engine.latency * 1e3)
    while not stop.is_set() and not engine.done.is_set():
        engine.sinks.pump(0.05)  # Syphon's discovery runs on this (the main) thread's event loop
    if midi is not None:
        midi.stop()
    if oscquery is not None:
        oscquery.stop()
    server.stop()
    engine.stop()
    print(summary(engine, server, midi), flush=True)
    return 0


def cmd_render(args: argparse.Namespace, flags: dict) -> int:
    from tqdm import tqdm

    from .offline import render

    cfg = load_config(args.config, flags)
    opts = runtime_options(cfg)
    rt = ShowRuntime.load(cfg.show, opts)
    audio, _ = load_audio(args.audio, rt.sample_rate)
    if cfg.channel is not None and not 0 <= cfg.channel < audio.shape[1]:
        raise ConfigError(f"--channel {cfg.channel}: {args.audio} has channels 0..{audio.shape[1] - 1}")
    out = str(args.output)
    sink = make_sink(out if out.startswith(("png:", "file:")) else f"file:{out}")
    control = Control(rt.latent_dim)
    bar = tqdm(total=None, unit="frame", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(1)

    result = render(audio, rt, control, [sink], EngineOptions.from_config(cfg), progress=progress)
    bar.close()
    print(f"rendered {result.frames} frames ({result.media_seconds:.1f} s of audio) to {out} in {result.seconds:.1f} s: "
          f"{result.realtime_factor:.1f}x real time, {result.frames / result.seconds:.1f} fps; "
          f"picture {result.latency * 1e3:.1f} ms behind the sound, as live (the muxed audio is delayed to match)")
    return 0


def cmd_show(args: argparse.Namespace, flags: dict) -> int:
    from .show_pack import create_show, show_info

    if args.show_cmd == "info":
        print(show_info(args.bundle))
        return 0
    mapping = None
    out = create_show(args.out, args.decoder, encoder=None if args.encoder == "features" else Path(args.encoder),
                      calibrate=args.calibrate, name=args.name, context=args.context, fps=args.fps, mapping=mapping)
    print(show_info(str(out)))
    return 0


def cmd_devices(args: argparse.Namespace, flags: dict) -> int:
    try:
        devices = list_devices()
    except OSError as exc:
        raise AudioInputError(f"cannot list sound cards ({exc}); on Linux install libportaudio2") from exc
    if not devices:
        print("no audio inputs found")
    for d in devices:
        print(f"{d['index']:>3}  {d['name']}  ({d['channels']} ch, {d['sample_rate']:g} Hz, {d['hostapi']})")
    return 0


def cmd_sinks(args: argparse.Namespace, flags: dict) -> int:
    from .sinks import report

    if not args.test:
        print(report())
        return 0
    return send_test_card(args.test, parse_size(args.size), args.fps, args.seconds)


def send_test_card(specs: list[str], size: tuple[int, int], fps: float, seconds: float) -> int:
    """`latentvj sinks --test SPEC`: the test card on these sinks, paced like the daemon, no show needed."""
    import time

    from .frame_pipeline import FramePool, SinkSet
    from .sinks import StreamInfo
    from .test_card import TestCard

    w, h = size
    sinks = SinkSet([make_sink(s) for s in specs], StreamInfo(w, h, fps), queue_frames=4)
    pool, card = FramePool(w, h, 4), TestCard(w, h, fps)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"sending the test card ({w}x{h}, {fps:g} fps) to {', '.join(specs)} for {seconds:g} s; Ctrl-C stops.\n"
          "Expect: red top-left, green top-right, blue bottom-left, white bottom-right, TOP at the top, "
          "a bar sweeping left to right once a second.", flush=True)
    sinks.start()
    start, j = time.monotonic(), 0
    while not stop.is_set() and j < seconds * fps:
        frame = pool.next()
        card.render(j, frame)
        sinks.frame(frame, j)
        j += 1
        sinks.pump(max(start + j / fps - time.monotonic(), 0.0))
    sinks.stop()
    for st in sinks.stats():
        print(f"sink {st['sink']}: written {st['written']}, dropped {st['dropped']}, failures {st['failures']}, "
              f"write ms p50 {st['write_ms_p50']:.2f} p99 {st['write_ms_p99']:.2f}"
              + (f"; last error: {st['last_error']}" if st["last_error"] else ""))
    return 0 if all(st["failures"] == 0 and st["written"] for st in sinks.stats()) else 1


def cmd_midi(args: argparse.Namespace, flags: dict) -> int:
    import queue

    backend = open_backend()
    if args.midi_cmd == "list":
        names = input_names(backend)
        print("\n".join(names) if names else "no MIDI inputs")
        return 0
    got: queue.Queue = queue.Queue()
    midi = MidiInput(args.midi, MidiMap(None, []), lambda address, values: None, backend)
    try:
        midi.learn(args.address, got.put)
    except ControlError as exc:
        raise ConfigError(str(exc)) from exc
    midi.start()
    print(f"move a control on {midi.name} to bind it to {args.address}", flush=True)
    try:
        binding = got.get(timeout=args.timeout)
    except queue.Empty:
        raise MidiError(f"no control moved on {midi.name} in {args.timeout:g} s") from None
    finally:
        midi.stop()
    if args.midi_map:
        path = Path(args.midi_map).expanduser()
        with open(path, "a") as f:
            f.write("\n" + binding.toml())
        load_midi_map(path)  # what we appended must load
        print(f"added to {path}:")
    print(binding.toml(), end="")
    return 0


def cmd_bench(args: argparse.Namespace, flags: dict) -> int:
    from .bench import run_bench

    cfg = load_config(args.config, flags)
    print(run_bench(cfg, runtime_options(cfg), seconds=args.seconds))
    return 0


# ---- parser ----------------------------------------------------------------------------------
def _engine_flags(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--config", default=None, help="a TOML file of settings; flags win over it")
    p.add_argument("--show", default=S, help="a show bundle folder or zip, or 'demo' (default)")
    p.add_argument("--fps", type=float, default=S, help="frames per second (default 30)")
    p.add_argument("--device", default=S, choices=["auto", "cpu", "cuda", "mps"], help="default auto")
    p.add_argument("--size", default=S, help="output WxH (default: the decoder's own size)")
    p.add_argument("--half", action="store_true", default=S, help="half precision decoder on GPU")
    p.add_argument("--stochastic", action="store_true", default=S,
                   help="sample RAVE's posterior instead of taking its mean (flickers)")
    p.add_argument("--seed", type=int, default=S, help="seed of the noise control (default 0)")
    p.add_argument("--channel", type=int, default=S, help="use this input channel (default: mix all down)")
    p.add_argument("--latency-margin-ms", type=float, default=S,
                   help="added to one hop to make the fixed audio->picture offset (default 20)")
    p.add_argument("--interpolation", default=S, choices=["linear", "hold"],
                   help="linear (default): smooth, one hop more latency; hold: each latent until the next")
    p.add_argument("--threads", type=int, default=S, help="torch CPU threads")


def _plugin_verbs(sub, argv: list[str]) -> None:
    """Verbs other packages add (training's dataset, train, export, eval) through the
    `latentvj.commands` entry points. A plugin is imported only when its verb is asked for, so
    `latentvj run` never loads training code."""
    from importlib.metadata import entry_points

    wanted = next((a for a in argv if not a.startswith("-")), None)
    for ep in entry_points(group="latentvj.commands"):
        if ep.name == wanted:
            ep.load()(sub)
        else:
            sub.add_parser(ep.name, help=f"(training) see `latentvj {ep.name} --help`")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    S = argparse.SUPPRESS
    parser = argparse.ArgumentParser(prog="latentvj", description="Live audio -> RAVE latents -> images, over OSC.")
    parser.add_argument("--version", action="version", version=f"latentvj {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="cmd", required=True)

    run = sub.add_parser("run", help="run the live daemon")
    _engine_flags(run)
    run.add_argument("--input", default=S, help="sound card name or index, an audio file, 'tone' or 'demo' (default)")
    run.add_argument("--loop", action="store_true", default=S, help="loop a file input")
    run.add_argument("--input-rate", type=int, default=S, help="sound card sample rate (default: the card's)")
    run.add_argument("--input-channels", type=int, default=S, help="sound card channels (default: up to 2)")
    run.add_argument("--sink", action="append", default=S, help=f"where frames go, repeatable: {SINK_HELP} "
                     "(default: Syphon on macOS, Spout on Windows, NDI on Linux when installed)")
    run.add_argument("--gpu-texture", action="store_true", default=S,
                     help="Syphon on mps / Spout on cuda: share the decoder's GPU frame without a copy to the host "
                          "(unverified: see docs/platform-checklist.md)")
    run.add_argument("--osc-in", default=S, help="HOST:PORT to take control on (default 127.0.0.1:9000)")
    run.add_argument("--osc-allow", action="append", default=S, help="sender address allowed to control (repeatable)")
    run.add_argument("--osc-out", action="append", default=S, help="HOST:PORT to send latents to (repeatable)")
    run.add_argument("--osc-per-dim", action="store_true", default=S, help="also send /latentvj/latent/<i>")
    run.add_argument("--osc-map", action="append", default=S,
                     help="a TOML map routing latents/features to any OSC address and host, e.g. Resolume's "
                          "(repeatable; docs/resolume.md)")
    run.add_argument("--midi", default=S, help="read this MIDI controller (name or part of it; `latentvj midi list`)")
    run.add_argument("--midi-map", default=S, help="TOML map of CCs/notes to control addresses (README: MIDI)")
    run.add_argument("--oscquery", default=S,
                     help="HOST:PORT of the OSCQuery server (default 127.0.0.1:9010; 'off'; another interface "
                          "than loopback only when named)")
    run.add_argument("--latent-rate", type=float, default=S, help="Hz of /latentvj/latent (default 30)")
    run.add_argument("--features-rate", type=float, default=S, help="Hz of /latentvj/features (default 30)")
    run.add_argument("--status-rate", type=float, default=S, help="Hz of /latentvj/status (default 2)")
    run.add_argument("--preset-dir", default=S, help="folder of control presets")
    run.add_argument("--duration", type=float, default=S, help="stop after this many seconds")
    run.set_defaults(func=cmd_run)

    ren = sub.add_parser("render", help="render audio to a video, as fast as possible")
    ren.add_argument("audio", type=Path)
    ren.add_argument("-o", "--output", required=True, help="OUT.mp4, or png:DIR")
    ren.add_argument("-q", "--quiet", action="store_true")
    _engine_flags(ren)
    ren.set_defaults(func=cmd_render)

    show = sub.add_parser("show", help="create or inspect a show bundle")
    ssub = show.add_subparsers(dest="show_cmd", required=True)
    create = ssub.add_parser("create", help="pack a bundle from a RAVE export and a decoder")
    create.add_argument("--encoder", required=True, help="RAVE streaming export (.ts), or 'features'")
    create.add_argument("--decoder", required=True, type=Path, help="TorchScript decoder (see README)")
    create.add_argument("--out", required=True, type=Path)
    create.add_argument("--calibrate", type=Path, help="audio to take the latent normalisation stats from")
    create.add_argument("--name")
    create.add_argument("--context", type=int, default=1, help="latent frames the decoder takes (default 1)")
    create.add_argument("--fps", type=float, default=30.0, help="frame rate the decoder was trained at")
    create.set_defaults(func=cmd_show)
    info = ssub.add_parser("info", help="print what is in a bundle")
    info.add_argument("bundle")
    info.set_defaults(func=cmd_show)

    dev = sub.add_parser("devices", help="list audio inputs")
    dev.set_defaults(func=cmd_devices)

    sk = sub.add_parser("sinks", help="list the frame sinks, whether each is usable here, and what to install")
    sk.add_argument("--test", action="append", metavar="SPEC",
                    help="send a test card to this sink (repeatable) instead of listing: see docs/platform-checklist.md")
    sk.add_argument("--size", default="512x512", help="test card size (default 512x512)")
    sk.add_argument("--fps", type=float, default=30.0)
    sk.add_argument("--seconds", type=float, default=60.0)
    sk.set_defaults(func=cmd_sinks)

    midi = sub.add_parser("midi", help="list MIDI inputs, or learn a control into a map")
    msub = midi.add_subparsers(dest="midi_cmd", required=True)
    msub.add_parser("list", help="MIDI input devices").set_defaults(func=cmd_midi)
    learn = msub.add_parser("learn", help="bind the next moved control to an address")
    learn.add_argument("--midi", required=True, help="the device (name or part of it)")
    learn.add_argument("--address", required=True, help="a control address, e.g. /latentvj/scale")
    learn.add_argument("--midi-map", help="append the binding to this map file")
    learn.add_argument("--timeout", type=float, default=60.0)
    learn.set_defaults(func=cmd_midi)

    bench = sub.add_parser("bench", help="measure fps, frame times and audio->frame latency")
    _engine_flags(bench)
    bench.add_argument("--seconds", type=float, default=10.0)
    bench.add_argument("--sink", action="append", default=S, help="time these sinks' writes (default: null)")
    bench.set_defaults(func=cmd_bench)
    _plugin_verbs(sub, sys.argv[1:] if argv is None else argv)
    return parser


def _flags(args: argparse.Namespace) -> dict:
    skip = {"cmd", "func", "config", "verbose", "audio", "output", "quiet", "seconds", "show_cmd",
            "encoder", "decoder", "out", "calibrate", "name", "context", "bundle", "midi_cmd", "address",
            "timeout"}
    flags = {k: v for k, v in vars(args).items() if k not in skip}
    if args.cmd == "show" and "fps" in flags:
        del flags["fps"]
    return flags


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return args.func(args, _flags(args))
    except (ShowError, AudioInputError, SinkError, ConfigError) as exc:
        print(f"latentvj {args.cmd}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
