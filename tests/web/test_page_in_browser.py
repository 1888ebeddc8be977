"""The page in a real browser (Debian's chromium, headless, driven by playwright) against a
running daemon: the preview moves, sliders change the latents the daemon publishes over OSC,
a preset is saved and a show switched."""
import os
import subprocess
import time

import numpy as np
import pytest

from conftest import eventually, free_port
from daemon_process import LATENTVJ, Listener, wait_ready
from latentvj.stress.browser import CHROMIUM, launch

if CHROMIUM is None:
    if os.environ.get("LATENTVJ_REQUIRE_BROWSER"):
        raise RuntimeError("chromium is not installed (apt-get install chromium); .ci/run installs it")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def daemon(tmp_path, features_show):
    osc_in, http = free_port(), free_port()
    listener = Listener()
    proc = subprocess.Popen([*LATENTVJ, "run", "--sink", "null", "--osc-in", f"127.0.0.1:{osc_in}",
                             "--osc-out", f"127.0.0.1:{listener.port}", "--oscquery", f"127.0.0.1:{http}",
                             "--preset-dir", str(tmp_path / "presets"), "--show-dir", str(features_show.parent),
                             "--record-dir", str(tmp_path / "takes"),
                             "--duration", "180"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(osc_in)
        yield f"http://127.0.0.1:{http}/", listener, tmp_path / "presets"
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
        listener.close()


def newest_latent(listener, after):
    """The latest /latentvj/latent published after monotonic time `after`."""
    got = [v for t, v in listener.latents if t > after]
    return np.array(got[-1]) if got else None


def wait_latent(listener, test, timeout=10.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        z = newest_latent(listener, t0 + 0.2)
        if z is not None and test(z):
            return z
        time.sleep(0.1)
    raise AssertionError(f"the published latent never passed the test; newest {newest_latent(listener, 0)}")


def test_watch_and_play_from_the_page(daemon):
    from playwright.sync_api import expect, sync_playwright

    url, listener, presets = daemon
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("window.latentvj.previewFrames >= 3", timeout=30000)
        first = page.evaluate("window.latentvj.lastIndex")
        page.wait_for_function(f"window.latentvj.lastIndex > {first} + 5", timeout=10000)  # the preview moves
        assert page.evaluate("document.getElementById('preview').naturalWidth") > 0
        expect(page.locator("#show")).to_have_text("demo")

        # Freeze (a toggle): the published latent holds still; released, it moves with the music again
        page.locator('input[data-address="/latentvj/freeze"]').check()
        time.sleep(0.5)
        t = time.monotonic()
        time.sleep(1.0)
        held = [v for tm, v in listener.latents if tm > t]
        assert len(held) > 10 and all(v == held[0] for v in held)
        page.locator('input[data-address="/latentvj/freeze"]').uncheck()
        time.sleep(0.5)
        t = time.monotonic()
        time.sleep(1.0)
        assert len({v for tm, v in listener.latents if tm > t}) > 5

        # Record (a toggle): a take starts in --record-dir, and ends cleanly when unticked
        record = page.locator('input[data-address="/latentvj/record"]')
        record.check()
        takes = presets.parent / "takes"
        assert eventually(lambda: len(list(takes.glob("*/audio/*.flac"))) >= 1, 20)
        expect(record).to_be_checked()  # the page follows the daemon's state (LISTEN)
        record.uncheck()
        assert eventually(lambda: b'"kind":"stop"' in next(takes.glob("*/events.jsonl")).read_bytes(), 20)
        expect(record).not_to_be_checked()

        # Scale to 0: the latent is the biases alone; then bias 3 to 2.0
        page.locator('input[data-address="/latentvj/scale"]').fill("0")
        wait_latent(listener, lambda z: np.abs(z).max() < 1e-3)
        page.locator('input[data-address="/latentvj/bias/3"]').fill("2")
        z = wait_latent(listener, lambda z: abs(z[3] - 2.0) < 1e-2)
        assert np.abs(np.delete(z, 3)).max() < 1e-3

        page.locator("#preset-name").fill("from-the-page")
        page.locator("#preset-save button").click()
        expect(page.locator("#presets li")).to_contain_text(["from-the-page"], timeout=10000)
        assert (presets / "from-the-page.toml").is_file()

        # Morph back to it over 1.5 s: bias 3 passes through the values between, then holds 2.0
        page.locator('input[data-address="/latentvj/bias/3"]').fill("0")
        wait_latent(listener, lambda z: abs(z[3]) < 1e-3)
        page.locator("#preset-morph").fill("1.5")
        t = time.monotonic()
        page.locator("#presets li", has_text="from-the-page").get_by_role("button").click()
        wait_latent(listener, lambda z: abs(z[3] - 2.0) < 1e-2)  # the slider saved 1.995 (its steps)
        between = [v[3] for tm, v in listener.latents if tm > t and 0.2 < v[3] < 1.8]
        assert len(between) >= 10, between  # about 30 a second for 1.5 s
        page.locator("#preset-morph").fill("0")

        # MIDI learn: tick it, tap a control's name; this daemon has no --midi, and the page says so
        page.locator("#learn").check()
        page.locator("#controls .name", has_text="noise").click()
        expect(page.locator("#errors")).to_contain_text("without --midi", timeout=10000)
        page.locator("#learn").uncheck()

        page.locator("#show-fade").fill("1")  # the switch fades over a second
        page.locator("#shows li", has_text="features").get_by_role("button").click()
        expect(page.locator("#show")).to_have_text("features", timeout=30000)
        # another latent size: PATH_CHANGED, and the page rebuilt its sliders from the new tree
        expect(page.locator("#biases input")).to_have_count(8, timeout=10000)
        wait_latent(listener, lambda z: len(z) == 8)
        assert not errors, errors
        browser.close()
