"""`show sheet`: the contact sheet's size, its latent directions, its strip against `render`, the CLI."""
import subprocess
import sys

import cv2
import numpy as np
import pytest

from daemon_process import run
from conftest import CPU
from latentvj.daemon.audio.files import load_audio
from latentvj.daemon.config import ConfigError, load_config
from latentvj.daemon.control.state import Control
from latentvj.daemon.engine.engine_options import EngineOptions
from latentvj.daemon.engine.offline import render
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.show.sheet import (
    GAP,
    LINE_H,
    STEPS,
    TITLE_H,
    direction_tiles,
    make_sheet,
    plan_layout,
    rest_latent,
    step_labels,
    strip_frames,
)
from latentvj.daemon.sinks import Sink



class MemorySink(Sink):
    def __init__(self):
        super().__init__("memory")
        self.frames = {}

    def write_frame(self, frame, index):
        self.frames[index] = frame.copy()


@pytest.fixture(scope="module")
def runtime(features_show):
    return ShowRuntime.load(features_show, CPU)


def read_rgb(path):
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"{path} is not a readable image"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # (height, width, 3)


def test_the_sheet_grows_a_row_per_dim_and_a_strip(tmp_path, features_show, track_wav):
    heights = {}
    for dims, frames in ((2, 3), (5, 3), (5, 0)):
        out = make_sheet(str(features_show), tmp_path / f"s{dims}{frames}.png", audio=track_wav, seconds=0.5,
                         frames=frames, dims=dims, device="cpu")
        heights[dims, frames] = read_rgb(out).shape[0]
    tile = 32  # the decoder's own size: never scaled up
    assert heights[5, 3] - heights[2, 3] == 3 * (tile + GAP)
    assert heights[5, 3] - heights[5, 0] == 2 * LINE_H + tile + GAP  # caption, times, tiles


def test_layout_sizes():
    heads = step_labels(2.0)
    assert heads == ["-2 sigma", "-1 sigma", "0", "+1 sigma", "+2 sigma"]
    assert step_labels(3.0)[1] == "-1.5 sigma"
    lay = plan_layout(256, 128, dims=3, frames=0, tile=64, labels=heads, title="", caption="")
    assert (lay.tile_w, lay.tile_h, lay.col_w) == (64, 32, 64)  # scaled down, aspect kept
    five = plan_layout(256, 128, dims=3, frames=5, tile=64, labels=heads, title="", caption="")
    seven = plan_layout(256, 128, dims=3, frames=7, tile=64, labels=heads, title="", caption="")
    assert five.width == lay.width and seven.width == five.width + 2 * (64 + GAP)  # 5 columns, then a frame each
    assert five.height == lay.height + 2 * LINE_H + 32 + GAP
    assert plan_layout(32, 32, 1, 0, 128, heads, "", "").tile_w == 32  # never scaled up


def test_each_direction_moves_the_picture_around_one_centre(runtime):
    tiles = direction_tiles(runtime, runtime.latent_dim, 2.0)  # (dims, 5, 32, 32, 4)
    assert tiles.shape == (runtime.latent_dim, len(STEPS), 32, 32, 4)
    centre = tiles[0, 2]
    for d in range(runtime.latent_dim):
        np.testing.assert_array_equal(tiles[d, 2], centre)  # every row shares the rest latent
    moved = [d for d in range(runtime.latent_dim) if not np.array_equal(tiles[d, 4], centre)]
    assert moved, "no dimension changes the picture"
    for d in moved:
        for c in (0, 1, 3, 4):
            assert not np.array_equal(tiles[d, c], centre), (d, c)
        assert not np.array_equal(tiles[d, 0], tiles[d, 4])


def test_the_centre_is_the_mapping_bias_else_zeros(tmp_path, small_decoder, track_wav, demo_show):
    bias = np.linspace(-1.0, 1.0, 8)
    mapping = {"weight": np.random.default_rng(1).standard_normal((8, 6)), "bias": bias}
    show = create_show(tmp_path / "biased", small_decoder, calibrate=track_wav, name="biased", mapping=mapping)
    rt = ShowRuntime.load(show, CPU)
    np.testing.assert_allclose(rest_latent(rt), bias, rtol=1e-6)
    want = np.empty((32, 32, 4), np.uint8)
    rt.decoder.decode(bias.astype(np.float32)[None], want)
    np.testing.assert_array_equal(direction_tiles(rt, 1, 2.0)[0, 2], want)
    demo = ShowRuntime.load(demo_show, CPU)  # a latent show: no mapping
    np.testing.assert_array_equal(rest_latent(demo), np.zeros(demo.latent_dim, np.float32))


def test_the_strip_is_what_render_draws_at_those_times(runtime, track_wav):
    audio, _ = load_audio(track_wav, runtime.sample_rate)  # (n, 2), 6 s
    opts = EngineOptions.from_config(load_config(None, {}))
    wanted, strip = strip_frames(runtime, audio, 4, 2.0, opts)
    assert wanted == [7, 22, 37, 52]  # 60 frames in 2 s at 30 fps, the middle of each quarter
    assert strip.shape == (4, 32, 32, 4)
    sink = MemorySink()
    render(audio, runtime, Control(runtime.latent_dim), [sink], opts)  # the whole song, as `latentvj render`
    for frame, j in zip(strip, wanted):
        np.testing.assert_array_equal(frame, sink.frames[j])
    assert len({f.tobytes() for f in strip}) > 1  # the music moves the picture
    with pytest.raises(ConfigError, match="has only 15 frames"):
        strip_frames(runtime, audio, 16, 0.5, opts)


def test_tiles_land_in_the_png_in_rgb_order(tmp_path, features_show, runtime):
    """32x32 frames at tile 16: the file holds each direction tile scaled down by area, in RGB order."""
    out = make_sheet(str(features_show), tmp_path / "d.png", frames=0, dims=2, tile=16, device="cpu")
    img = read_rgb(out)
    tiles = direction_tiles(runtime, 2, 2.0)  # (2, 5, 32, 32, 4)
    lay = plan_layout(32, 32, 2, 0, 16, step_labels(2.0), "", "")  # columns do not depend on the title
    assert img.shape[0] == lay.height and lay.tile_w == 16
    for d in range(2):
        for c in range(len(STEPS)):
            x, y = lay.direction_cell(d, c)
            want = cv2.resize(tiles[d, c, ..., :3], (16, 16), interpolation=cv2.INTER_AREA)
            np.testing.assert_array_equal(img[y : y + 16, x : x + 16], want)
    assert np.abs(tiles[..., 0].astype(int) - tiles[..., 2]).max() > 0  # red and blue differ: order matters


def test_cli_writes_the_sheet(tmp_path):
    out = tmp_path / "X.png"
    r = run("show", "sheet", "demo", "-o", out, "--frames", "4", "--dims", "3", "--seconds", "0.5", "--device", "cpu")
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout
    lay = plan_layout(256, 256, 3, 4, 128, step_labels(2.0), "", "")  # the demo's 256x256 at 128 px
    assert read_rgb(out).shape[:2] == (lay.height, lay.width)
    assert lay.height == GAP + TITLE_H + LINE_H + 3 * (128 + GAP) + 2 * LINE_H + 128 + GAP


@pytest.mark.parametrize("name, message", [
    ("missing/X.png", "does not exist"),
    ("X.jpg", "ending in .png"),
])
def test_cli_refuses_a_bad_output_in_one_line(tmp_path, name, message):
    r = run("show", "sheet", "demo", "-o", tmp_path / name)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and message in r.stderr, r.stderr
    assert r.stderr.startswith("latentvj show: error: -o ")


def test_the_sheet_loads_no_training_code():
    code = ("import sys, latentvj.daemon.show.sheet, latentvj.daemon.cli; "
            "sys.exit(any(m.startswith('latentvj.training') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
