"""`python -m latentvj.stress [--quick] [--only NAME ...]`: one line of figures per scenario.

Full run (about 20 minutes on 2 cores): 200,000 fuzzed packets, valid floods at 1k/5k/10k
messages a second, a 3,000-packet burst, a show-switch storm, 33 broken bundles at start-up and
live, a 10-minute soak, a PulseAudio server killed and restarted. `--quick` runs each in seconds
(the tests run it)."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .scenarios import Settings, all_scenarios


def main(argv: list[str] | None = None) -> int:
    names = list(all_scenarios(Settings(Path("."))))
    p = argparse.ArgumentParser(prog="python -m latentvj.stress", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="seconds per scenario instead of minutes")
    p.add_argument("--only", nargs="+", choices=names, help="run these scenarios")
    p.add_argument("--work", type=Path, help="folder for logs and bundles (default: a temporary one)")
    p.add_argument("--soak-s", type=float, help="soak length in seconds (default 600, 12 with --quick)")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="latentvj-stress-"))
    work.mkdir(parents=True, exist_ok=True)
    s = Settings.make(work, args.quick)
    if args.soak_s:
        s.soak_s = args.soak_s
    print(f"logs in {work}", flush=True)
    missed = 0
    for name, run in all_scenarios(s).items():
        if args.only and name not in args.only:
            continue
        result = run()
        missed += not result.ok
        print(result.line(), flush=True)
    print("all targets met" if not missed else f"{missed} scenario(s) missed a target", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
