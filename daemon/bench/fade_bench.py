"""What a show crossfade costs the frames: the demo plays the demo loop, then fades to another show
(a second copy of the demo by default: two demo-sized decoders at once) and back, and the frames
of each fade are counted against the frames of the same span before it.

    python -m latentvj.daemon.bench.fade_bench [--to SHOW] [--fade 4] [--fps 30] [--threads N]
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import torch

from ..engine.engine_options import EngineOptions
from ..engine.run_stats import STAT_CAPACITY
from .demo_engine import demo_engine

LEAD_S = 4.0  # the demo alone first: the frames a fade is compared with


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--to", default="demo", help="the show to fade to and back from (default: the demo again)")
    p.add_argument("--fade", type=float, default=4.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    frames: list[tuple[int, bool, float]] = []  # (grid index, fading, frame ms)

    def observe(j, frame, done, status) -> None:
        frames.append((j, status.fading, float(engine.stats.frame_ms[(engine.stats.published - 1) % STAT_CAPACITY])))

    engine = demo_engine(EngineOptions(fps=a.fps), observer=observe)
    engine.start()
    try:
        time.sleep(LEAD_S)
        starts = []  # seconds from asking to the fade's start (the load)
        for spec in (a.to, "demo"):
            over = threading.Event()
            t = time.monotonic()
            engine.switch_show(spec, a.fade, lambda name: over.set())  # returns as the fade starts
            starts.append(time.monotonic() - t)
            over.wait(a.fade + 30)
        time.sleep(1.0)
    finally:
        engine.stop()
    print(f"fade bench: demo -> {a.to} -> demo, {a.fade:g} s fades at {a.fps:g} fps, "
          f"{torch.get_num_threads()} torch threads; the fades started {starts[0]:.2f} and {starts[1]:.2f} s after they were asked for (the loads)")
    index = np.array([j for j, _, _ in frames])
    fading = np.array([f for _, f, _ in frames])
    ms = np.array([m for _, _, m in frames])
    lead = index < int((LEAD_S - 0.5) * a.fps)
    lead_ms = ms[lead][int(a.fps):]  # after the first second's warm-up
    print(f"before the fades: frame time p50 {np.percentile(lead_ms, 50):.2f} ms, p99 {np.percentile(lead_ms, 99):.2f} ms")
    edges = np.flatnonzero(np.diff(fading.astype(int)) != 0) + 1
    starts, ends = edges[::2], edges[1::2]
    for k, (s, e) in enumerate(zip(starts, ends)):
        span = index[e - 1] - index[s] + 1  # grid slots the fade covered
        shown = e - s
        print(f"fade {k + 1}: {shown} frames of {span} grid slots ({span - shown} dropped; "
              f"{shown / span * 100:.1f} % of the frame rate), expected {a.fade * a.fps:.0f}; frame time p50 "
              f"{np.percentile(ms[s:e], 50):.2f} ms, p99 {np.percentile(ms[s:e], 99):.2f} ms")
    print(f"whole run: {engine.stats.published} published, {engine.stats.dropped} dropped, "
          f"{engine.stats.late} late latents")


if __name__ == "__main__":
    main()
