"""What recording a take costs the live frames: the demo plays the demo loop for the same span
with the recorder off, on and off again, and the frame rates are set against each other (the
machine's noise shows as the difference between the two runs without it). The take is kept for
`latentvj render --replay` (whose speed that command prints).

    python -m latentvj.daemon.bench.record_bench --out DIR [--seconds 60] [--fps 30] [--sink null]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from ..engine.engine_options import EngineOptions
from ..record.take_folder import TakeFolder, take_header
from .demo_engine import demo_engine


def one_run(seconds: float, fps: float, sink: str, takes: Path | None) -> dict:
    """One live run of the demo; with `takes`, recorded into a new take there."""
    engine = demo_engine(EngineOptions(fps=fps, max_frames=round(seconds * fps)), sink)
    errors: list[str] = []
    rec = TakeFolder(takes, take_header(engine)).start(engine.source, errors.append) if takes else None
    engine.record(rec)
    engine.start()
    try:
        engine.done.wait(seconds + 30)
    finally:
        engine.stop()
    if rec is not None:
        engine.record(None)
        rec.close()
    s = engine.stats
    _, _, p99 = s.percentiles("frame_ms")
    return {"fps": s.fps(), "published": s.published, "dropped": s.dropped, "late": s.late, "p99": p99,
            "take": rec.folder if rec else None, "frames": rec.frames if rec else 0, "errors": errors}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path, help="the folder the take goes in")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--sink", default="null", help="where the frames go (default null; file:OUT.mp4 to add H.264)")
    a = p.parse_args(argv)
    runs = [("off", one_run(a.seconds, a.fps, a.sink, None)),
            ("on", one_run(a.seconds, a.fps, a.sink, a.out)),
            ("off again", one_run(a.seconds, a.fps, a.sink, None))]
    print(f"record bench: the demo, {a.seconds:g} s at {a.fps:g} fps, sink {a.sink}, "
          f"{torch.get_num_threads()} torch threads")
    for name, r in runs:
        print(f"  recorder {name:9s}: {r['fps']:.3f} fps, {r['published']} published, {r['dropped']} dropped, "
              f"{r['late']} late latents, frame time p99 {r['p99']:.2f} ms"
              + (f"; take {r['take']} ({r['frames']} frames{', errors: ' + '; '.join(r['errors']) if r['errors'] else ''})"
                 if r["take"] else ""))
    off = np.mean([runs[0][1]["fps"], runs[2][1]["fps"]])
    print(f"frame rate with the recorder on / off: {runs[1][1]['fps'] / off:.4f} "
          f"(the two runs without it differ by {abs(runs[0][1]['fps'] / runs[2][1]['fps'] - 1) * 100:.2f} %)")
    print(f"replay it: latentvj render --replay {runs[1][1]['take']} --size 256x256 -o set.mp4")


if __name__ == "__main__":
    main()
