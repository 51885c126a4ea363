"""Guidance as eps-function wrappers: classifier-free (Ho & Salimans 2022) and classifier (Dhariwal & Nichol 2021).

Three conventions for the classifier-free weight are in use; they are converted here and nowhere else:

| option              | formula                            | plain conditional | unconditional |
|---------------------|------------------------------------|-------------------|---------------|
| guidance_weight w   | (1 + w) eps_c - w eps_u  (CFG Eq. 6) | w = 0             | w = -1        |
| guidance_scale s    | eps_u + s (eps_c - eps_u) (diffusers) | s = 1             | s = 0         |
| guidance_lambda lam | lam eps_c + (1 - lam) eps_u (lecture) | lam = 1           | lam = 0       |

so s = 1 + w and lam = 1 + w.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from genvision.errors import GenvisionError

EpsFn = Callable[[Tensor, Tensor], Tensor]
Denoiser = Callable[[Tensor, Tensor, Tensor | None], Tensor]  # (x_t, t, labels or None) -> eps


def guidance_weight(*, weight: float | None = None, scale: float | None = None,
                    lam: float | None = None) -> float:
    """The paper's w from exactly one of the three conventions (none given -> w = 0, no guidance)."""
    given = [(n, v) for n, v in (("guidance_weight", weight), ("guidance_scale", scale),
                                 ("guidance_lambda", lam)) if v is not None]
    if len(given) > 1:
        raise GenvisionError("give only one of " + ", ".join(f"--{n.replace('_', '-')}" for n, _ in given))
    if not given:
        return 0.0
    name, value = given[0]
    if name == "guidance_lambda" and not 0.0 <= value <= 1.0:
        raise GenvisionError(f"--guidance-lambda must be in [0, 1], got {value}")
    return value if name == "guidance_weight" else value - 1.0


def classifier_free_eps(denoise: Denoiser, labels: Tensor, *, null_label: int, weight: float) -> EpsFn:
    """eps~ = (1 + w) eps(x, y) - w eps(x, null)   (Ho & Salimans 2022, Eq. 6).

    The conditional and unconditional halves run as one batched forward pass of size 2B.
    """
    if weight == 0.0:
        return lambda x, t: denoise(x, t, labels)
    null = torch.full_like(labels, null_label)
    both = torch.cat([labels, null])

    def eps_fn(x: Tensor, t: Tensor) -> Tensor:
        eps_c, eps_u = denoise(torch.cat([x, x]), torch.cat([t, t]), both).chunk(2)
        return eps_u + (1.0 + weight) * (eps_c - eps_u)

    return eps_fn
