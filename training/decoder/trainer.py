"""`latentvj train decoder`: latent -> image regression (ours, baseline), in the nanoGPT manner.
Image shows (`train show`, `train vae`) train in show_trainer.py.

Single process on a CPU or one GPU; several GPUs with torchrun (DistributedDataParallel, one
process per GPU, rank 0 writes checkpoints and logs):

    torchrun --standalone --nproc_per_node=4 -m latentvj.training.cli train decoder DATA --out RUN

Exact resume: the checkpoint holds model, optimiser, scheduler, grad scaler, RNG states and the
step; batch contents depend only on (seed, step) (see `StepBatches`), so a resumed run reads the
same batches and reaches the same weights as one that was never interrupted. Checkpoints are
written to a temporary file and renamed, so a kill never leaves a half-written one.
"""
from __future__ import annotations

import logging
import math
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from pytorch_msssim import ssim
from tqdm import tqdm

from latentvj.daemon.toml_io import dumps_toml

from latentvj.training.checkpoint import (
    CHECKPOINT,
    CHECKPOINT_S,
    load_checkpoint,
    make_model,
    meta_conditioning,
    save_atomic,
)
from latentvj.training.data.dataset import DatasetError, FrameDataset, StepBatches, device_images, to_tensor
from latentvj.training.distributed import join
from latentvj.training.eval.evaluate import Predict, eval_indices, format_metrics, metrics, predictor
from latentvj.training.train_config import TrainConfig, conditioning_of, to_dict

log = logging.getLogger("latentvj.train")


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Multiplier: linear warm-up, then cosine down to 5%."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    p = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))


def model_size(cfg: TrainConfig, data: FrameDataset) -> tuple[int, int]:
    return (cfg.width or data.size, cfg.height or data.size)


def _meta(cfg: TrainConfig, data: FrameDataset) -> dict:
    w, h = model_size(cfg, data)
    m = data.manifest
    probe_idx = eval_indices(data, 16)
    cond = conditioning_of(cfg, data)
    return {
        "arch": cfg.arch, "latent_dim": cond.dim, "context": cond.context,
        "conditioning": cond.to_toml(), "rave_dim": data.latent_dim,
        "width": w, "height": h, "data": str(data.root.resolve()), "encoder": m["encoder"],
        "encoder_sha256": m["encoder_sha256"], "sample_rate": m["sample_rate"], "hop": m["hop"], "fps": m["fps"],
        # held-out inputs kept with the weights, so `export` can check the show without the dataset
        "probe_inputs": data.inputs(probe_idx, cond).tolist(),
    }


def _loss(cfg: TrainConfig, model: torch.nn.Module, z: torch.Tensor, x: torch.Tensor,
          gen: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    if cfg.arch == "ours" and cfg.latent_noise > 0:  # noise from our own generator: part of the resumable state
        z = z + cfg.latent_noise * torch.randn(z.shape, generator=gen).to(z.device)
    out = model(z if z.shape[1] > 1 else z[:, 0]).float()
    if cfg.arch == "baseline":
        pix = F.mse_loss(out, x) if cfg.baseline_loss == "mse" else F.l1_loss(out, x)
        return pix, {"pixel": pix.item()}
    pix = F.l1_loss(out, x)
    sim = ssim(out, x, data_range=1.0)
    return pix + cfg.ssim_weight * (1 - sim), {"l1": pix.item(), "ssim": sim.item()}


def heldout_grid(predict: Predict, data: FrameDataset, idx: np.ndarray) -> torch.Tensor:
    """(3, 2h, n*w): held-out truth on top, prediction below."""
    out = predict(idx).float().clamp(0, 1).cpu()
    src = to_tensor(data.frames(idx))
    if src.shape[-2:] != out.shape[-2:]:
        src = F.interpolate(src, size=out.shape[-2:], mode="area")
    top = torch.cat(list(src), dim=2)
    return torch.cat([top, torch.cat(list(out), dim=2)], dim=1)


def train(cfg: TrainConfig, out: Path, resume: bool, device: str | None = None, progress: bool = True) -> dict:
    rank, world, dev = join(device)
    master = rank == 0
    data = FrameDataset(Path(cfg.data))
    ckpt_path = out / CHECKPOINT
    if ckpt_path.exists() and not resume:
        raise DatasetError(f"{out}: already has a {CHECKPOINT}; pass --resume to continue it or choose a new --out")
    if resume and not ckpt_path.exists():
        raise DatasetError(f"{out}: nothing to resume (no {CHECKPOINT})")
    torch.manual_seed(cfg.seed + rank)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + rank)
    ck = load_checkpoint(out) if resume else None
    meta = ck["meta"] if ck else _meta(cfg, data)
    if meta["encoder_sha256"] != data.manifest["encoder_sha256"]:
        raise DatasetError(f"{out} was started on a dataset from another encoder; resume it on {meta['data']}")
    size = (meta["width"], meta["height"])
    model = make_model(meta).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(cfg, s))
    use_amp = cfg.amp == "auto" and dev.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    start = 0
    if ck:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        scaler.load_state_dict(ck["scaler"])
        torch.set_rng_state(ck["rng"]["torch"])
        gen.set_state(ck["rng"]["gen"])
        if dev.type == "cuda" and ck["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(ck["rng"]["cuda"])
        start = ck["step"]
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None) \
        if world > 1 else model
    writer = None
    if master:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.toml").write_text(dumps_toml(to_dict(cfg)))
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out / "tb"), purge_step=start)
    cond = meta_conditioning(meta)
    batches = StepBatches(data, cfg.batch, cond, cfg.seed, rank, world)
    loader = torch.utils.data.DataLoader(batches, batch_size=None, sampler=range(start, cfg.steps),
                                         num_workers=cfg.workers, pin_memory=dev.type == "cuda",
                                         prefetch_factor=4 if cfg.workers else None,
                                         # its own generator: iterating must not draw from the global RNG
                                         generator=torch.Generator().manual_seed(cfg.seed))
    eval_idx = eval_indices(data, cfg.eval_frames)
    grid_idx = eval_idx[np.linspace(0, len(eval_idx) - 1, min(cfg.grid_frames, len(eval_idx))).astype(int)]

    last_save = [time.perf_counter()]

    def checkpoint(step: int) -> None:
        last_save[0] = time.perf_counter()
        if not master:
            return
        save_atomic({"step": step, "model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "scaler": scaler.state_dict(), "config": to_dict(cfg), "meta": meta,
                     "rng": {"torch": torch.get_rng_state(), "gen": gen.get_state(),
                             "cuda": torch.cuda.get_rng_state() if dev.type == "cuda" else None}}, ckpt_path)

    def evaluate_now(step: int) -> dict:
        m = metrics(predictor(model, meta, data, dev), data, eval_idx, cond)
        if writer:
            for k, v in m.items():
                writer.add_scalar(f"heldout/{k}", v, step)
            writer.add_image("heldout/truth_over_prediction", heldout_grid(predictor(model, meta, data, dev), data, grid_idx),
                             step)
        model.train()
        return {"metrics": m}

    if master:
        log.info("%s: %s decoder on %s (%d-d%s) -> %dx%d, %d params, on %s%s; %d training / %d held-out frames",
                 out, cfg.arch, " + ".join(f"{s.kind} {s.dim}" for s in cond.streams), cond.dim,
                 f" x {meta['context']}" if meta["context"] > 1 else "",
                 size[0], size[1], sum(p.numel() for p in model.parameters()), dev,
                 f" x{world}" if world > 1 else "", len(data.train_idx), len(data.heldout_idx))
        if start:
            log.info("resumed from step %d of %d", start, cfg.steps)
    model.train()
    bar = tqdm(total=cfg.steps, initial=start, unit="step", disable=not (master and progress))
    t_last, wait, samples = time.perf_counter(), 0.0, 0
    t_fetch = time.perf_counter()
    step = start
    for step, (z, frames) in zip(range(start, cfg.steps), loader):
        wait += time.perf_counter() - t_fetch
        z = z.to(dev, non_blocking=True)
        x = device_images(frames, size, dev)
        with torch.autocast(dev.type, dtype=amp_dtype) if use_amp else nullcontext():
            loss, parts = _loss(cfg, net, z, x, gen)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        samples += len(x) * world
        if not math.isfinite(loss.item()):
            raise DatasetError(f"{out}: loss became {loss.item()} at step {step}; lower lr (now {cfg.lr}) "
                               "and resume from the last checkpoint")
        done = step + 1
        bar.update(1)
        if master and (done % cfg.log_every == 0 or done == cfg.steps):
            now = time.perf_counter()
            span = now - t_last
            writer.add_scalar("train/loss", loss.item(), done)
            for k, v in parts.items():
                writer.add_scalar(f"train/{k}", v, done)
            writer.add_scalar("train/lr", sched.get_last_lr()[0], done)
            writer.add_scalar("speed/samples_per_s", samples / span, done)
            writer.add_scalar("speed/data_wait_fraction", wait / span, done)
            bar.set_postfix(loss=f"{loss.item():.4f}", sps=f"{samples / span:.0f}", wait=f"{wait / span:.0%}")
            t_last, wait, samples = now, 0.0, 0
        if done % cfg.eval_every == 0 and done != cfg.steps and master:
            evaluate_now(done)
        if done != cfg.steps and (done % cfg.ckpt_every == 0 or time.perf_counter() - last_save[0] > CHECKPOINT_S):
            checkpoint(done)
        t_fetch = time.perf_counter()
    bar.close()
    result: dict = {}
    if master:
        result = evaluate_now(cfg.steps)
        checkpoint(cfg.steps)
        (out / "metrics.toml").write_text(dumps_toml({"step": cfg.steps, **result["metrics"]}))
        writer.close()
        log.info("held-out at step %d: %s", cfg.steps, format_metrics(result["metrics"]))
    if world > 1:
        dist.destroy_process_group()
    return result


__all__ = ["train"]
