"""The engine's shared state under fire: show switches, presets, faders and web reads from
several threads at once, while the frames go on. Each thread checks what it can see; at the end
the engine, the controls and the last request must agree."""
import random
import threading
import time

import numpy as np

from conftest import CPU
from latentvj.daemon.audio.sources import PacedSource
from latentvj.daemon.control.state import Control, ControlError
from latentvj.daemon.control.vocabulary import ERROR_ADDRESS, ControlHandlers
from latentvj.daemon.engine.live_engine import LiveEngine
from latentvj.daemon.engine.engine_options import EngineOptions
from latentvj.daemon.show.bundle import load_manifest, resolve_show_path
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.sinks.null import NullSink
from latentvj.daemon.web.live_values import LiveValues

SECONDS = 4.0


def test_switches_presets_faders_and_web_reads_at_once_keep_every_invariant(features_show, tmp_path):
    shows = {"demo": "demo", "features": str(features_show)}
    dims = {name: load_manifest(resolve_show_path(spec)).latent_dim for name, spec in shows.items()}
    assert len(set(dims.values())) == 2  # a switch changes the latent size: the hard case
    control = Control(dims["demo"], preset_dir=tmp_path)
    engine = LiveEngine(PacedSource("tone", 0.1 * np.random.default_rng(0).standard_normal((44100, 1)).astype(np.float32),
                                    44100, loop=True),
                        ShowRuntime.load("demo", CPU), control, [NullSink("null")], None, EngineOptions(fps=30), CPU)
    handlers = ControlHandlers(control, engine.switch_show)
    live = LiveValues(control, engine)
    stop = threading.Event()
    problems: list[str] = []
    replies: list[tuple] = []
    requested: list[str] = []

    def guarded(body):
        def run():
            rng = random.Random(hash(body.__name__) & 0xFFFF)
            try:
                while not stop.is_set():
                    body(rng)
            except Exception as exc:  # noqa: BLE001 - any escape is a failed invariant
                problems.append(f"{body.__name__}: {type(exc).__name__}: {exc}")
        return threading.Thread(target=run, name=body.__name__)

    def switcher(rng):
        name = rng.choice(list(shows))
        requested.append(name)
        handlers.handle("/latentvj/show", (shows[name],), replies.append)
        time.sleep(rng.uniform(0.05, 0.3))

    def presets(rng):
        name = rng.choice(["a", "b"])
        address = rng.choice(["/latentvj/preset/save", "/latentvj/preset/load"])
        try:
            handlers.handle(address, (name,), replies.append)
        except ControlError:
            pass
        time.sleep(0.01)

    def faders(rng):
        dim = rng.choice(list(dims.values()))
        address, args = rng.choice([
            (f"/latentvj/bias/{rng.randrange(dim)}", (rng.uniform(-2, 2),)),
            (f"/latentvj/scale/{rng.randrange(dim)}", (rng.uniform(0, 2),)),
            ("/latentvj/permute", tuple(rng.sample(range(dim), dim))),
            ("/latentvj/noise", (rng.uniform(0, 0.5),)),
        ])
        try:
            handlers.handle(address, args)
        except ControlError:
            pass  # another show's size: refused, as it must be

    def web(rng):
        st = engine.status()
        if st.latent.shape != (st.latent_dim,) or dims[st.show] != st.latent_dim:
            raise AssertionError(f"status of {st.show!r} with {st.latent_dim} dims holds a latent of {st.latent.shape}")
        if st.latent.flags.writeable or st.music.flags.writeable:
            raise AssertionError("the status arrays can be written by a reader")
        values = live.collect()
        shown = values["/latentvj/info/show"][0]
        if len(values["/latentvj/latent"]) != dims[shown]:
            raise AssertionError(f"the page shows {shown!r} with {len(values['/latentvj/latent'])} values")
        v = control.snapshot()
        if not (len(v.scales) == len(v.biases) == len(v.permutation) == v.dim):
            raise AssertionError(f"controls of mixed sizes: {v}")

    threads = [guarded(f) for f in (switcher, presets, faders, web)]
    engine.start()
    try:
        first = engine.status().frame
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(10)
        deadline = time.monotonic() + 30
        while not handlers.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
        last = requested[-1]
        deadline = time.monotonic() + 10
        while engine.status().show != last and time.monotonic() < deadline:
            time.sleep(0.05)
        st = engine.status()
    finally:
        handlers.stop()
        engine.stop()
    assert not problems, problems
    assert st.show == last and st.latent_dim == dims[last] == control.dim
    assert 1 <= st.show_serial <= len(requested)  # switches superseded in the queue never ran
    assert st.frame > first and engine.status().decode_errors == 0  # the frames went on, none failed
    assert st.dropped == engine.stats.dropped
    shows_loaded = [r for r in replies if r[0] == "/latentvj/show/loaded"]
    assert shows_loaded and shows_loaded[-1][1] == last
    assert all(r[0] in ("/latentvj/show/loaded", "/latentvj/preset/saved", "/latentvj/preset/loaded", ERROR_ADDRESS)
               for r in replies)
