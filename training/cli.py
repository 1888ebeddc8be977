"""The training verbs of `latentvj`: dataset, train, export, eval.

The daemon's CLI finds these through the `latentvj.commands` entry points and imports this
module only when one of them is asked for, so `latentvj run` never loads training code. This
module imports nothing heavy at the top; each verb imports its own machinery.

    python -m latentvj.training.cli train decoder DATA --out RUN   (what torchrun launches)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _errors():
    from latentvj.daemon.show.bundle import ShowError

    from latentvj.training.data.dataset import DatasetError
    from latentvj.training.data.video_io import VideoError

    return DatasetError, VideoError, ShowError


def _guard(fn):
    """Expected errors end with one line and status 2, like the daemon's verbs."""

    def run(args: argparse.Namespace, flags: dict | None = None) -> int:
        try:
            return fn(args)
        except _errors() as exc:
            print(f"latentvj {args.cmd}: error: {exc}", file=sys.stderr)
            return 2

    return run


# ---- dataset ---------------------------------------------------------------------------------
def cmd_dataset_build(args: argparse.Namespace) -> int:
    from latentvj.training.data.dataset_build import BuildOptions, build_dataset

    opts = BuildOptions(size=args.size, fps=args.fps, heldout_seconds=args.heldout_seconds,
                        heldout_every=args.heldout_every, device=args.device)
    m = build_dataset(args.videos, args.encoder, args.out, opts)
    frames = sum(it["frames"] for it in m["items"])
    held = m["stats"]["train_frames"]
    print(f"dataset {args.out}: {len(m['items'])} videos ({m['_built']} encoded, {m['_reused']} reused), "
          f"{frames} frames ({frames / m['fps'] / 60:.1f} min) at {m['size']}x{m['size']}, {m['fps']:g} fps; "
          f"{m['latent_dim']}-d latents, {held} training / {frames - held} held-out frames")
    return 0


def add_dataset(sub) -> None:
    p = sub.add_parser("dataset", help="(training) build a dataset from music videos")
    ds = p.add_subparsers(dest="dataset_cmd", required=True)
    b = ds.add_parser("build", help="decode videos, encode their audio, align latents to frames")
    b.add_argument("videos", nargs="+", type=Path, help="video files or folders of them")
    b.add_argument("--encoder", type=Path, help="the RAVE streaming export the show will use (left out: no RAVE "
                   "columns, for shows that read the music stream alone; the built-in demo's is "
                   "daemon/show/builtin/demo/encoder.ts)")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--size", type=int, default=256, help="square frame size (default 256)")
    b.add_argument("--fps", type=float, default=30.0)
    b.add_argument("--heldout-seconds", type=float, default=8.0, help="length of each held-out segment")
    b.add_argument("--heldout-every", type=int, default=10, help="hold out one segment in this many")
    b.add_argument("--device", default="cpu", help="where the encoder runs (default cpu)")
    b.set_defaults(func=_guard(cmd_dataset_build))


# ---- show make -------------------------------------------------------------------------------
def cmd_show_make(args: argparse.Namespace) -> int:
    from latentvj.training.show.show_make import MakeOptions, make_show

    opts = MakeOptions(size=args.size, steps=args.steps, minutes=args.minutes, device=args.device,
                       encoder=args.encoder, conditioning=args.conditioning, config=args.config, name=args.name,
                       work=args.work)
    try:
        r = make_show(args.videos, args.out, opts, progress=not args.quiet)
    except KeyboardInterrupt:
        print("\nlatentvj show make: stopped; the same command continues where it stopped", file=sys.stderr)
        return 130
    from latentvj.training.eval.evaluate import format_metrics

    print(f"show {r['bundle']}: {r['steps']} steps at {r['settings']['size']}x{r['settings']['size']}\n  "
          f"{format_metrics(r['metrics'])}")
    print(f"  sheet:  {r['sheet']}\n  scores: {r['scores']}\n  work:   {r['work']} (delete it once you are happy)")
    print(f"play it:  latentvj run --show {r['bundle']}")
    return 0


def add_show_make(sub) -> None:
    m = sub.add_parser("make", help="(training) music videos -> a show bundle in one command: dataset, training, "
                       "export, sheet, scores; run it again to continue after a stop")
    m.add_argument("videos", nargs="+", type=Path, help="video files with their soundtrack, or folders of them")
    m.add_argument("--out", required=True, type=Path, help="the show bundle to write, e.g. shows/NAME (its work "
                   "folder is NAME.make beside it)")
    m.add_argument("--size", type=int, help="square frame size (default 128 on a CPU, 256 on a GPU)")
    budget = m.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="training steps (default 5000)")
    budget.add_argument("--minutes", type=float, help="training time budget: steps are fitted to it on this machine")
    m.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda when there is one)")
    m.add_argument("--encoder", type=Path, help="a RAVE streaming export (default: the built-in demo's)")
    m.add_argument("--conditioning", default="rave,music",
                   help="streams the show reads (default rave,music; 'music' needs no RAVE)")
    m.add_argument("--config", type=Path, help="a TOML file of training settings over the recipe's "
                   "(see train_config.py)")
    m.add_argument("--name", help="the show's name (default: the --out folder's)")
    m.add_argument("--work", type=Path, help="work folder (default: OUT.make beside the bundle)")
    m.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    m.set_defaults(func=_guard(cmd_show_make))


# ---- train -----------------------------------------------------------------------------------
def cmd_train_model(args: argparse.Namespace) -> int:
    from latentvj.daemon.config import parse_size

    from latentvj.training.data.dataset import DatasetError
    from latentvj.training.eval.evaluate import format_metrics
    from latentvj.training.train_config import SHOW_DEFAULTS, TrainConfig, apply, load_file, to_dict

    show = args.train_cmd in ("show", "vae")
    flags = {"data": str(args.data)}
    if not show and args.arch:
        flags["arch"] = args.arch
    for key in ("steps", "batch", "context", "workers", "seed", "conditioning", "music_features", "music_window",
                "latent"):
        if getattr(args, key, None) is not None:
            flags[key] = getattr(args, key)
    if args.size:
        flags["width"], flags["height"] = parse_size(args.size, DatasetError)
    saved = args.out / "config.toml"
    if args.resume and saved.is_file():
        cfg = apply(TrainConfig(), load_file(saved), str(saved))
        changed = {k: v for k, v in flags.items() if k != "data" and to_dict(cfg)[k] != v}
        if changed:
            raise DatasetError(f"--resume keeps the run's own settings ({saved}); these differ: "
                               + ", ".join(f"{k}={v}" for k, v in changed.items()))
        cfg.data = str(args.data)
    else:
        cfg = TrainConfig()
        if show:  # `train vae` reads the music features alone
            apply(cfg, {**SHOW_DEFAULTS, **({"conditioning": "music"} if args.train_cmd == "vae" else {})},
                  f"train {args.train_cmd} defaults")
        if args.config:
            apply(cfg, load_file(args.config), str(args.config))
        apply(cfg, flags, "command line")
    if show:
        from latentvj.training.show.show_trainer import train_show

        result = train_show(cfg, args.out, args.resume, device=args.device)
        if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 reports for all
            return 0
        print(f"{args.out}: image show trained {cfg.steps} steps; held-out {format_metrics(result['metrics'])}; "
              f"audio explains {', '.join(f'{r:.2f}' for r in result['explained'][:8])} of the first directions")
        return 0
    from latentvj.training.decoder.trainer import train

    result = train(cfg, args.out, args.resume, device=args.device)
    if result:
        print(f"{args.out}: {cfg.arch} trained {cfg.steps} steps; held-out {format_metrics(result['metrics'])}")
    return 0


def cmd_train_rave(args: argparse.Namespace) -> int:
    from latentvj.training.rave import DEFAULT_VENV, RaveJob, train_rave

    job = RaveJob(args.audio_dir, args.name, args.out, config=args.config, steps=args.steps, gpu=args.gpu,
                  latent_dim=args.latent_dim)
    if args.override:
        job.overrides = args.override
    train_rave(job, args.venv or DEFAULT_VENV)
    return 0


def add_train(sub) -> None:
    p = sub.add_parser("train", help="(training) train an image show, a decoder or a RAVE model")
    ts = p.add_subparsers(dest="train_cmd", required=True)
    for name, help_ in (("show", "image model on the frames, then the audio mapping into its latent (sharp)"),
                        ("vae", "the same on the music features alone, no RAVE (export --mapping direct: "
                                "loudness alone moves the picture's largest direction, the footage plays the rest)"),
                        ("decoder", "latent -> image regression decoder (ours, or the baseline: a plain "
                                     "pixel-loss decoder, for comparison)")):
        t = ts.add_parser(name, help=help_)
        t.add_argument("data", type=Path)
        t.add_argument("--out", required=True, type=Path, help="run folder (checkpoint, config, TensorBoard)")
        t.add_argument("--steps", type=int)
        t.add_argument("--batch", type=int)
        t.add_argument("--size", help="output WxH (default: the dataset's frame size)")
        t.add_argument("--config", type=Path, help="a TOML file of training settings (see train_config.py)")
        t.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
        t.add_argument("--workers", type=int, help="data loading processes (default 2)")
        t.add_argument("--seed", type=int)
        t.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda when available)")
        t.add_argument("--conditioning", help="streams the model takes, in order (default rave,music; train vae: music; "
                                              "also: music, rave, features)")
        t.add_argument("--music-features", help="music stream columns, comma-separated (default: loudness, "
                                                "centroid, the four onsets, the twelve chroma)")
        d = "4" if name != "decoder" else "1"
        t.add_argument("--context", type=int, help=f"RAVE latents (one per frame) the model sees, newest last (default {d})")
        d = "8" if name != "decoder" else "1"
        t.add_argument("--music-window", type=int, help=f"music rows (one per frame) the model sees (default {d})")
        if name == "decoder":
            t.add_argument("--arch", choices=["ours", "baseline"], help="ours (default) or the baseline")
        else:
            t.add_argument("--latent", type=int, help="image latent dimensions, 8..64 (default 32)")
        t.set_defaults(func=_guard(cmd_train_model))
    r = ts.add_parser("rave", help="train a RAVE model with acids-rave in its own environment")
    r.add_argument("audio_dir", type=Path)
    r.add_argument("--name", required=True)
    r.add_argument("--out", required=True, type=Path)
    r.add_argument("--config", default="v2", help="acids-rave config (default v2)")
    r.add_argument("--steps", type=int, default=300)
    r.add_argument("--gpu", type=int, help="GPU index (default: CPU)")
    r.add_argument("--latent-dim", type=int, default=8, help="export at least this many dimensions")
    r.add_argument("--override", action="append", help="acids-rave gin override, e.g. CAPACITY=8 (repeatable)")
    r.add_argument("--venv", type=Path, help="where acids-rave's environment lives")
    r.set_defaults(func=_guard(cmd_train_rave))


# ---- export, eval ----------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from latentvj.daemon.show.pack import show_info

    from latentvj.training.export import export_show

    out, diff = export_show(args.run, args.out, args.encoder, args.name, args.mapping)
    print(show_info(str(out)))
    print(f"checked: the daemon's loaded show matches the checkpoint on held-out inputs (max difference {diff:.1e})")
    return 0


def add_export(sub) -> None:
    p = sub.add_parser("export", help="(training) a training run -> a show bundle, checked")
    p.add_argument("run", type=Path)
    p.add_argument("--encoder", type=Path, help="the RAVE export the run's dataset was built with")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--name")
    p.add_argument("--mapping", choices=["fitted", "direct"], default="fitted",
                   help="image shows: the trained mapping (default), or direct: loudness alone moves latent "
                        "dimension 0, the footage plays the rest")
    p.set_defaults(func=_guard(cmd_export))


def cmd_eval(args: argparse.Namespace) -> int:
    from latentvj.training.eval.evaluate import evaluate, format_metrics

    m = evaluate(args.target, args.data, args.frames)
    print(f"{args.target}: {format_metrics(m)}")
    return 0


def add_eval(sub) -> None:
    p = sub.add_parser("eval", help="(training) held-out metrics of a run or a show on a dataset")
    p.add_argument("target", help="a run folder or a show bundle")
    p.add_argument("data", type=Path)
    p.add_argument("--frames", type=int, default=2000, help="held-out frames to use at most")
    p.set_defaults(func=_guard(cmd_eval))


def main(argv: list[str] | None = None) -> int:
    import logging

    parser = argparse.ArgumentParser(prog="latentvj")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for add in (add_dataset, add_train, add_export, add_eval):
        add(sub)
    show = sub.add_parser("show", help="(training) show make")
    add_show_make(show.add_subparsers(dest="show_cmd", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
