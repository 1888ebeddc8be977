"""`latentvj show sheet`: one PNG that says what a show does, to judge a show without running it live.

Two parts:
- latent directions: one row per decoder-latent dimension, that dimension alone moved to
  -k, -k/2, 0, +k/2, +k sigma from the show's latent at rest (the latent is standardised, so 1 sigma
  is 1.0), decoded straight through the show's decoder (no controls);
- a strip of frames rendered from a song with the daemon's own offline `render`, so each is the
  frame the live daemon would draw at that moment of the song (default settings).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..audio.files import load_audio
from ..config import ConfigError, load_config
from ..control.state import Control
from ..engine.engine_options import EngineOptions
from ..engine.offline import render
from ..sinks import Sink
from .bundle import BUILTIN_DIR
from .device import pick_device
from .runtime import RuntimeOptions, ShowRuntime

DEMO_AUDIO = BUILTIN_DIR / "demo_loop.flac"
MAX_SECONDS = 30.0  # the default strip spans the audio, up to this much of it
STEPS = (-1.0, -0.5, 0.0, 0.5, 1.0)  # the five columns, as fractions of sigma
GAP = 4  # pixels between tiles and round the edge
BACKGROUND = (40, 40, 40)  # RGB, dark grey
INK = (215, 215, 215)  # RGB, the labels
FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_SCALE = 0.35
TITLE_SCALE = 0.45
LINE_H = 14  # one line of labels
TITLE_H = 20  # the title line


class _KeepFrames(Sink):
    """Keeps copies of the frames whose grid index is wanted: the render pool reuses its buffers."""

    def __init__(self, wanted: set[int]) -> None:
        super().__init__("sheet")
        self.wanted = wanted
        self.frames: dict[int, np.ndarray] = {}  # grid index -> (H, W, 4) uint8 RGBA

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        if index in self.wanted:
            self.frames[index] = frame.copy()


def rest_latent(rt: ShowRuntime) -> np.ndarray:
    """The decoder latent at rest, (latent_dim,) float32: an affine (VAE) show's bias, else zeros
    (standardised and whitened latents rest at 0)."""
    bias = getattr(rt.manifest, "mapping_bias", None)
    if bias is None:
        return np.zeros(rt.latent_dim, dtype=np.float32)
    return np.asarray(bias, dtype=np.float32).copy()


def direction_tiles(rt: ShowRuntime, dims: int, sigma: float) -> np.ndarray:
    """Each of the first `dims` latent dimensions at sigma * STEPS from the rest latent, decoded
    -> (dims, 5, H, W, 4) uint8 RGBA at the decoder's output size."""
    h, w = rt.decoder.height, rt.decoder.width
    centre = rest_latent(rt)  # (latent_dim,)
    tiles = np.empty((dims, len(STEPS), h, w, 4), dtype=np.uint8)
    window = np.empty((rt.context, rt.latent_dim), dtype=np.float32)  # every row the same latent
    for d in range(dims):
        for c, step in enumerate(STEPS):
            window[:] = centre
            window[:, d] += sigma * step
            rt.decoder.decode(window, tiles[d, c])
    return tiles


def pick_frames(n_grid: int, frames: int) -> list[int]:
    """`frames` grid indices evenly spaced over n_grid slots, each the middle of its share."""
    return [int((i + 0.5) * n_grid / frames) for i in range(frames)]


def strip_frames(
    rt: ShowRuntime,
    audio: np.ndarray,
    frames: int,
    seconds: float | None,
    opts: EngineOptions,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[int], np.ndarray]:
    """audio: (n, channels) float32 at rt.sample_rate -> (grid indices, (frames, H, W, 4) uint8):
    frames rendered exactly as `latentvj render` of the whole audio renders them. Every frame up to
    the last one wanted is rendered (smoothing and the context window depend on the ones before)."""
    duration = len(audio) / rt.sample_rate
    span = min(duration, MAX_SECONDS) if seconds is None else min(seconds, duration)
    n_grid = math.ceil(span * opts.fps - 1e-9)
    if frames > n_grid:
        raise ConfigError(f"--frames {frames}: {span:.2f} s of audio at {opts.fps:g} fps has only {n_grid} frames")
    wanted = pick_frames(n_grid, frames)
    sink = _KeepFrames(set(wanted))
    render(audio, rt, Control(rt.latent_dim), [sink], opts, frames=wanted[-1] + 1, progress=progress)
    return wanted, np.stack([sink.frames[j] for j in wanted])


def _text_w(text: str, scale: float) -> int:
    return cv2.getTextSize(text, FONT, scale, 1)[0][0]


def step_labels(sigma: float) -> list[str]:
    """Column headings, ASCII ('s' alone would read as the strip's seconds): '-2 sigma' .. '+2 sigma'."""
    return ["0" if s == 0 else f"{sigma * s:+g} sigma" for s in STEPS]


@dataclass(frozen=True)
class Layout:
    """Where everything goes; sizes in pixels. Tiles are centred in columns wide enough for their labels."""

    tile_w: int
    tile_h: int
    col_w: int
    label_w: int
    dims: int
    frames: int
    width: int
    height: int

    @property
    def grid_top(self) -> int:
        return GAP + TITLE_H + LINE_H

    @property
    def strip_top(self) -> int:
        """The strip's tiles; above them a caption line and a line of times."""
        return self.grid_top + self.dims * (self.tile_h + GAP) + 2 * LINE_H

    def col_x(self, col: int) -> int:
        """Left edge of a tile in column col (directions and strip share the columns)."""
        return GAP + self.label_w + col * (self.col_w + GAP) + (self.col_w - self.tile_w) // 2

    def direction_cell(self, dim: int, col: int) -> tuple[int, int]:
        return self.col_x(col), self.grid_top + dim * (self.tile_h + GAP)

    def strip_cell(self, i: int) -> tuple[int, int]:
        return self.col_x(i), self.strip_top


def plan_layout(frame_w: int, frame_h: int, dims: int, frames: int, tile: int, labels: list[str],
                title: str, caption: str) -> Layout:
    """Tiles at the frame's size scaled down to at most `tile` wide; labels: every column and time label."""
    tile_w = min(tile, frame_w)
    tile_h = max(1, round(frame_h * tile_w / frame_w))
    col_w = max([tile_w] + [_text_w(t, LABEL_SCALE) + 2 for t in labels])
    label_w = max(_text_w("dim", LABEL_SCALE), _text_w(str(max(dims - 1, 0)), LABEL_SCALE)) + GAP
    cols = max(len(STEPS), frames)
    width = max(GAP + label_w + cols * (col_w + GAP), _text_w(title, TITLE_SCALE) + 2 * GAP,
                _text_w(caption, LABEL_SCALE) + 2 * GAP)
    height = GAP + TITLE_H + LINE_H + dims * (tile_h + GAP)
    if frames:
        height += 2 * LINE_H + tile_h + GAP
    return Layout(tile_w, tile_h, col_w, label_w, dims, frames, width, height)


def _put(img: np.ndarray, text: str, x: int, baseline: int, scale: float = LABEL_SCALE) -> None:
    cv2.putText(img, text, (x, baseline), FONT, scale, INK, 1, cv2.LINE_AA)


def _paste(img: np.ndarray, rgba: np.ndarray, x: int, y: int, lay: Layout) -> None:
    """rgba: (H, W, 4) uint8 -> its RGB scaled to the layout's tile size (area averaging) at (x, y)."""
    rgb = rgba[..., :3]
    if rgb.shape[:2] != (lay.tile_h, lay.tile_w):
        rgb = cv2.resize(rgb, (lay.tile_w, lay.tile_h), interpolation=cv2.INTER_AREA)
    img[y : y + lay.tile_h, x : x + lay.tile_w] = rgb


def compose(title: str, tiles: np.ndarray, sigma: float, strip: np.ndarray | None, times: list[float],
            caption: str, tile: int) -> tuple[np.ndarray, Layout]:
    """tiles: (dims, 5, H, W, 4), strip: (frames, H, W, 4) or None, RGBA -> the sheet, (height, width, 3) RGB."""
    dims, _, h, w, _ = tiles.shape
    n = 0 if strip is None else len(strip)
    heads = step_labels(sigma)
    stamps = [f"{t:.2f}s" for t in times]
    lay = plan_layout(w, h, dims, n, tile, heads + stamps, title, caption)
    img = np.empty((lay.height, lay.width, 3), dtype=np.uint8)  # (height, width, RGB)
    img[:] = BACKGROUND
    _put(img, title, GAP, GAP + TITLE_H - 6, TITLE_SCALE)
    head_base = lay.grid_top - 4
    _put(img, "dim", GAP, head_base)
    for c, text in enumerate(heads):
        _put(img, text, lay.col_x(c) + (lay.tile_w - _text_w(text, LABEL_SCALE)) // 2, head_base)
    for d in range(dims):
        for c in range(len(STEPS)):
            x, y = lay.direction_cell(d, c)
            _paste(img, tiles[d, c], x, y, lay)
        _put(img, str(d), GAP, lay.direction_cell(d, 0)[1] + min(lay.tile_h, LINE_H) // 2 + 4)
    if strip is not None and n:
        _put(img, caption, GAP, lay.strip_top - LINE_H - 4)
        for i, text in enumerate(stamps):
            x, y = lay.strip_cell(i)
            _put(img, text, x + (lay.tile_w - _text_w(text, LABEL_SCALE)) // 2, y - 4)
            _paste(img, strip[i], x, y, lay)
    return img, lay


def check_output(out: Path) -> None:
    """Fail before any work: a .png in a folder that exists."""
    if out.suffix.lower() != ".png":
        raise ConfigError(f"-o {out}: the sheet is a PNG; give a name ending in .png")
    if not out.parent.is_dir():
        raise ConfigError(f"-o {out}: folder {out.parent} does not exist")


def make_sheet(
    show: str,
    out: Path,
    audio: Path | None = None,
    seconds: float | None = None,
    frames: int = 8,
    dims: int | None = None,
    sigma: float = 2.0,
    tile: int = 128,
    device: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Load `show`, draw its latent directions and a strip of `frames` frames of `audio` (default:
    the demo loop; frames 0: no strip) over its first `seconds` (default all, at most 30 s), write
    the PNG to `out`. Raises ConfigError, ShowError or AudioInputError with one line."""
    out = Path(out).expanduser()
    check_output(out)
    if frames < 0:
        raise ConfigError(f"--frames {frames}: expected 0 or more")
    if dims is not None and dims < 1:
        raise ConfigError(f"--dims {dims}: expected 1 or more")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ConfigError(f"--sigma {sigma}: expected a positive number")
    if tile < 8:
        raise ConfigError(f"--tile {tile}: expected 8 pixels or more")
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"--seconds {seconds}: expected a positive number")
    song = Path(audio).expanduser() if audio is not None else DEMO_AUDIO
    rt = ShowRuntime.load(show, RuntimeOptions(pick_device(device)))
    n_dims = rt.latent_dim if dims is None else min(dims, rt.latent_dim)
    tiles = direction_tiles(rt, n_dims, sigma)
    strip, times = None, []
    if frames:
        samples, _ = load_audio(song, rt.sample_rate)  # (n, channels)
        opts = EngineOptions.from_config(load_config(None, {}))  # `latentvj render`'s defaults
        wanted, strip = strip_frames(rt, samples, frames, seconds, opts, progress)
        times = [j / opts.fps for j in wanted]
    title = f"{rt.name}: {rt.latent_dim}-d latent, {rt.decoder.width}x{rt.decoder.height}"
    caption = f"live from {song.name}"
    img, _ = compose(title, tiles, sigma, strip, times, caption, tile)
    if not cv2.imwrite(str(out), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
        raise ConfigError(f"-o {out}: cannot write the PNG there")
    return out
