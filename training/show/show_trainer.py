"""`latentvj train show` (and `train vae`): the show's image model and its audio mapping.

One model, trained end to end on (sound, frame) pairs: the mapping turns the conditioning window
into the audio part a of the image latent, the encoder turns the frame into the footage part z
(a posterior with a KL cost, from the frame with its colours jittered, so colour and brightness
come from the sound where it explains them), and the decoder draws z and grades it with a
(image_model.GradedDecoder; sound "picture": draws [a | z] in one piece).
Loss = multi-scale L1 + log-spectrum L1 + KL(z) + the coarse colour and light (2x2 and whole
frame means) of the frame drawn with another frame's footage against this frame's, and after
`adv_start` of the run a patch discriminator (hinge loss at VQGAN's adaptive weight, plus feature
matching). The discriminator also judges frames decoded from one frame's a with another frame's
z, since that is what plays live: the sound of now with the footage of somewhere else.

Keeping z in use: the posterior starts narrow (image_model.LOGVAR_INIT), the KL weight ramps up
over `kl_warmup` of the run, and the swapped frame's colour term does not reach the encoder (z is
detached there). Without these, at 128x128 the encoder gave up on z in the first few hundred
steps (KL near 0, every frame the sound's average): Adam moves the KL's tiny gradient as fast as
any other while the decoder still ignores z, and the colour term rewards a z that says nothing.

At the end (show_finish.py): the PCA of each part over the training frames is folded into the decoder (and the
audio part's into the mapping), so the show's latent is [audio directions | footage directions],
each whitened and largest first; the footage bank (the training frames' z, in order) is what the
shots play. How much each direction follows the audio is measured on held-out frames (R^2 of a
ridge regression from the conditioning: the audio directions near 1, the footage ones near 0
when the footage carries no sound).

Exact resume as in trainer.py: the checkpoint holds model, discriminator, optimisers and RNG, and
batches depend on (seed, step).

Several processes (one per GPU; gloo on CPUs), with torchrun as for `train decoder`:

    torchrun --standalone --nproc_per_node=4 -m latentvj.training.cli train show DATA --out RUN

Each process draws its own `batch` frames a step (StepBatches with its rank: N processes see N
times the frames a step, at the same lr); the autoencoder and mapping are one DistributedDataParallel
module for the generator step, the discriminator another for its step, so every process holds the
same weights after every step (checked bit for bit at the end). Rank 0 alone logs, writes the
checkpoint (the unwrapped modules' state dicts, as one process writes them), TensorBoard and
metrics.toml, and runs `finish`; the others wait for its result. A stop (Ctrl-C to torchrun, which
passes it on, or a `kill` of any one process) is agreed by all processes at the end of the step
they are in, so all stop after the same step and the checkpoint is that step's. torchrun kills
processes that have not ended 30 s after it passed a signal on: a step and a checkpoint must fit.

What exact resume promises: resumed on the same number of processes (and the same devices and
software), a run reaches bit for bit the weights it would have reached uninterrupted: batches
depend on (seed, step, rank, process count) and the checkpoint holds every process's RNG state.
Resumed on another number it goes on from the same weights and step, but not as it would have
(the batches are dealt out by process count, and each process has its own noise); it says so.
Nothing is promised across devices (CPU against GPU, one GPU model against another) or library
versions: the arithmetic differs in the last bits and training amplifies it.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from latentvj.daemon.show.conditioning import Conditioning
from latentvj.daemon.toml_io import dumps_toml

from latentvj.training.show.audio_mapping import AudioMapping
from latentvj.training.checkpoint import (
    CHECKPOINT,
    CHECKPOINT_S,
    StopRequests,
    ignore_interrupts,
    load_checkpoint,
    meta_conditioning,
    save_atomic,
)
from latentvj.training.data.dataset import DatasetError, FrameDataset, StepBatches, device_images
from latentvj.training.distributed import Ranks, digest
from latentvj.training.eval.evaluate import eval_indices, format_metrics
from latentvj.training.show.image_losses import (
    adaptive_weight,
    coarse_l1,
    d_hinge,
    feature_matching,
    g_hinge,
    multiscale_l1,
    spectrum_loss,
)
from latentvj.training.show.image_model import (
    ImageAutoencoder,
    photometric_jitter,
)
from latentvj.training.show.image_show import build_parts
from latentvj.training.show.show_finish import finish
from latentvj.training.eval.picture_scores import sample_indices
from latentvj.training.train_config import TrainConfig, conditioning_of, to_dict
from latentvj.training.decoder.trainer import lr_at, model_size

log = logging.getLogger("latentvj.train")
MIN_FRAMES = 64  # training frames an image model needs at the very least (about 2 s at 30 fps)


def check_frames(data: FrameDataset) -> None:
    """Refuse datasets an image model cannot learn from, before any time is spent."""
    n = len(data.train_idx)
    if n < MIN_FRAMES:
        raise DatasetError(f"{data.root}: {n} training frames; an image model needs at least {MIN_FRAMES} "
                           f"(about {MIN_FRAMES / data.fps:.0f} s of video)")
    sample = data.frames(data.train_idx[sample_indices(n, 256)]).astype(np.float32)  # (S, H, W, 3)
    if float(sample.std(axis=0).max()) < 1.0:
        raise DatasetError(f"{data.root}: the training frames are all the same picture; there is nothing "
                           "for an image model to learn")


def show_meta(cfg: TrainConfig, data: FrameDataset) -> dict:
    w, h = model_size(cfg, data)
    m = data.manifest
    cond = conditioning_of(cfg, data)
    return {"arch": "show", "latent": cfg.latent, "audio": cfg.audio_latent, "sound": cfg.sound, "latent_dim": cfg.latent,
            "context": cond.context,
            "conditioning": cond.to_toml(), "rave_dim": data.latent_dim, "width": w, "height": h,
            "data": str(data.root.resolve()), "encoder": m["encoder"], "encoder_sha256": m["encoder_sha256"],
            "sample_rate": m["sample_rate"], "hop": m["hop"], "fps": m["fps"],
            "probe_inputs": data.inputs(eval_indices(data, 16), cond).tolist()}


def _amp(dev: torch.device, cfg: TrainConfig):
    """bf16 autocast on GPUs that have it; fp16 would need loss scaling through the adaptive weight."""
    on = cfg.amp == "auto" and dev.type == "cuda" and torch.cuda.is_bf16_supported()
    return (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if on else nullcontext


class _Stopped(Exception):
    pass


class _Generator(torch.nn.Module):
    """The generator step's forward in one module, so one DistributedDataParallel sees the
    autoencoder and the mapping in one call (each of their parameters used, each gradient
    averaged once). It holds the very modules trained, saved and evaluated: not a copy."""

    def __init__(self, ae: ImageAutoencoder, mapping: AudioMapping) -> None:
        super().__init__()
        self.ae, self.mapping = ae, mapping

    def forward(self, c: torch.Tensor, seen: torch.Tensor, gen: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """c (B, context, D) the sound, seen (B, 3, H, W) the frame as the encoder sees it -> a (B, audio),
        recon (B, 3, H, W), mu, logvar, z (B, footage), and swapped (B, 3, H, W): another frame's
        footage (z rolled by one, detached) under this frame's sound."""
        a = self.mapping(c)
        recon, mu, logvar, z, swapped = self.ae.with_swapped(seen, a, gen)
        return a, recon, mu, logvar, z, swapped


def train_show(cfg: TrainConfig, out: Path, resume: bool, device: str | None = None, progress: bool = True,
               until: int | None = None, on_step: Callable[[int], None] | None = None) -> dict:
    """Train into `out`; `until`: stop after that step with a checkpoint, as if killed there (tests
    of exact resume). `on_step(done)` after each step (a caller's own progress). Returns {} when
    stopped. Under torchrun every process returns rank 0's result."""
    ranks = Ranks(device)
    try:
        result = _train(cfg, out, resume, ranks, progress, until, on_step)
    except _Stopped:
        result = {}
    except KeyboardInterrupt:
        ranks.close()
        raise
    # (an error leaves the group as it is: this process ends, and torchrun ends the others)
    ranks.close()
    return result


def _rank_rng(ck: dict, ranks: Ranks) -> dict | None:
    """This process's RNG state in a checkpoint; None (its own seed) for a process the run did not have."""
    was = ck.get("world", 1)
    if was != ranks.world and ranks.master:
        log.warning("started on %d processes, resumed on %d: it goes on from the same weights, but not exactly as "
                    "it would have (the batches are dealt out by process count; each process has its own noise)",
                    was, ranks.world)
    states = ck.get("rng_ranks") or [ck["rng"]]
    return states[ranks.rank] if ranks.rank < len(states) else None


def _train(cfg: TrainConfig, out: Path, resume: bool, ranks: Ranks, progress: bool, until: int | None,
           on_step: Callable[[int], None] | None) -> dict:
    dev, master, rank, world = ranks.device, ranks.master, ranks.rank, ranks.world
    data = FrameDataset(Path(cfg.data))
    check_frames(data)
    ckpt_path = out / CHECKPOINT
    if ckpt_path.exists() and not resume:
        raise DatasetError(f"{out}: already has a {CHECKPOINT}; pass --resume to continue it or choose a new --out")
    if resume and not ckpt_path.exists():
        raise DatasetError(f"{out}: nothing to resume (no {CHECKPOINT})")
    torch.manual_seed(cfg.seed + rank)  # the weights are rank 0's (DDP sends them out); the noise is each rank's
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + rank)
    ck = load_checkpoint(out) if resume else None
    meta = ck["meta"] if ck else show_meta(cfg, data)
    if meta["encoder_sha256"] != data.manifest["encoder_sha256"]:
        raise DatasetError(f"{out} was started on a dataset from another encoder; resume it on {meta['data']}")
    size = (meta["width"], meta["height"])
    cond = meta_conditioning(meta)
    # channels last: the frames arrive so (B, H, W, 3 permuted), and CPU convolutions run 1.2x faster
    ae, disc, mapping = (m.to(dev, memory_format=torch.channels_last) for m in build_parts(meta))
    adv_from = round(cfg.steps * cfg.adv_start)
    kl_ramp = max(1.0, cfg.steps * cfg.kl_warmup)
    opt_g = torch.optim.AdamW([*ae.parameters(), *mapping.parameters()], lr=cfg.lr, betas=(0.5, 0.9),
                              weight_decay=cfg.weight_decay)
    opt_d = torch.optim.AdamW(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, lambda s: lr_at(cfg, s))
    parts_of = (("image", ae), ("disc", disc), ("mapping", mapping), ("opt_g", opt_g), ("opt_d", opt_d),
                ("sched_g", sched_g))
    start = 0
    if ck:
        for key, module in parts_of:
            module.load_state_dict(ck[key])
        rng = _rank_rng(ck, ranks)
        if rng is not None:
            torch.set_rng_state(rng["torch"])
            gen.set_state(rng["gen"])
            if dev.type == "cuda" and rng.get("cuda") is not None:
                torch.cuda.set_rng_state(rng["cuda"])
        start = ck["step"]
        if master:
            log.info("resumed from step %d of %d", start, cfg.steps)
    # One process: the modules themselves. Several: DDP, which sends rank 0's weights and buffers
    # out now, rank 0's buffers again before each call (the discriminator's spectral norm vectors
    # change at every call; the generator's are constants, a few hundred numbers), and averages
    # gradients in backward.
    # In the generator step the discriminator is called unwrapped: its gradients there are thrown
    # away (opt_d zeroes them before its own step), and DDP's hooks act only after a forward
    # through the wrapper, so nothing is sent for them. The adaptive weight is an autograd.grad on
    # the decoder's last layer (the unwrapped module's own parameter, which DDP shares): it leaves
    # .grad alone, so DDP sees nothing of it, and find_unused_parameters is not needed. Each rank
    # weighs the adversarial term on its own batch (as taming-transformers under DDP), and the
    # weighted gradients are averaged in backward.
    gnet = ranks.wrap(_Generator(ae, mapping))
    dnet = ranks.wrap(disc)
    writer = None
    if master:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.toml").write_text(dumps_toml(to_dict(cfg)))
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out / "tb"), purge_step=start)
    last_save = [time.perf_counter()]

    def rng_state() -> dict:
        return {"torch": torch.get_rng_state(), "gen": gen.get_state(),
                "cuda": torch.cuda.get_rng_state() if dev.type == "cuda" else None}

    def checkpoint(step: int, result: dict | None = None, states: list[dict] | None = None) -> None:
        """All ranks call it after the same step (each gives its RNG state); rank 0 writes."""
        states = states if states is not None else ranks.gather(rng_state())
        if master:
            save_atomic({"kind": "show", "step": step, "world": world, "config": to_dict(cfg), "meta": meta,
                         "result": result or {}, **{k: m.state_dict() for k, m in parts_of},
                         "rng": states[0], **({"rng_ranks": states} if world > 1 else {})}, ckpt_path)
        last_save[0] = time.perf_counter()

    eval_idx = eval_indices(data, cfg.eval_frames)
    grid_idx = eval_idx[np.linspace(0, len(eval_idx) - 1, min(cfg.grid_frames, len(eval_idx))).astype(int)]
    if master:
        log.info("%s: image show, latent %d (audio %d from %s, %d-d x %d; footage %d) at %dx%d, %d params, on %s%s; "
                 "%d steps; %d training / %d held-out frames", out, meta["latent"], meta["audio"],
                 " + ".join(f"{s.kind} {s.dim}" for s in cond.streams), cond.dim, cond.context,
                 meta["latent"] - meta["audio"], size[0], size[1],
                 sum(p.numel() for m in (ae, mapping) for p in m.parameters()), dev,
                 f" x{world} processes" if world > 1 else "", cfg.steps, len(data.train_idx), len(data.heldout_idx))
    bar = tqdm(total=cfg.steps, initial=start, unit="step", disable=not (progress and master))
    amp = _amp(dev, cfg)
    ae.train()
    disc.train()
    mapping.train()
    batches = StepBatches(data, cfg.batch, cond, cfg.seed, rank, world)
    loader = torch.utils.data.DataLoader(batches, batch_size=None, sampler=range(start, cfg.steps),
                                         num_workers=cfg.workers, prefetch_factor=4 if cfg.workers else None,
                                         generator=torch.Generator().manual_seed(cfg.seed),
                                         worker_init_fn=ignore_interrupts)
    t_last = time.perf_counter()
    with StopRequests() as stops:
        for step, (c, frames) in zip(range(start, cfg.steps), loader):
            x = device_images(frames, size, dev)  # (B, 3, H, W)
            c = c.to(dev)  # (B, context, D)
            c = c + cfg.latent_noise * torch.randn(c.shape, generator=gen).to(dev)  # the sound, never exactly
            adversarial = step >= adv_from
            with amp():
                seen = photometric_jitter(x, cfg.photometric_jitter, gen) if cfg.photometric_jitter > 0 else x
                # swapped: another frame's footage under this frame's sound; its overall colour and
                # light must still be this frame's, as far as the sound can say
                a, recon, mu, logvar, z, swapped = gnet(c, seen, gen)
                recon, swapped = recon.float(), swapped.float()
                rec = multiscale_l1(recon, x) + cfg.spectrum_weight * spectrum_loss(recon, x)
                kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu * mu - logvar.exp(), dim=1))
                coarse = coarse_l1(swapped, x)
                loss = rec + cfg.kl_weight * min(1.0, step / kl_ramp) * kl + cfg.coarse_weight * coarse
                parts = {"rec": rec.item(), "kl": kl.item(), "coarse": coarse.item()}
                if adversarial:  # the frame's own code, and the swapped one, must both look real
                    b = x.shape[0]
                    scores, feats = disc(torch.cat([recon, swapped]))  # one call: (2B, 1, h, w)
                    f_fake = [f[:b] for f in feats]
                    with torch.no_grad():
                        _, f_real = disc(x)
                    adv = g_hinge(scores[:b].float()) + g_hinge(scores[b:].float())
                    w = adaptive_weight(rec, adv, ae.last_layer())
                    fm = feature_matching(f_fake, f_real)
                    loss = loss + cfg.adv_weight * w * adv + cfg.fm_weight * fm
                    parts.update(adv=adv.item(), adv_weight=w.item(), fm=fm.item())
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
            sched_g.step()
            if adversarial:
                with amp():  # real, own code, swapped: one call (the real part of both hinges is the same batch)
                    real, fake, fake_swapped = dnet(torch.cat([x, recon.detach(), swapped.detach()]))[0].float().chunk(3)
                    d_loss = d_hinge(real, fake) + d_hinge(real, fake_swapped)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
                parts["d"] = d_loss.item()
            if not math.isfinite(loss.item()):
                raise DatasetError(f"{out}: loss became {loss.item()} at step {step}; lower lr (now {cfg.lr}) "
                                   "and resume from the last checkpoint")
            done = step + 1
            bar.update(1)
            if on_step:
                on_step(done)
            if writer and (done % cfg.log_every == 0 or done == cfg.steps):  # rank 0's batch
                now = time.perf_counter()
                for k, v in parts.items():
                    writer.add_scalar(f"train/{k}", v, done)
                writer.add_scalar("speed/steps_per_s", cfg.log_every / max(now - t_last, 1e-9), done)
                bar.set_postfix(rec=f"{parts['rec']:.4f}", kl=f"{parts['kl']:.1f}")
                t_last = now
            if writer and done % cfg.eval_every == 0 and done != cfg.steps:
                _heldout_grid(ae, mapping, data, cond, grid_idx, size, dev, writer, done)
            # Ctrl-C or kill on any rank, and the wall-time checkpoint, on all ranks at once
            stop, due = ranks.any(stops.asked, time.perf_counter() - last_save[0] > CHECKPOINT_S)
            if done != cfg.steps and (done % cfg.ckpt_every == 0 or done == until or due):
                checkpoint(done)
            if stop:  # the step is whole, so save it and stop
                checkpoint(done)
                if writer:
                    writer.close()
                ranks.barrier()  # no rank ends before rank 0 has written: torchrun would kill it mid-write
                if master:
                    log.info("stopped at step %d with a checkpoint: the same command with --resume continues", done)
                raise KeyboardInterrupt
            if done == until:
                if writer:
                    writer.close()
                ranks.barrier()
                raise _Stopped
    bar.close()
    states = None
    if world > 1:  # each rank's last RNG state for the checkpoint, and its weights' hash
        ends = ranks.gather((rng_state(), digest(ae, mapping, disc)))
        states = [s for s, _ in ends]
        if master:
            if len({d for _, d in ends}) > 1:
                raise RuntimeError(f"the {world} processes ended with different weights; DDP did not keep them "
                                   "together (a bug: please report it)")
            log.info("weights identical on all %d processes", world)
    result = None
    if master:
        result = finish(cfg, meta, data, ae, mapping, dev, eval_idx, grid_idx, writer)
        checkpoint(cfg.steps, result, states)
        (out / "metrics.toml").write_text(dumps_toml({"step": cfg.steps, **result["metrics"],
                                                      "explained": result["explained"], "cuts": result["cuts"],
                                                      "rules": result["rules"]}))
        writer.close()
        log.info("held-out at step %d: %s", cfg.steps, format_metrics(result["metrics"]))
        log.info("audio explains (held-out R^2 per latent direction: %d audio, then footage): %s", meta["audio"],
                 " ".join(f"{r:.2f}" for r in result["explained"]))
    return ranks.from_master(result)  # the others wait here while rank 0 finishes


@torch.no_grad()
def _heldout_grid(ae: ImageAutoencoder, mapping: AudioMapping, data: FrameDataset, cond: Conditioning,
                  idx: np.ndarray, size: tuple[int, int], dev: torch.device, writer, step: int) -> None:
    """Held-out truth, its reconstruction (the frame's own footage code) and the frame drawn with
    the footage of the first one: the sound's part of the picture alone."""
    ae.eval()
    mapping.eval()
    x = device_images(torch.from_numpy(data.frames(idx)), size, dev)
    a = mapping(torch.from_numpy(data.inputs(idx, cond)).to(dev))
    mu = ae.encode(x)[0]
    recon = ae.decoder(torch.cat([a, mu], 1)).float().clamp(0, 1)
    other = ae.decoder(torch.cat([a, mu[:1].expand_as(mu)], 1)).float().clamp(0, 1)
    rows = [torch.cat(list(t.cpu()), dim=2) for t in (x, recon, other)]
    writer.add_image("heldout/truth_reconstruction_same_footage", torch.cat(rows, dim=1), step)
    mse = ((recon - x) ** 2).flatten(1).mean(1)
    writer.add_scalar("heldout/reconstruction_psnr", float((10 * torch.log10(1 / mse.clamp_min(1e-10))).mean()), step)
    ae.train()
    mapping.train()


