"""What the network predicts (ε, x_0 or v) and how to turn its output into (ε, x_0).

Samplers and the variational bound only speak ε; these two functions are the only place that knows
about the other parameterisations.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from genvision.diffusion.schedule import NoiseSchedule
from genvision.errors import GenvisionError

PREDICTIONS = ("eps", "x0", "v")


class EpsX0(NamedTuple):
    """The noise and the clean image implied by a model output; both (B, C, H, W)."""

    eps: Tensor
    x0: Tensor


def _check(prediction: str) -> None:
    if prediction not in PREDICTIONS:
        raise GenvisionError(f"unknown prediction {prediction!r}; expected one of {PREDICTIONS}")


def model_output_to_eps_x0(
    schedule: NoiseSchedule, xt: Tensor, t: Tensor, output: Tensor, *, prediction: str
) -> EpsX0:
    """Read a model output as ε, x_0 or v and return both ε and x_0.

    xt, output: (B, C, H, W); t: (B,) int64; prediction: "eps" | "x0" | "v".
    """
    _check(prediction)
    if prediction == "eps":
        return EpsX0(output, schedule.predict_x0_from_eps(xt, t, output))
    if prediction == "x0":
        return EpsX0(schedule.predict_eps_from_x0(xt, t, output), output)
    return EpsX0(schedule.predict_eps_from_v(xt, t, output), schedule.predict_x0_from_v(xt, t, output))


def training_target(
    schedule: NoiseSchedule, x0: Tensor, noise: Tensor, t: Tensor, *, prediction: str
) -> Tensor:
    """The regression target of L_simple (Eq. 14, Ho et al. 2020) for each parameterisation.

    x0: (B, C, H, W) in [-1, 1]; noise: (B, C, H, W) the ε used to make x_t; t: (B,) int64.
    "eps" -> ε (Eq. 14), "x0" -> x_0, "v" -> sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0 (Salimans & Ho 2022).
    """
    _check(prediction)
    if prediction == "eps":
        return noise
    if prediction == "x0":
        return x0
    return schedule.get_v(x0, noise, t)
