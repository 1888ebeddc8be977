"""Show crossfades: the mix in linear light, and the live engine fading between two shows, from a
still when a switch comes during a fade, with the reply once the fade is over."""
import threading
import time

import numpy as np
import pytest

from conftest import CPU, eventually
from latentvj.daemon.audio.sources import PacedSource
from latentvj.daemon.control.state import Control, ControlError
from latentvj.daemon.control.vocabulary import ControlHandlers
from latentvj.daemon.engine.crossfade import Crossfade
from latentvj.daemon.engine.engine_options import EngineOptions
from latentvj.daemon.engine.live_engine import LiveEngine
from latentvj.daemon.show.runtime import ShowRuntime

FPS = 20


def solid(rgb, h=2, w=3):
    f = np.zeros((h, w, 4), np.uint8)
    f[..., :3], f[..., 3] = rgb, 255
    return f


def test_a_fade_mixes_in_linear_light_and_ends_on_each_picture_exactly():
    fade = Crossfade(3, 2, 2.0, start=10.0)
    fade.outgoing[...] = solid((255, 0, 0))
    mid = solid((0, 255, 0))
    fade.mix(mid, fade.weight(11.0))
    assert tuple(mid[0, 0]) == (188, 188, 0, 255)  # half the light of each: brighter than 128
    coded = Crossfade(3, 2, 2.0, start=10.0, mode="srgb")
    coded.outgoing[...] = solid((255, 0, 0))
    flat = solid((0, 255, 0))
    coded.mix(flat, 0.5)
    assert tuple(flat[0, 0]) == (128, 128, 0, 255)
    codes = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for w, want in ((0.0, "outgoing"), (1.0, "incoming")):
        f = Crossfade(16, 16, 1.0, 0.0)
        f.outgoing[..., :3] = codes[..., None]
        inc = np.zeros((16, 16, 4), np.uint8)
        inc[..., :3] = 255 - codes[..., None]
        expected = (f.outgoing if want == "outgoing" else inc)[..., :3].copy()
        f.mix(inc, w)
        np.testing.assert_array_equal(inc[..., :3], expected)
    assert [fade.weight(t) for t in (9.0, 10.0, 11.5, 12.0, 13.0)] == [0.0, 0.0, 0.75, 1.0, 1.0]


@pytest.mark.parametrize("mode", ["linear", "srgb"])
def test_the_mix_on_the_device_is_the_table_mix_value_for_value(mode):
    """The mix runs in torch (on the decoders' device); it must be the plain table lookups and
    float32 arithmetic, written out here in numpy, for every pixel."""
    from latentvj.daemon.engine.crossfade import _LEVELS, FROM_LINEAR, TO_LINEAR

    rng = np.random.default_rng(0)
    for w in (0.0, 0.13, 0.5, 0.77, 1.0):
        f = Crossfade(64, 48, 1.0, 0.0, mode)
        f.outgoing[...] = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
        inc = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
        a, b = ((TO_LINEAR[x[..., :3]] if mode == "linear" else x[..., :3].astype(np.float32))
                for x in (f.outgoing, inc))
        mixed = (b - a) * np.float32(w) + a
        want = FROM_LINEAR[np.rint(mixed * (_LEVELS - 1)).astype(int)] if mode == "linear" else np.rint(mixed)
        f.mix(inc, w)
        np.testing.assert_array_equal(inc[..., :3], want.astype(np.uint8), err_msg=f"w={w}")


def engine_with_log():
    log = []  # (frame, show, fading)
    engine = LiveEngine(PacedSource("tone", np.zeros((44100, 1), np.float32), 44100, loop=True),
                        ShowRuntime.load("demo", CPU), Control(ShowRuntime.load("demo", CPU).latent_dim), [], None,
                        EngineOptions(fps=FPS), CPU,
                        observer=lambda j, frame, done, st: log.append((j, st.show, st.fading)))
    return engine, log


def switch_in_thread(engine, spec, fade):
    """got: "name" once the fade has started (switch_show returned), "faded" once it is over
    (None when a newer switch took over first)."""
    got = {}
    over = threading.Event()

    def faded(name):
        got["faded"] = name
        over.set()

    def run():
        got["name"] = engine.switch_show(spec, fade, faded)
        got["fading"] = engine.status().fading

    th = threading.Thread(target=run)
    th.start()
    got["over"] = over
    return th, got


def test_the_engine_fades_for_the_fade_time_and_answers_when_it_is_over(features_show):
    engine, log = engine_with_log()
    engine.start()
    try:
        th, got = switch_in_thread(engine, str(features_show), 1.0)
        th.join(30)
        assert got["name"] == "features" and got["fading"]  # back as the fade starts: the worker is free
        assert got["over"].wait(10) and got["faded"] == "features"  # the reply: when it is over
        assert not engine.status().fading and engine.status().show == "features"
        assert eventually(lambda: engine._out_feed is None)  # the encoder no longer feeds the old show
    finally:
        engine.stop()
    fading = [j for j, show, f in log if f]
    assert fading and all(show == "features" for j, show, f in log if f)
    assert abs(len(fading) - 1.0 * FPS) <= 2 and fading == list(range(fading[0], fading[-1] + 1))
    assert engine.stats.dropped <= 2


def test_a_switch_during_a_fade_fades_from_the_picture_on_screen(features_show):
    engine, log = engine_with_log()
    engine.start()
    try:
        first, first_got = switch_in_thread(engine, str(features_show), 3.0)
        assert eventually(lambda: engine.status().fading)
        time.sleep(0.3)
        second, got = switch_in_thread(engine, "demo", 1.0)
        second.join(30)
        first.join(30)
        assert got["over"].wait(10) and got["faded"] == "demo"
        assert first_got["over"].wait(10) and first_got["faded"] is None  # taken over mid-fade
        assert engine.status().show == "demo" and not engine.status().fading
        assert eventually(lambda: engine._out_feed is None)
    finally:
        engine.stop()
    shows = [show for _, show, f in log if f]
    assert shows[0] == "features" and shows[-1] == "demo"
    demo_fade = [j for j, show, f in log if f and show == "demo"]
    assert abs(len(demo_fade) - FPS) <= 2  # the second fade's own time, not the rest of the first


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), 3601.0])
def test_a_bad_fade_time_is_refused_and_nothing_changes(seconds):
    switched = []
    handlers = ControlHandlers(Control(4), lambda *a: switched.append(a))
    try:
        with pytest.raises(ControlError, match="fade time"):
            handlers.handle("/latentvj/show", ("demo", seconds))
        assert eventually(handlers.idle) and switched == []
        handlers.handle("/latentvj/show", ("demo", 2.0))
        assert eventually(lambda: len(switched) == 1)  # (the show worker keeps only the newest request waiting)
        handlers.handle("/latentvj/show", ("other",))
        assert eventually(lambda: len(switched) == 2)
    finally:
        handlers.stop()
    assert [a[:2] for a in switched] == [("demo", 2.0), ("other",)]
