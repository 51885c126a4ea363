"""Which timesteps a short sampler visits, and the DDPM chain respaced onto them.

Spacing (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2, as
diffusers' ``timestep_spacing`` defines them), code indices 0..T-1, descending:

  leading   k = T // steps;        (steps-1) k, ..., k, 0          (DDIM's "uniform", LDM / Stable Diffusion)
  trailing  round(T - i T/steps) - 1, i = 0..steps-1: T-1, ..., T/steps - 1   (starts at the last step, T-1)
  linspace  round(i (T-1)/(steps-1)), i = steps-1..0: T-1, ..., 0           (improved DDPM)

At T = 1000, steps = 10 they are 900..0, 999..99 and 999, 888, ..., 0 (the paper's table lists them
1-indexed). Only trailing and linspace start at t = T-1, the one timestep where pure noise is the right input.

Respacing (Nichol & Dhariwal 2021, Sec. 4): any increasing subsequence S of the timesteps defines a Markov
chain with the same marginals q(x_{S_i} | x_0) as the original, with betas β_{S_i} = 1 - ᾱ_{S_i} / ᾱ_{S_{i-1}}
(ᾱ_{S_{-1}} = 1). Its posterior q(x_{S_{i-1}} | x_{S_i}, x_0) is Eq. 6-7 of Ho et al. on those betas, so the
ancestral sampler runs on it unchanged; the model is called at the original timestep S_i.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genvision.diffusion.schedule import NoiseSchedule
from genvision.errors import GenvisionError

SPACINGS = ("leading", "trailing", "linspace")
DEFAULT_SPACING = "leading"


def spaced_timesteps(T: int, steps: int, spacing: str = DEFAULT_SPACING) -> list[int]:
    """``steps`` distinct timesteps of 0..T-1, strictly descending, placed by ``spacing`` (see module doc).

    The numpy expressions of diffusers' ``DDIMScheduler.set_timesteps`` (steps_offset 0), float rounding
    included (e.g. linspace at T=1000, steps=27 gives 499 where exact arithmetic would round 499.5 to 500), so
    a diffusers scheduler and this one visit the same timesteps (trailing: the first ``steps`` of them, see
    below). With steps == T every spacing gives every t.
    """
    if spacing not in SPACINGS:
        raise GenvisionError(f"unknown timestep spacing {spacing!r}; expected one of {SPACINGS}")
    if not 1 <= steps <= T:
        raise GenvisionError(f"number of sampling steps must be in [1, {T}], got {steps}")
    if spacing == "leading":
        ts = np.arange(steps - 1, -1, -1) * (T // steps)
    elif spacing == "trailing":
        # diffusers' expression; its float arange sometimes has steps + 1 values (T=50, steps=29 adds a
        # timestep -1), so it is cut to the first ``steps``.
        ts = (np.round(np.arange(T, 0, -T / steps)) - 1)[:steps]
    else:
        ts = np.linspace(0, T - 1, steps).round()[::-1]
    return [int(t) for t in ts]


def check_descending(timesteps: Sequence[int], T: int) -> list[int]:
    """The timesteps as ints, or a one-line error unless strictly descending within [0, T)."""
    ts = [int(t) for t in timesteps]
    if not ts or any(a <= b for a, b in zip(ts, ts[1:], strict=False)) or ts[0] >= T or ts[-1] < 0:
        raise GenvisionError(f"timesteps must be strictly descending within [0, {T}), got {ts}")
    return ts


def respaced_betas(alphas_cumprod: np.ndarray, kept: Sequence[int]) -> np.ndarray:
    """β_{S_i} = 1 - ᾱ_{S_i} / ᾱ_{S_{i-1}}, ᾱ_{S_{-1}} = 1 (Nichol & Dhariwal 2021, Sec. 4).

    alphas_cumprod: (T,) float64; kept: increasing code timesteps S_0 < S_1 < ...; returns (len(kept),).
    """
    abar = alphas_cumprod[np.asarray(kept, dtype=np.int64)]
    return 1.0 - abar / np.append(1.0, abar[:-1])


def respace(schedule: NoiseSchedule, timesteps: Sequence[int]) -> NoiseSchedule:
    """The schedule of the chain on ``timesteps`` (any order; stored increasing): step i of the result is
    original timestep sorted(timesteps)[i], with the same ᾱ there. Every timestep kept -> ``schedule`` itself.

    ᾱ is rebuilt in float64 from the stored betas, so a float64 schedule respaces to float64 precision.
    """
    T = schedule.num_timesteps
    kept = sorted(check_descending(sorted(set(timesteps), reverse=True), T))
    if len(kept) != len(timesteps):
        raise GenvisionError(f"timesteps must be distinct, got {list(timesteps)}")
    if kept == list(range(T)):
        return schedule
    if len(kept) < 2:
        raise GenvisionError(f"a respaced DDPM chain needs at least 2 timesteps, got {kept}")
    abar = np.cumprod(1.0 - schedule.betas.detach().cpu().double().numpy())
    out = NoiseSchedule(respaced_betas(abar, kept), dtype=schedule.betas.dtype)
    return out.to(schedule.betas.device)

