"""`latentvj bench` end to end on a short click track: every figure it promises is printed."""
import re

from conftest import CPU
from latentvj.daemon.bench.live_bench import run_bench
from latentvj.daemon.config import load_config
from latentvj.daemon.engine.thread_budget import ThreadBudget


def test_bench_prints_each_figure_and_matches_its_live_frames_to_render():
    cfg = load_config(None, {"fps": 60.0, "sink": ["null"]})
    report = run_bench(cfg, CPU, ThreadBudget.from_config(cfg), seconds=4.0)
    for label in ("threads: torch", "fps achieved", "frame time ms", "encoder ms per hop", "decoder ms per frame",
                  "click -> picture", "audio->frame latency", "rave stream", "music stream",
                  "click->/latentvj/onset", "music analysis"):
        assert label in report, report
    assert re.search(r"click -> picture +2/2 clicks visible", report), report  # render's pairs: deterministic
    seen = re.search(r"audio->frame latency (\d)/2 clicks seen.*; (\d)/(\d) of those frames equal", report)
    assert seen and int(seen[3]) == int(seen[1]) >= 1, report  # the live run published those frames
