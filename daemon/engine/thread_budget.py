"""How a run spends the machine's cores, set in one place and printed at start.

Three things share the cores: PyTorch's intra-op threads (the decoder on the render thread and the
encoder on its own thread; PyTorch's OpenMP backend keeps one count for the whole process, so the
two stages cannot get different counts: measured, `set_num_threads` in one thread changes the
other's), the H.264 encoder of file sinks (libx264 starts its own frame threads), and the GIL
(the audio, OSC, web and sink threads run Python between the models' calls; the switch interval
is how long one of them may hold it before the render thread gets it back).

On the 2-core CI machine at 60 fps with the demo and the file sink, 20 s each (`latentvj bench
--fps 60 --threads N` with the switch interval set around it), every setting held 60.03 fps with 0
dropped: frame time p99 10.1 ms (1 thread) against 9.8 ms (2), the encoder 0.9 ms a hop against 1.7
(its small convolutions lose to the thread hand-off), the switch interval 1 ms against 5 ms within
the noise. So the defaults are the libraries' own (torch: the physical cores; Python: 5 ms) but for libx264,
which gets one thread for frames up to 512x512 (render of the demo went 7.1-7.5x -> 9.4-9.5x real
time with it; more threads only fight the decoder), and a rig file or a flag changes any of them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch

from ..config import ConfigError
from ..sinks.mp4 import H264Settings

if TYPE_CHECKING:
    from ..config import RunConfig

MAX_DECODERS = 8  # render's default decoders at most; many cores give each several threads


@dataclass(frozen=True)
class ThreadBudget:
    torch_threads: int  # intra-op threads, for the whole process (decoder and encoder share them)
    interop_threads: int  # torch's inter-op pool: nothing here runs ops in parallel, so 1
    switch_interval_ms: float  # sys.setswitchinterval, in ms
    h264_threads: int  # libx264's threads per file sink; 0: one up to 512x512, libx264's choice above
    h264_preset: str  # libx264's speed against size
    decoders: int = 1  # render: decoders working on batches at once, each on its own thread

    @classmethod
    def from_config(cls, cfg: RunConfig) -> ThreadBudget:
        return cls(cfg.threads or torch.get_num_threads(), 1, cfg.switch_interval_ms, cfg.h264_threads,
                   cfg.h264_preset)

    @property
    def h264(self) -> H264Settings:
        return H264Settings(self.h264_threads, self.h264_preset)

    def for_render(self, device_type: str, batch: int, decoders: int | None = None) -> ThreadBudget:
        """`latentvj render` on the CPU: one decoder per core, each on one intra-op thread, instead of
        one decoder spread over the cores. Beside the audio and sink threads an OpenMP team of two
        waits at every op for its member that the scheduler took away; two single-threaded decoders
        never wait for each other (the demo, a 60-s stereo song on 2 cores: 9.7x -> 11.0x real
        time). Past MAX_DECODERS cores each decoder gets several threads (each holds its batches'
        frames and activations). A GPU, or --batch 1 (the live path's calls exactly), keeps one
        decoder with the run's threads. `decoders`: --decoders, overriding that choice."""
        if decoders is None:
            decoders = min(self.torch_threads, MAX_DECODERS) if device_type == "cpu" and batch > 1 else 1
        elif decoders > 1 and device_type != "cpu":
            raise ConfigError(f"--decoders {decoders}: several decoders at once are for the CPU; "
                              f"the {device_type} device runs one")
        if decoders == 1:
            return replace(self, decoders=1)
        return replace(self, torch_threads=max(1, self.torch_threads // decoders), decoders=decoders)

    def apply(self) -> None:
        """Process-wide: call once, before the models load."""
        torch.set_num_threads(self.torch_threads)
        try:
            torch.set_num_interop_threads(self.interop_threads)
        except RuntimeError:  # only settable before the first inter-op work; later runs in one process keep it
            pass
        sys.setswitchinterval(self.switch_interval_ms / 1e3)

    def describe(self) -> str:
        x264 = "1 up to 512x512, libx264's choice above" if self.h264_threads == 0 else str(self.h264_threads)
        decoders = f"{self.decoders} decoders at once (--decoders), " if self.decoders > 1 else ""
        return (f"threads: {decoders}torch {torch.get_num_threads()} intra-op (decoder and encoder share them), "
                f"{torch.get_num_interop_threads()} inter-op; GIL switch interval "
                f"{sys.getswitchinterval() * 1e3:g} ms; H.264 threads {x264}, preset {self.h264_preset} "
                f"(--threads, --switch-interval-ms, --h264-threads, --h264-preset)")
