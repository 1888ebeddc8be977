"""Scores for whether a decoder's pictures are sharp and real-looking, not a blurred average.

PSNR and SSIM reward the mean of all plausible frames: a decoder that cannot tell which frame
comes next scores well by blurring them together. These two scores catch that:

- sharpness: the outputs' gradient energy over the source's (1 = as much fine detail as the
  video, well below 1 = blur);
- realism: how close each output is to its nearest training frame, over how close held-out
  real frames are to theirs (1 = as near to something real as real frames are, lower = pictures
  that are near no real frame, such as averages of several);
- sharpness of what is shown: the outputs' gradient energy over that of the training frame
  nearest each (`NearestFrames.energy`). An image show plays its footage on its own walk, not
  the held-out frame of the same moment: beside a star field its picture of a face is "blurred"
  and beside a face its star field "too sharp", so `sharpness` swung from 0.5 to 1.3 between
  runs of the same recipe on real footage. Against the footage each frame shows, detail the
  decoder loses is what is measured.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

# BT.601 luma, the weights JPEG and OpenCV use
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def _luma(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, H, W)."""
    return torch.einsum("bchw,c->bhw", x.float(), _LUMA.to(x.device))


def gradient_energy(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] -> (B,) mean squared gradient magnitude of the luma.

    Horizontal plus vertical finite differences, each averaged over the pixels it exists for.
    On the luma rather than all channels: the eye reads sharpness from brightness edges, and
    colour noise or chroma fringes a decoder makes up would otherwise count as detail.
    """
    y = _luma(x)  # (B, H, W)
    dx = y[:, :, 1:] - y[:, :, :-1]  # (B, H, W-1)
    dy = y[:, 1:, :] - y[:, :-1, :]  # (B, H-1, W)
    return dx.pow(2).flatten(1).mean(1) + dy.pow(2).flatten(1).mean(1)


def _match_size(src: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The source at the output's size (area, as `evaluate.metrics` does): gradients depend on scale."""
    if src.shape[-2:] != out.shape[-2:]:
        src = F.interpolate(src.float(), size=out.shape[-2:], mode="area")
    return src


class SharpnessMeter:
    """`sharpness` accumulated batch by batch: the ratio of the sums, not the mean of per-batch ratios.

    A ratio of sums weighs every frame the same however the frames fall into batches, and a
    near-flat source batch cannot blow the average up.
    """

    def __init__(self) -> None:
        self.out = 0.0  # summed gradient energy of the outputs
        self.src = 0.0  # ... and of the source frames they stand for
        self.frames = 0

    @torch.no_grad()
    def add(self, out: torch.Tensor, src: torch.Tensor) -> None:
        """out, src: (B, 3, H, W) in [0, 1]; src is resized to out's size if it differs."""
        if out.shape[0] != src.shape[0]:
            raise ValueError(f"{out.shape[0]} outputs for {src.shape[0]} source frames")
        self.add_energy(out, gradient_energy(_match_size(src, out)))

    @torch.no_grad()
    def add_energy(self, out: torch.Tensor, src_energy: torch.Tensor) -> None:
        """out: (B, 3, H, W); src_energy: (B,) the gradient energy of the frames they stand for."""
        self.out += float(gradient_energy(out).double().sum())
        self.src += float(src_energy.double().sum())
        self.frames += out.shape[0]

    def value(self) -> float:
        """Output detail over source detail; NaN when nothing was added or the source is flat."""
        if self.frames == 0 or self.src <= 1e-12:
            return float("nan")
        return self.out / self.src


def sharpness(out: torch.Tensor, src: torch.Tensor) -> float:
    """Gradient energy of `out` (B, 3, H, W) summed over the batch, over that of `src`.

    1.0 = as much fine detail as the source; a blur is well below 1; above 1 = detail (or noise)
    the source does not have. NaN for a flat source, which has no detail to compare with.
    """
    meter = SharpnessMeter()
    meter.add(out, src)
    return meter.value()


def sample_indices(n: int, limit: int) -> np.ndarray:
    """`limit` evenly spaced positions in range(n) (all of them if n <= limit), always the same ones.

    Each taken from the middle of its stride, so a long video is covered from end to end and the
    same training sample is drawn on every evaluation, keeping scores comparable between runs.
    """
    if n <= 0 or limit <= 0:
        return np.zeros(0, dtype=np.int64)
    if limit >= n:
        return np.arange(n, dtype=np.int64)
    # stride n / limit >= 1, so the floored positions are strictly increasing: no repeats
    return ((np.arange(limit) + 0.5) * (n / limit)).astype(np.int64)


class NearestFrames:
    """A sample of training frames, small and flat, to find the nearest one to any picture.

    Compared at `size` x `size` (area downsampling): a real-looking output should land near some
    training frame in overall layout and colour, and at that scale a one-pixel shift or grain
    hardly moves it, while an average of several different frames lies far from all of them.
    """

    def __init__(self, train: torch.Tensor, size: int = 32, chunk: int = 256) -> None:
        """train: (N, 3, H, W) float in [0, 1]; downsampled `chunk` frames at a time."""
        self.size = size
        self._keep([self._sample(train[a : a + chunk]) for a in range(0, len(train), chunk)])

    @classmethod
    def from_batches(cls, batches: Iterable[torch.Tensor], size: int = 32) -> NearestFrames:
        """The same from batches of (b, 3, H, W), so the full-size sample never sits in memory at once."""
        self = cls.__new__(cls)
        self.size = size
        self._keep([self._sample(b) for b in batches])
        return self

    def _sample(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) -> the flat small frames and each one's gradient energy at full size."""
        return self._flat(x), gradient_energy(x.detach().float().cpu()).double()

    def _keep(self, samples: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        if sum(len(f) for f, _ in samples) == 0:
            raise ValueError("NearestFrames needs at least one training frame")
        self.frames = torch.cat([f for f, _ in samples])  # (N, 3*size*size)
        self.energy = torch.cat([e for _, e in samples])  # (N,) detail of each at full size
        self.sq = self.frames.pow(2).sum(1)  # (N,) squared norms, for the expansion in `distance`

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 3*size*size) float32 on the CPU."""
        x = x.detach().float().cpu()
        if x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="area")
        return x.flatten(1).contiguous()

    def distance(self, x: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """x: (B, 3, H, W) in [0, 1] -> (B,) RMS pixel distance to the nearest training frame."""
        return self.nearest(x, chunk)[0]

    @torch.no_grad()
    def nearest(self, x: torch.Tensor, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 3, H, W) in [0, 1] -> (B,) RMS pixel distance to the nearest training frame, and
        (B,) that frame's index in the sample.

        The nearest frame is found with ||a||² + ||b||² - 2ab over `chunk` training frames at a
        time (a (B, chunk) matrix, never (B, N, D)); the distance to it is then computed directly,
        since the expansion loses precision exactly where it matters, near 0.
        """
        q = self._flat(x)  # (B, D)
        qsq = q.pow(2).sum(1, keepdim=True)  # (B, 1)
        best = torch.full((len(q),), float("inf"))  # (B,) squared distance so far
        arg = torch.zeros(len(q), dtype=torch.long)  # (B,) index of the nearest so far
        for a in range(0, len(self.frames), chunk):
            t = self.frames[a : a + chunk]  # (c, D)
            d2 = qsq + self.sq[a : a + chunk] - 2 * q @ t.T  # (B, c)
            m, j = d2.min(1)  # (B,), (B,)
            better = m < best
            best = torch.where(better, m, best)
            arg = torch.where(better, j + a, arg)
        return (q - self.frames[arg]).pow(2).mean(1).sqrt(), arg  # (B,), (B,)


def realism(out_dist: np.ndarray, real_dist: np.ndarray, eps: float = 1e-6) -> dict[str, float]:
    """Nearest-training-frame distances of outputs and of held-out real frames, as one ratio.

    realism = nn_real / nn_out: 1.0 = outputs are as close to real training frames as held-out
    real frames are; lower = further from anything real (0.5 = twice as far). Above 1 means the
    outputs sit closer to training frames than new real footage does: copying training frames.
    Distances below `eps` count as `eps`, so identical frames give 1, not 0/0.
    """
    out_dist, real_dist = np.asarray(out_dist, dtype=np.float64), np.asarray(real_dist, dtype=np.float64)
    nn_out = float(out_dist.mean()) if out_dist.size else float("nan")
    nn_real = float(real_dist.mean()) if real_dist.size else float("nan")
    return {"nn_out": nn_out, "nn_real": nn_real, "realism": max(nn_real, eps) / max(nn_out, eps)}
