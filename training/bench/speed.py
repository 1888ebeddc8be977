"""Training benchmarks: figures, not tests.

    python -m latentvj.training.bench.speed dataset [--seconds 30] [--size 256]
        dataset build frames/s and peak RSS for 1x and 4x the input (RSS should stay flat)
    python -m latentvj.training.bench.speed train [--size 256] [--steps 40] [--device cuda]
        decoder training samples/s (ours and baseline) and the fraction of each step spent
        waiting for data (near 0: the loader is not the bottleneck)
    python -m latentvj.training.bench.speed frame [--size 256] [--device cuda] [--threads 1]
        an image show's per-frame cost: the mapping (26-d x 8 frames -> 32-d) and the PCA-folded
        image decoder, TorchScript as exported, median ms per frame (weights do not change it)

Each dataset build runs in its own process so its peak RSS is its own.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from latentvj.daemon.show.bundle import BUILTIN_DIR

from latentvj.training.synth.synthetic import procedural_track, write_music_video

ENCODER = BUILTIN_DIR / "demo" / "encoder.ts"
_CHILD = ("import resource, sys; from latentvj.daemon.cli import main; rc = main(sys.argv[1:]); "
          "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")


def bench_dataset(seconds: float, size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="latentvj-bench-") as tmp:
        work = Path(tmp)
        videos = [write_music_video(work / f"v{i}.mp4", procedural_track(44100, seconds, seed=i)) for i in range(4)]
        for copies in (1, 4):
            out = work / f"data{copies}"
            argv = ["dataset", "build", *map(str, videos[:copies]), "--encoder", str(ENCODER), "--out", str(out),
                    "--size", str(size)]
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True)
            span = time.perf_counter() - t
            if r.returncode:
                sys.exit(r.stderr)
            rss = int(r.stdout.split("peak_rss_kb")[1].split()[0]) / 1024
            frames = int(round(copies * seconds * 30))
            print(f"dataset build {copies}x ({copies * seconds:.0f} s of video, {frames} frames at {size}x{size}): "
                  f"{span:.1f} s incl. start-up, {frames / span:.0f} frames/s, peak RSS {rss:.0f} MB")


def bench_train(size: int, steps: int, device: str | None, batch: int, workers: int) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from latentvj.training.data.dataset_build import BuildOptions, build_dataset
    from latentvj.training.train_config import TrainConfig, apply
    from latentvj.training.decoder.trainer import train

    with tempfile.TemporaryDirectory(prefix="latentvj-bench-") as tmp:
        work = Path(tmp)
        video = write_music_video(work / "v.mp4", procedural_track(44100, 40.0, seed=0))
        build_dataset([video], ENCODER, work / "data", BuildOptions(size=size, heldout_seconds=4.0))
        for arch in ("ours", "baseline"):
            cfg = apply(TrainConfig(), {"data": str(work / "data"), "arch": arch, "steps": steps, "batch": batch,
                                        "workers": workers, "log_every": 5, "eval_every": 10 ** 6,
                                        "ckpt_every": 10 ** 6, "eval_frames": 32}, "bench")
            train(cfg, work / arch, resume=False, device=device, progress=False)
            ev = EventAccumulator(str(work / arch / "tb"))
            ev.Reload()
            sps = [e.value for e in ev.Scalars("speed/samples_per_s")][1:]  # the first window holds warm-up
            wait = [e.value for e in ev.Scalars("speed/data_wait_fraction")][1:]
            print(f"train {arch:<8} {size}x{size} batch {batch}, {workers} workers, on {device or 'auto'}: "
                  f"{sum(sps) / len(sps):.1f} samples/s, waiting for data {sum(wait) / len(wait):.1%} of the time")


def bench_frame(size: int, device: str | None, threads: int, frames: int = 200) -> None:
    import numpy as np
    import torch

    from latentvj.training.show.audio_mapping import AudioMapping
    from latentvj.training.show.image_model import ImageAutoencoder, code_pca, fold_pca

    torch.set_num_threads(threads)
    dev = torch.device(device or "cpu")
    ae = ImageAutoencoder(32, size, size)
    pca = code_pca(np.random.default_rng(0).standard_normal((256, 32)))
    decoder = torch.jit.script(fold_pca(ae.decoder, pca).eval()).to(dev)
    mapping = torch.jit.script(AudioMapping(26, 8, 32, [(0, 8, 4), (8, 18, 8)]).eval()).to(dev)
    c = torch.zeros(1, 8, 26, device=dev)
    times: dict[str, list[float]] = {"mapping": [], "decoder": []}
    with torch.no_grad():
        for k in range(frames + 20):
            t0 = time.perf_counter()
            z = mapping(c)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t1 = time.perf_counter()
            decoder(z).float().cpu()
            t2 = time.perf_counter()
            if k >= 20:  # after warm-up (TorchScript profiles its first calls)
                times["mapping"].append((t1 - t0) * 1e3)
                times["decoder"].append((t2 - t1) * 1e3)
    m, d = np.median(times["mapping"]), np.median(times["decoder"])
    print(f"image show frame {size}x{size} on {dev} ({threads} thread{'s' if threads > 1 else ''}): mapping "
          f"{m:.2f} ms + decoder {d:.2f} ms = {m + d:.2f} ms median over {frames} frames "
          f"(p95 {np.percentile(np.add(times['mapping'], times['decoder']), 95):.2f} ms)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["dataset", "train", "frame"])
    p.add_argument("--seconds", type=float, default=30.0, help="dataset: length of each video")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device")
    p.add_argument("--threads", type=int, default=1, help="frame: CPU threads")
    args = p.parse_args(argv)
    if args.what == "dataset":
        bench_dataset(args.seconds, args.size)
    elif args.what == "frame":
        bench_frame(args.size, args.device, args.threads)
    else:
        bench_train(args.size, args.steps, args.device, args.batch, args.workers)


if __name__ == "__main__":
    main()
