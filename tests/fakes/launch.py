"""Run the real `latentvj` CLI in this process as if on macOS or Windows, with the strict fake
of that platform's texture-sharing library in sys.modules; then write what the fake recorded.

    python tests/fakes/launch.py darwin|win32 RECORD.json [spout-taken=NAME ...] -- run --sink ...
"""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fakes import spoutgl_fake, syphon_fake  # noqa: E402


def main() -> int:
    platform, record_path, *rest = sys.argv[1:]
    cut = rest.index("--")
    options, argv = rest[:cut], rest[cut + 1 :]
    from latentvj.daemon.sinks import catalog

    catalog.current_platform = lambda: platform
    if platform == "darwin":
        rec = syphon_fake.install()
    else:
        rec = spoutgl_fake.install()
        for opt in options:
            key, _, value = opt.partition("=")
            if key == "spout-taken":
                rec.taken.add(value)
    from latentvj.daemon.cli import main as cli_main

    rc = cli_main(argv)
    if platform == "darwin":
        out = {"main_pumps": rec.main_pumps, "pumped_on": sorted(rec.pumped_on),
               "main_thread": threading.main_thread().name,
               "servers": [{"name": s.name, "published": len(s.published), "visible": s.visible,
                            "stopped": s.stopped, "flipped": sorted({f for _, f, _ in s.published}),
                            "threads": sorted({t for _, _, t in s.published})} for s in rec.servers]}
    else:
        out = {"senders": [{"name": s._name, "sent": s.sent, "frame_syncs": s.frame_syncs, "released": s.released,
                            "threads": sorted(s.send_threads)} for s in rec.senders]}
    Path(record_path).write_text(json.dumps(out))
    return rc


if __name__ == "__main__":
    sys.exit(main())
