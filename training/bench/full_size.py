"""A full-size RAVE beside a 256x256 decoder: does the live engine hold 60 fps on this machine, and
does ONNX Runtime run either model faster than TorchScript?

    python -m latentvj.training.bench.full_size --rave FULL.ts --work DIR [--size 256] [--seconds 60]

FULL.ts is a streaming RAVE export (`latentvj train rave AUDIO --name full --out DIR --steps 3
--latent-dim 1 --override CAPACITY=64`, a few steps are enough: weights do not change the
speed; keep it out of git). The decoder is the image shows' frame decoder (LatentDecoder with
train show's widths) at --size, untrained for the same reason. The show packs both (a latent
show on the RAVE stream); then `latentvj bench` runs it at 60 fps with the file sink.
ONNX Runtime (`pip install onnxruntime onnx onnxscript`) is tried on each model, on the same
threads, and its output checked against TorchScript's before its time counts.
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from latentvj.daemon.bench.live_bench import run_bench
from latentvj.daemon.config import load_config
from latentvj.daemon.engine.thread_budget import ThreadBudget
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.rave_encoder import RaveEncoder
from latentvj.daemon.show.runtime import RuntimeOptions
from latentvj.training.decoder.models import LatentDecoder
from latentvj.training.show.image_model import DECODER_WIDTHS
from latentvj.training.synth.synthetic import procedural_track, write_audio

SR = 44100


def median_ms(fn, calls: int = 60, warm: int = 10) -> float:
    for _ in range(warm):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def ort_session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def decoder_backends(module: torch.nn.Module, dim: int, work: Path) -> list[str]:
    """TorchScript as the daemon runs it (channels last) against ONNX Runtime, batch 1."""
    scripted = torch.jit.script(module)
    scripted.to(memory_format=torch.channels_last)
    z = torch.randn(1, dim)
    with torch.no_grad():
        ts_ms = median_ms(lambda: scripted(z))
        ref = scripted(z).numpy()
    lines = [f"decoder TorchScript  {ts_ms:.2f} ms a frame (median, {torch.get_num_threads()} threads)"]
    try:
        path = work / "decoder.onnx"
        torch.onnx.export(module, (z,), str(path), input_names=["z"], output_names=["rgb"], dynamo=True)
        sess = ort_session(path)
        zin = {"z": z.numpy()}
        err = float(np.abs(sess.run(None, zin)[0] - ref).max())
        ort_ms = median_ms(lambda: sess.run(None, zin))
        lines.append(f"decoder ONNX Runtime {ort_ms:.2f} ms a frame ({ts_ms / ort_ms:.2f}x TorchScript's speed; "
                     f"largest difference {err:.1e})")
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what failed and goes on
        lines.append(f"decoder ONNX Runtime: not measured ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
    return lines


def encoder_backends(rave: Path, work: Path) -> list[str]:
    """The streaming RAVE through our RaveEncoder, against ONNX Runtime on the same hops."""
    enc = RaveEncoder(rave, torch.device("cpu"))
    rng = np.random.default_rng(0)
    hops = (rng.standard_normal((8, enc.hop)) * 0.1).astype(np.float32)
    k = iter(range(10**9))
    ts_ms = median_ms(lambda: enc.encode_hop(hops[next(k) % 8]))
    enc.reset()
    ref = np.stack([enc.encode_hop(h).copy() for h in hops])
    lines = [f"encoder TorchScript  {ts_ms:.2f} ms a hop of {enc.hop} ({enc.hop / SR * 1e3 / ts_ms:.0f}x real time)"]
    try:
        path = work / "encoder.onnx"
        x = torch.from_numpy(hops[:1]).view(1, 1, -1)
        torch.onnx.export(enc.model, (x,), str(path), input_names=["x"], output_names=["z"], dynamo=False)
        sess = ort_session(path)
        got = np.stack([sess.run(None, {"x": h.reshape(1, 1, -1)})[0].reshape(-1)[: enc.latent_dim] for h in hops])
        err = float(np.abs(got - ref).max())
        ort_ms = median_ms(lambda: sess.run(None, {"x": hops[0].reshape(1, 1, -1)}))
        same = "the same latents" if err < 1e-3 else f"different latents (largest difference {err:.2g}: the " \
            "streaming caches, updated in place between calls, are constants in the ONNX graph)"
        lines.append(f"encoder ONNX Runtime {ort_ms:.2f} ms a hop ({ts_ms / ort_ms:.2f}x TorchScript's speed), {same}")
    except Exception as exc:  # noqa: BLE001
        lines.append(f"encoder ONNX Runtime: not measured ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rave", type=Path, required=True, help="a streaming RAVE export (.ts)")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--fps", type=float, default=60.0)
    a = p.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    dim = RaveEncoder(a.rave, torch.device("cpu")).latent_dim
    torch.manual_seed(0)
    module = LatentDecoder(dim, 1, a.size, a.size, DECODER_WIDTHS).eval()
    dec_path = a.work / "decoder.ts"
    torch.jit.script(module).save(str(dec_path))
    song = a.work / "calibration.wav"
    write_audio(song, procedural_track(SR, 20.0, seed=1).audio, SR)
    shutil.rmtree(a.work / "show", ignore_errors=True)  # the bench's own, remade each run
    show = create_show(a.work / "show", dec_path, encoder=a.rave, calibrate=song, name="full-size")
    print(f"RAVE {a.rave} ({a.rave.stat().st_size / 1e6:.0f} MB, {dim} latent dims); decoder {a.size}x{a.size}")
    cfg = load_config(None, {"show": str(show), "fps": a.fps, "sink": [f"file:{a.work / 'bench.mp4'}"]})
    budget = ThreadBudget.from_config(cfg)
    budget.apply()
    # live first: ONNX Runtime's sessions leave threads and an inter-op pool behind that cost frames
    print(run_bench(cfg, RuntimeOptions(torch.device("cpu")), budget, seconds=a.seconds), flush=True)
    for line in encoder_backends(a.rave, a.work) + decoder_backends(module, dim, a.work):
        print(line, flush=True)


if __name__ == "__main__":
    main()
