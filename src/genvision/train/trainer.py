"""A trainer that knows nothing about the model it trains.

The model is any nn.Module with `loss(batch) -> dict[str, Tensor]`; the key "loss" is optimised and the
other entries are logged. If the model also has `sample(n, *, labels, generator)` the trainer writes
sample grids from the EMA weights. Under torchrun the model is wrapped in DistributedDataParallel, each
rank takes its slice of every global batch, and rank 0 alone writes files.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from genvision.data.dataset import ImageDataset, to_float
from genvision.data.splits import balanced_subset
from genvision.device import autocast_context
from genvision.errors import GenvisionError
from genvision.protocols import Sampler, StepScheduled, sample_grid
from genvision.train import checkpoint as ckpt
from genvision.train.config import TrainConfig
from genvision.train.distributed import DistInfo, init_distributed, local_device, pick_device
from genvision.train.ema import EMA
from genvision.train.integrity import match_state_dict
from genvision.train.schedule import warmup_cosine_lr

BatchTransform = Callable[[Tensor, "torch.Generator | None"], Tensor]
Callback = Callable[["Trainer", int], None]


class _LossForward(nn.Module):
    """DDP only syncs gradients of work done inside its forward; route model.loss through it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        return self.model.loss(batch)


class BatchStream:
    """Deterministic stream of global batches: epoch e is a permutation seeded by (seed, e).

    The indices of optimiser step s depend only on s, so resuming at step s needs no sampler state. Each
    rank takes an interleaved slice of the global batch (the role of torch's DistributedSampler).
    """

    def __init__(self, num_items: int, *, global_batch: int, seed: int) -> None:
        self.num_items = num_items
        self.global_batch = global_batch
        self.seed = seed
        self._perms: dict[int, Tensor] = {}

    def _perm(self, epoch: int) -> Tensor:
        if epoch not in self._perms:
            self._perms = {epoch: torch.randperm(
                self.num_items, generator=torch.Generator().manual_seed(self.seed * 100_003 + epoch))}
        return self._perms[epoch]

    def indices(self, step: int) -> Tensor:
        start = step * self.global_batch
        positions = torch.arange(start, start + self.global_batch)
        epochs = positions // self.num_items
        out = torch.empty(self.global_batch, dtype=torch.long)
        for e in epochs.unique().tolist():
            sel = epochs == e
            out[sel] = self._perm(e)[positions[sel] % self.num_items]
        return out


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        train_data: ImageDataset,
        *,
        config: TrainConfig,
        val_data: ImageDataset | None = None,
        run_dir: str | Path | None = None,
        run_config: dict[str, Any] | None = None,
        batch_transform: BatchTransform | None = None,
        callbacks: list[Callback] | None = None,
    ) -> None:
        self.config = config
        self.device = pick_device(config.device)
        self.dist: DistInfo = init_distributed(self.device)
        self.device = local_device(self.device, self.dist)
        per_micro, rem = divmod(config.batch_size, self.dist.world_size * config.grad_accum)
        if rem or per_micro == 0:
            raise GenvisionError(
                f"batch_size {config.batch_size} must be divisible by processes x grad_accum "
                f"({self.dist.world_size} x {config.grad_accum})")
        self.micro_batch = per_micro
        torch.manual_seed(config.seed + self.dist.rank)
        self.model = model.to(self.device)
        self.ema = EMA(self.model, decay=config.ema_decay, warmup=config.ema_warmup)
        self.forward = _LossForward(self.model)
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = DistributedDataParallel(self.forward, device_ids=ids)
        decay, no_decay = [], []
        for p in self.model.parameters():
            if p.requires_grad:
                (decay if p.dim() >= 2 else no_decay).append(p)
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": config.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}], lr=config.lr,
            betas=(config.adam_beta1, config.adam_beta2))
        self.train_data = train_data
        self.val_data = val_data
        self.batch_transform = batch_transform
        self.stream = BatchStream(len(train_data), global_batch=config.batch_size, seed=config.seed)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.run_config = run_config or {}
        self.callbacks = list(callbacks or [])
        self.step = 0
        self.last_metrics: dict[str, float] = {}
        self._tb = None
        self._val_index: Tensor | None = None

    # ----------------------------------------------------------------- data
    def make_batch(self, data: ImageDataset, index: Tensor) -> dict[str, Tensor]:
        x = to_float(data.images[index])
        if self.batch_transform is not None:
            x = self.batch_transform(x, None)
        batch = {"image": x.to(self.device, non_blocking=True)}
        if data.labels is not None:
            batch["label"] = data.labels[index].to(self.device, non_blocking=True)
        return batch

    def _micro_batches(self, step: int) -> Iterator[dict[str, Tensor]]:
        idx = self.stream.indices(step)
        world, rank = self.dist.world_size, self.dist.rank
        mine = idx.view(-1, world)[:, rank]  # interleaved slice, so each rank sees the same mix
        for chunk in mine.split(self.micro_batch):
            yield self.make_batch(self.train_data, chunk)

    # ----------------------------------------------------------------- state
    def state_tensors(self) -> dict[str, Tensor]:
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def _diverged(self, what: str) -> GenvisionError:
        """The error a run that diverged stops with: what went non-finite, and the checkpoint that stays."""
        found = ckpt.list_checkpoints(self.run_dir) if self.run_dir is not None else []
        kept = f"; the newest checkpoint {found[-1]} is kept" if found else ""
        return GenvisionError(f"training diverged at step {self.step}: {what}{kept}")

    def save(self) -> Path | None:
        """Write a checkpoint of this step, then prune; weights holding NaN/inf stop the run instead."""
        if self.run_dir is None or not self.dist.is_main:
            return None
        try:
            path = ckpt.save_checkpoint(
                ckpt.checkpoint_path(self.run_dir, self.step), step=self.step, config=self.run_config,
                model=self.model.state_dict(), ema=self.ema.model.state_dict(),
                optimizer=self.optimizer.state_dict(), rng=self.state_tensors(),
                extra={"ema_updates": self.ema.num_updates})
        except ckpt.NonFiniteWeights as err:
            raise self._diverged(str(err)) from None
        ckpt.prune_checkpoints(self.run_dir, keep=self.config.keep_checkpoints)
        return path

    def restore(self, state: ckpt.Checkpoint) -> None:
        where = f"checkpoint of step {state.step}"
        self.model.load_state_dict(match_state_dict(state.model, self.model.state_dict(), where=where))
        self.ema.model.load_state_dict(match_state_dict(state.ema, self.ema.model.state_dict(), where=where))
        if state.optimizer is None:
            raise GenvisionError("checkpoint has no optimiser state: it cannot be resumed")
        self.optimizer.load_state_dict(state.optimizer)
        self.ema.num_updates = int(state.extra.get("ema_updates", state.step))
        if "cpu" in state.rng and self.dist.rank == 0:
            torch.set_rng_state(state.rng["cpu"])
        elif self.dist.rank > 0:
            torch.manual_seed(self.config.seed + self.dist.rank + 7919 * state.step)
        if "cuda" in state.rng and self.device.type == "cuda" and self.dist.rank == 0:
            torch.cuda.set_rng_state(state.rng["cuda"], self.device)
        self.step = state.step

    def resume(self) -> int:
        """Continue from the newest valid checkpoint of run_dir (newer broken ones are skipped with a warning);
        returns its step. No run folder, or no valid checkpoint in it, is an error, never a silent restart."""
        if self.run_dir is None or not self.run_dir.is_dir():
            raise GenvisionError(f"cannot resume: run folder {self.run_dir} does not exist")
        found = ckpt.newest_valid_checkpoint(self.run_dir, warn=self._print)
        if found is None:
            raise GenvisionError(f"cannot resume {self.run_dir}: it has no valid checkpoint")
        path, state = found
        ckpt.check_family(path, state, self.run_dir)
        expected = ckpt.family_of(self.run_config)
        if expected and ckpt.family_of(state.config) != expected:
            raise GenvisionError(f"cannot resume {self.run_dir} as a {expected!r} run: {path} is a "
                                 f"{ckpt.family_of(state.config)!r} checkpoint")
        self.restore(state)
        self._print(f"resumed from step {self.step} ({path.name})")
        return self.step

    # ----------------------------------------------------------------- logging
    def _print(self, msg: str) -> None:
        if self.dist.is_main:
            tqdm.write(msg)

    def log(self, metrics: dict[str, float]) -> None:
        self.last_metrics.update(metrics)
        if self.run_dir is None or not self.dist.is_main:
            return
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": self.step, **metrics}) + "\n")
        if self._tb is not None:
            for k, v in metrics.items():
                self._tb.add_scalar(k, v, self.step)

    # ----------------------------------------------------------------- eval hooks
    def validation_index(self) -> Tensor:
        """The validation images validate() scores: all of them, or when they exceed val_batches x micro-batch a
        class-balanced, seeded subset of that size (data/splits.balanced_subset), the same one at every step.
        Not the first images of the split: splits can be sorted by label, and those would be a few classes."""
        if self._val_index is None:
            bs = max(self.micro_batch, 1)
            self._val_index = balanced_subset(len(self.val_data), self.config.val_batches * bs,
                                              labels=self.val_data.labels, seed=self.config.seed + 12345)
        return self._val_index

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean of the EMA model's loss terms over the validation images of `validation_index`.

        Runs under a fixed seed so values at different steps compare, and restores the RNG afterwards.
        """
        if self.val_data is None or len(self.val_data) == 0:
            return {}
        model = self.ema.model
        sums: dict[str, float] = {}
        count = 0
        bs = max(self.micro_batch, 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed + 12345)
            for idx in self.validation_index().split(bs):
                with autocast_context(self.device, self.config.bf16):
                    out = model.loss(self.make_batch(self.val_data, idx))
                for k, v in out.items():
                    sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
                count += len(idx)
        return {f"val/{k}": v / count for k, v in sums.items()}

    @torch.no_grad()
    def write_samples(self) -> Path | None:
        model = self.ema.model
        if (self.run_dir is None or not self.dist.is_main or not isinstance(model, Sampler)
                or self.config.num_samples < 1):
            return None
        from genvision.viz.grid import save_grid

        n = self.config.num_samples
        grid = sample_grid(model, n, device=self.device)  # one column per class (or mixture component)
        gen = torch.Generator(device=self.device).manual_seed(self.config.seed)
        images = model.sample(n, generator=gen, **grid.conditions)
        nrow = grid.columns or int(math.ceil(math.sqrt(n)))
        path = self.run_dir / "samples" / f"step_{self.step:08d}.png"
        save_grid(images, path, nrow=nrow)
        return path

    # ----------------------------------------------------------------- loop
    def train_step(self) -> dict[str, float]:
        cfg = self.config
        lr = warmup_cosine_lr(self.step, base_lr=cfg.lr, warmup_steps=cfg.warmup_steps,
                              total_steps=cfg.steps, min_lr_ratio=cfg.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)  # a group may carry its own multiplier
        self.model.train()
        totals: dict[str, Tensor] = {}
        for micro, batch in enumerate(self._micro_batches(self.step)):
            last = micro == cfg.grad_accum - 1
            # Skip the gradient all-reduce on all but the last micro-step: the sum is synced once.
            sync = contextlib.nullcontext() if (last or not self.dist.enabled) else self.forward.no_sync()
            with sync:
                with autocast_context(self.device, cfg.bf16):
                    out = self.forward(batch)
                (out["loss"] / cfg.grad_accum).backward()
            for k, v in out.items():
                totals[k] = totals.get(k, 0.0) + v.detach().float() / cfg.grad_accum
        if cfg.grad_clip > 0:
            totals["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if isinstance(self.model, StepScheduled):  # temperature / KL warm-up: per optimiser step
            self.model.on_optimizer_step()
        self.ema.update(self.model)
        self.step += 1
        return {"lr": lr, **{k: v for k, v in totals.items()}}  # tensors; converted when logged

    def fit(self) -> dict[str, float]:
        cfg = self.config
        if self.run_dir is not None and self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            for orphan in ckpt.clean_orphans(self.run_dir):
                self._print(f"removed {orphan}, left by a write that was killed")
            ckpt.atomic_write_json(self.run_dir / "config.json", self.run_config)
            if cfg.tensorboard and self._tb is None:
                try:
                    from torch.utils.tensorboard import SummaryWriter

                    self._tb = SummaryWriter(str(self.run_dir / "tb"))
                except ImportError:
                    self._print("warning: tensorboard is not installed; logging to metrics.jsonl only")
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not (cfg.progress and self.dist.is_main),
                   dynamic_ncols=True, unit="step")
        t_last, step_last = time.perf_counter(), self.step
        while self.step < cfg.steps:
            metrics = self.train_step()
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                now = time.perf_counter()
                ips = (self.step - step_last) * cfg.batch_size / max(now - t_last, 1e-9)
                t_last, step_last = now, self.step
                logged = {k: float(v) for k, v in metrics.items()}
                if not math.isfinite(logged["loss"]):
                    raise self._diverged(f"the loss is {logged['loss']}")
                logged["images_per_s"] = ips
                self.log(logged)
                bar.set_postfix(loss=f"{logged['loss']:.4f}", img_s=f"{ips:.0f}")
            at_end = self.step == cfg.steps
            if (cfg.val_every and self.step % cfg.val_every == 0) or at_end:
                val = self.validate()
                if val:
                    self.log(val)
                    self._print(f"step {self.step}: " + ", ".join(f"{k}={v:.4f}" for k, v in val.items()))
            if (cfg.sample_every and self.step % cfg.sample_every == 0) or at_end:
                path = self.write_samples()
                if path is not None:
                    self._print(f"samples: {path}")
            if (cfg.ckpt_every and self.step % cfg.ckpt_every == 0) or at_end:
                self.save()
            for cb in self.callbacks:
                cb(self, self.step)
        bar.close()
        if self._tb is not None:
            self._tb.close()
        return dict(self.last_metrics)
