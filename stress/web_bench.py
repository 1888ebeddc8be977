"""`python -m latentvj.stress.web_bench`: the daemon's frame rate with browsers showing the page,
against the same daemon with none, and how far the page's preview lags the output.

One daemon on the demo show (null sink); `--seconds` with no browser, the same with
`--browsers` headless chromiums each showing the page (preview at up to 15 fps), and again with
none: the ratio is against the mean of the two runs without. The preview's delay is measured in
the page: when a JPEG has been decoded, minus when its frame was made (one clock: same machine).
Targets: >= 97 % of the frame rate, delay p95 < 150 ms.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from .browser import launch
from .daemon_under_test import DaemonUnderTest, free_port


def _idle(d: DaemonUnderTest, seconds: float) -> float:
    t = time.monotonic()
    time.sleep(seconds)
    return d.watch.fps(t, time.monotonic())


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(prog="python -m latentvj.stress.web_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    p.add_argument("--browsers", type=int, default=2)
    p.add_argument("--fps", type=int, default=30, help="the daemon's frame rate (default 30)")
    p.add_argument("--size", help="the daemon's output size, WxH (default: the show's, 128x128 for the demo)")
    p.add_argument("--work", type=Path, help="folder for the daemon's log (default: a temporary one)")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="latentvj-web-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    http = free_port()
    d = DaemonUnderTest("demo", work / "web-bench.log", "--oscquery", f"127.0.0.1:{http}",
                        "--latent-rate", str(args.fps),  # the watch counts latents: one a frame
                        *(("--size", args.size) if args.size else ()), fps=args.fps)
    try:
        d.wait_ready()
        time.sleep(3.0)  # past the start-up
        before = _idle(d, args.seconds)
        with sync_playwright() as pw:
            browsers = [launch(pw) for _ in range(args.browsers)]
            pages = [b.new_page(viewport={"width": 1280, "height": 900}) for b in browsers]
            for page in pages:
                page.goto(f"http://127.0.0.1:{http}/")
                page.wait_for_function("window.latentvj.previewFrames >= 3", timeout=30000)
            for page in pages:
                page.evaluate("window.latentvj.delays = []; window.latentvj.previewFrames = 0")
            t = time.monotonic()
            time.sleep(args.seconds)
            during = d.watch.fps(t, time.monotonic())
            got = [page.evaluate("[window.latentvj.previewFrames, window.latentvj.delays]") for page in pages]
            for b in browsers:
                b.close()
        after = _idle(d, args.seconds)
    finally:
        d.stop()
    base = (before + after) / 2
    ratio = during / base
    delays = np.concatenate([np.asarray(dl[-1000:], float) for _, dl in got]) if got else np.zeros(0)
    rates = ", ".join(f"{n / args.seconds:.1f}" for n, _ in got)
    p50, p95, worst = (np.percentile(delays, [50, 95, 100]) if len(delays) else (np.nan,) * 3)
    print(f"output {args.size or 'the show size'} at {args.fps} fps; fps: no browser {before:.2f}, {args.browsers} browsers {during:.2f}, no browser again {after:.2f}; "
          f"ratio {ratio:.1%} (target >= 97 %)")
    print(f"preview: {rates} frames/s per browser; delay behind the output p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
          f"max {worst:.0f} ms (target p95 < 150 ms)")
    ok = ratio >= 0.97 and p95 < 150
    print("targets met" if ok else "a target was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
