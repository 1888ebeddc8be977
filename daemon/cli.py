"""`latentvj`: one command, verbs over the daemon's library (run, render, show, devices, bench).

Errors we expect (a bad show, a missing file, a busy port, a bad flag) end with one line on
stderr and exit status 2; everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .app import Daemon, runtime_options, spend_threads
from .audio.files import AudioInputError, load_audio
from .config import ConfigError, load_config, parse_size
from .control.midi_input import MidiError, MidiInput, input_names, open_backend
from .control.midi_map import MidiMap, load_midi_map
from .control.state import Control, ControlError
from .engine.engine_options import EngineOptions
from .engine.thread_budget import ThreadBudget
from .record.take_format import RecordError
from .show.bundle import ShowError
from .show.runtime import ShowRuntime
from .signals import stop_on_signals
from .sinks import SINK_HELP, SinkError, make_sink

log = logging.getLogger("latentvj")


# ---- verbs -----------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace, flags: dict) -> int:
    daemon = Daemon(load_config(args.config, flags))
    daemon.run(stop_on_signals())
    print(daemon.summary(), flush=True)
    return 0


def cmd_render(args: argparse.Namespace, flags: dict) -> int:
    from tqdm import tqdm

    if args.replay is not None:
        return _replay(args, flags)
    if args.audio is None:
        raise ConfigError("render: name the audio to render (or --replay TAKE)")
    shows = flags.pop("show", ["demo"])
    if len(shows) != 1:
        raise ConfigError(f"--show {' '.join(shows)}: render plays one show (NAME=BUNDLE pairs are for --replay)")
    flags["show"] = shows[0]
    from .engine.offline import render

    cfg = load_config(args.config, flags)
    if not 1 <= args.batch <= 256:
        raise ConfigError(f"--batch {args.batch}: expected 1..256 frames per decoder call")
    if args.decoders is not None and not 1 <= args.decoders <= 64:
        raise ConfigError(f"--decoders {args.decoders}: expected 1..64 decoders at once")
    opts = runtime_options(cfg)
    budget = spend_threads(cfg, ThreadBudget.from_config(cfg).for_render(opts.device.type, args.batch, args.decoders))
    rt = ShowRuntime.load(cfg.show, opts)
    audio, _ = load_audio(args.audio, rt.sample_rate)
    if cfg.channel is not None and not 0 <= cfg.channel < audio.shape[1]:
        raise ConfigError(f"--channel {cfg.channel}: {args.audio} has channels 0..{audio.shape[1] - 1}")
    out = str(args.output)
    sink = make_sink(out if out.startswith(("png:", "file:")) else f"file:{out}", budget.h264)
    control = Control(rt.latent_dim)
    bar = tqdm(total=None, unit="frame", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(1)

    result = render(audio, rt, control, [sink], EngineOptions.from_config(cfg), progress=progress, batch=args.batch,
                    decoders=budget.decoders)
    bar.close()
    print(f"rendered {result.frames} frames ({result.media_seconds:.1f} s of audio) to {out} in {result.seconds:.1f} s: "
          f"{result.realtime_factor:.1f}x real time, {result.frames / result.seconds:.1f} fps; "
          f"picture {result.latency * 1e3:.1f} ms behind the sound, as live (the muxed audio is delayed to match)")
    return 0


def _replay(args: argparse.Namespace, flags: dict) -> int:
    """render --replay TAKE: the recorded set, at its own size and rate or larger (engine/replay.py)."""
    from tqdm import tqdm

    from .engine.replay import replay
    from .record.take import Take

    if args.audio is not None:
        raise ConfigError(f"render --replay plays the take's own audio; drop {args.audio}")
    overrides = {}
    for item in flags.pop("show", []):
        name, sep, bundle = item.partition("=")
        if not sep or not name or not bundle:
            raise ConfigError(f"--show {item}: with --replay, NAME=BUNDLE (a show the take plays, and the bundle "
                              "to play it with)")
        overrides[name] = bundle
    ignored = sorted(set(flags) & {"seed", "channel", "latency_margin_ms", "features_latency_ms", "interpolation",
                                    "stochastic"})
    if ignored:
        raise ConfigError(f"--{ignored[0].replace('_', '-')}: a replay uses the take's own setting")
    take = Take.open(args.replay)
    cfg = load_config(args.config, flags)
    budget = spend_threads(cfg)
    out = str(args.output)
    sink = make_sink(out if out.startswith(("png:", "file:")) else f"file:{out}", budget.h264)
    bar = tqdm(total=None, unit="frame", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(1)

    result = replay(take, runtime_options(cfg), [sink], fps=flags.get("fps"), overrides=overrides, progress=progress)
    bar.close()
    print(f"replayed {result.frames} frames ({result.media_seconds:.1f} s) of {take.folder} to {out} in "
          f"{result.seconds:.1f} s: {result.realtime_factor:.1f}x real time")
    return 0


def cmd_record(args: argparse.Namespace, flags: dict) -> int:
    from .record.take import Take

    print(Take.open(args.take).info())
    return 0


def cmd_show(args: argparse.Namespace, flags: dict) -> int:
    from .show.pack import create_show, show_info

    if args.show_cmd == "info":
        print(show_info(args.bundle))
        return 0
    if args.show_cmd == "sheet":
        return _show_sheet(args)
    out = create_show(args.out, args.decoder, encoder=None if args.encoder == "features" else Path(args.encoder),
                      calibrate=args.calibrate, name=args.name, context=args.context, fps=args.fps)
    print(show_info(str(out)))
    return 0


def _show_sheet(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .show.sheet import make_sheet

    bars: list = []  # made at the first rendered frame: an early error stays one line

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit="frame", disable=args.quiet))
        bars[0].update(1)

    try:
        out = make_sheet(args.bundle, args.output, audio=args.audio, seconds=args.seconds, frames=args.frames,
                         dims=args.dims, sigma=args.sigma, tile=args.tile, device=args.device, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    print(f"wrote {out}")
    return 0


def cmd_devices(args: argparse.Namespace, flags: dict) -> int:
    from .audio.sound_card import list_devices

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
    from .sinks.test_card import send_test_card

    if not args.test:
        print(report())
        return 0
    return send_test_card(args.test, parse_size(args.size), args.fps, args.seconds)


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
    from .bench.live_bench import run_bench

    cfg = load_config(args.config, flags)
    budget = spend_threads(cfg)
    print(run_bench(cfg, runtime_options(cfg), budget, seconds=args.seconds))
    return 0


# ---- parser ----------------------------------------------------------------------------------
def _engine_flags(p: argparse.ArgumentParser, replay: bool = False) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--config", default=None, help="a TOML file of settings; flags win over it")
    if replay:
        p.add_argument("--show", action="append", default=S,
                       help="a show bundle folder or zip, or 'demo' (default); with --replay, NAME=BUNDLE "
                            "(repeatable): play the take's show NAME with this bundle (a larger decoder, say)")
    else:
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
    p.add_argument("--features-latency-ms", type=float, default=S,
                   help="the music stream's audio->picture offset (default 7): rows are stamped at the end of "
                        "their hop, so this covers the block's delivery, the encoder's poll and the analysis")
    p.add_argument("--interpolation", default=S, choices=["linear", "hold"],
                   help="linear (default): smooth, one hop more latency; hold: each latent until the next")
    p.add_argument("--threads", type=int, default=S,
                   help="torch's CPU threads, shared by the decoder and the encoder (default: the physical cores)")
    p.add_argument("--switch-interval-ms", type=float, default=S,
                   help="the GIL's switch interval (default 5, Python's)")
    p.add_argument("--h264-threads", type=int, default=S, help="libx264's threads per file sink (default 0: one up to 512x512, libx264's choice above)")
    p.add_argument("--h264-preset", default=S, help="libx264's preset for file sinks (default veryfast)")


def _plugin_verbs(sub, argv: list[str], group: str = "latentvj.commands", under: tuple[str, ...] = ()) -> None:
    """Verbs other packages add (training's dataset, train, export, eval; `show make` in the
    `latentvj.show_commands` group, `under` ("show",)) through entry points. A plugin is imported
    only when its verb is asked for, so `latentvj run` never loads training code."""
    from importlib.metadata import entry_points

    words = [a for a in argv if not a.startswith("-")]
    wanted = words[len(under)] if len(words) > len(under) and tuple(words[: len(under)]) == under else None
    for ep in entry_points(group=group):
        if ep.name == wanted:
            ep.load()(sub)
        else:
            sub.add_parser(ep.name, help=f"(training) see `latentvj {' '.join((*under, ep.name))} --help`")


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
                     help="HOST:PORT of the OSCQuery server and the web page (default 127.0.0.1:9010; 'off'; "
                          "another interface than loopback only when named)")
    run.add_argument("--web", choices=("on", "off"), default=S,
                     help="the web page and OSCQuery's WebSocket at the OSCQuery address (default on)")
    run.add_argument("--web-token", default=S,
                     help="token the page needs off loopback (default: one is made and printed with the URL)")
    run.add_argument("--show-dir", default=S, help="a folder of show bundles the web page offers")
    run.add_argument("--latent-rate", type=float, default=S, help="Hz of /latentvj/latent (default 30)")
    run.add_argument("--features-rate", type=float, default=S, help="Hz of /latentvj/features (default 30)")
    run.add_argument("--status-rate", type=float, default=S, help="Hz of /latentvj/status (default 2)")
    run.add_argument("--beat-rate", type=float, default=S, help="Hz of /latentvj/beat (default 30; 0 off)")
    run.add_argument("--no-onset-events", dest="onset_events", action="store_false", default=S,
                     help="do not send /latentvj/onset/beat|kick|snare|hat")
    run.add_argument("--preset-dir", default=S, help="folder of control presets")
    run.add_argument("--duration", type=float, default=S, help="stop after this many seconds")
    run.add_argument("--record", default=S, metavar="DIR",
                     help="record the set from the start as a take in a new folder in DIR (/latentvj/record 0|1 "
                          "stops and starts takes; `latentvj render --replay` plays one again)")
    run.add_argument("--record-dir", default=S, help="where /latentvj/record 1 puts takes without --record "
                     "(default ~/.local/share/latentvj/takes)")
    run.set_defaults(func=cmd_run)

    ren = sub.add_parser("render", help="render audio (or a recorded take: --replay) to a video, as fast as possible")
    ren.add_argument("audio", type=Path, nargs="?")
    ren.add_argument("--replay", type=Path, metavar="TAKE",
                     help="a take recorded by `run --record` or /latentvj/record: its audio, controls and shows "
                          "again (--size WxH larger, --fps another rate)")
    ren.add_argument("-o", "--output", required=True, help="OUT.mp4, or png:DIR")
    ren.add_argument("-q", "--quiet", action="store_true")
    ren.add_argument("--batch", type=int, default=8,
                     help="frames per decoder call (default 8); 1: the live path's calls exactly, bit for bit")
    ren.add_argument("--decoders", type=int, default=None,
                     help="decoders at once, each on its own thread (default: one per core on the CPU, "
                          "1 on a GPU or with --batch 1)")
    _engine_flags(ren, replay=True)
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
    sheet = ssub.add_parser("sheet", help="draw a PNG contact sheet: each latent dimension at -2..+2 sigma, "
                            "and frames rendered from a song as the live daemon draws them")
    sheet.add_argument("bundle", metavar="SHOW", help="a show bundle folder or zip, or 'demo'")
    sheet.add_argument("-o", "--output", required=True, type=Path, help="OUT.png (its folder must exist)")
    sheet.add_argument("--audio", type=Path, help="the song of the strip (default: the demo loop)")
    sheet.add_argument("--seconds", type=float, help="spread the strip over this much of the song "
                       "(default: all of it, at most 30 s)")
    sheet.add_argument("--frames", type=int, default=8, help="frames in the strip (default 8; 0: no strip)")
    sheet.add_argument("--dims", type=int, help="only the first N latent dimensions (default: all)")
    sheet.add_argument("--sigma", type=float, default=2.0, help="the outer columns' offset in sigma (default 2)")
    sheet.add_argument("--tile", type=int, default=128, help="widest tile in pixels (default 128)")
    sheet.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="default auto")
    sheet.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sheet.set_defaults(func=cmd_show)
    _plugin_verbs(ssub, sys.argv[1:] if argv is None else argv, "latentvj.show_commands", ("show",))

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

    record = sub.add_parser("record", help="inspect a recorded take")
    rsub = record.add_subparsers(dest="record_cmd", required=True)
    rinfo = rsub.add_parser("info", help="its length, shows, events by kind, and whether it ended cleanly")
    rinfo.add_argument("take", type=Path)
    rinfo.set_defaults(func=cmd_record)

    bench = sub.add_parser("bench", help="measure fps, frame times and audio->frame latency")
    _engine_flags(bench)
    bench.add_argument("--seconds", type=float, default=10.0)
    bench.add_argument("--sink", action="append", default=S, help="time these sinks' writes (default: null)")
    bench.set_defaults(func=cmd_bench)
    _plugin_verbs(sub, sys.argv[1:] if argv is None else argv)
    return parser


def _flags(args: argparse.Namespace) -> dict:
    skip = {"cmd", "func", "config", "verbose", "audio", "output", "quiet", "batch", "decoders", "seconds", "show_cmd",
            "encoder", "decoder", "out", "calibrate", "name", "context", "bundle", "midi_cmd", "address",
            "timeout", "replay", "record_cmd", "take"}
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
    except (ShowError, AudioInputError, SinkError, ConfigError, RecordError) as exc:
        print(f"latentvj {args.cmd}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
