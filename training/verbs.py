"""One public `latentvj` command run in this process: how the demo builder and the benchmarks
drive the pipeline, so what they measure is what a user's command does."""
from __future__ import annotations

import sys
import time

from latentvj.daemon.cli import main as latentvj


def run_verb(*argv: str, who: str) -> float:
    """Run `latentvj ARGV...`; a failure ends the caller (`who`) with the command named. Returns
    the command's wall time in seconds."""
    print(f"\n$ latentvj {' '.join(argv)}", flush=True)
    t = time.perf_counter()
    if latentvj(list(argv)) != 0:
        sys.exit(f"{who}: `latentvj {' '.join(argv)}` failed")
    return time.perf_counter() - t
