"""Pixel-by-pixel sampling: one loop, three ways to get the parameters of the next pixel.

`fill_pixels` is the loop itself: what value each pixel takes comes from a `Choose` callback. Sampling
(`sample_pixels`) draws it at random; the entropy coder (genvision.compress) takes the known value and codes
it, or decodes it, so that encoder and decoder run the very same computation and see bit-identical
parameters.

The loop draws its randomness in a fixed order (one `torch.rand((n, dist.uniforms))` per pixel per step,
turned into a value by inverse CDF), so every way of computing the parameters consumes the generator
identically and, with equal parameters, gives the same samples:

- `naive_params_at`: the full network over the whole image for every pixel (and colour).
- `window_params_at`: the network over the receptive-field window ending at the pixel's row: rows
  [i - up, i], columns [j - left, j + right]. Zero padding at the window's border only corrupts outputs
  within `up`/`left`/`right` of it, never the pixel itself.
- the network's `stepper`: per-layer activation caches, one position per layer per pixel
  (Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive Models").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

import torch
from torch import Tensor, nn

# (x (n, C_in, H, W) current network input, i, j) -> parameters of pixel (i, j): (n, P)
ParamsAt = Callable[[Tensor, int, int], Tensor]


class ReceptiveField(NamedTuple):
    """How far an output pixel reaches: rows above, columns to the left and to the right (bounding box)."""

    up: int
    left: int
    right: int


class PixelSampler(Protocol):
    """What the loop needs from an output distribution (see distributions.py)."""

    steps: int  # draws per pixel: C for channel-by-channel, 1 for a joint pixel distribution
    uniforms: int  # uniforms per draw

    def sample_step(
        self, params: Tensor, pixel: Tensor, step: int, u: Tensor, *, temperature: float
    ) -> Tensor: ...


class Site(NamedTuple):
    """Where the loop is: pixel (i, j) and, for channel-by-channel distributions, the draw `step`."""

    i: int
    j: int
    step: int


# (params (n, P) of the pixel, pixel (n, C) its current values, site) -> the pixel with draw `step` set (n, C)
Choose = Callable[[Tensor, Tensor, Site], Tensor]


def fill_pixels(
    params_at: ParamsAt,
    choose: Choose,
    steps: int,
    v: Tensor,
    x: Tensor,
    *,
    to_input: Callable[[Tensor], Tensor],
    start: int = 0,
) -> Tensor:
    """Fill v in raster order from raster index `start` on, `steps` choices per pixel; v and x are updated in
    place and v returned. v: (n, C, H, W) values (pixels before `start` are kept); x: (n, C_in, H, W) =
    to_input(v), the network input; to_input maps a (n, C, 1, 1) pixel to its input."""
    _, _, height, width = v.shape
    for index in range(start, height * width):
        i, j = divmod(index, width)
        for step in range(steps):
            params = params_at(x, i, j)
            v[:, :, i, j] = choose(params, v[:, :, i, j], Site(i, j, step))
            x[:, :, i : i + 1, j : j + 1] = to_input(v[:, :, i : i + 1, j : j + 1])
    return v


def sample_pixels(
    params_at: ParamsAt,
    dist: PixelSampler,
    v: Tensor,
    x: Tensor,
    *,
    to_input: Callable[[Tensor], Tensor],
    start: int = 0,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
) -> Tensor:
    """`fill_pixels` with random draws: each step one `torch.rand((n, dist.uniforms))` turned into a value by
    the distribution's inverse CDF. v: (n, C, H, W) values in the distribution's domain."""
    n = v.shape[0]

    def draw(params: Tensor, pixel: Tensor, site: Site) -> Tensor:
        u = torch.rand((n, dist.uniforms), generator=generator, device=v.device)
        return dist.sample_step(params, pixel, site.step, u, temperature=temperature)

    return fill_pixels(params_at, draw, dist.steps, v, x, to_input=to_input, start=start)


def naive_params_at(net_fn: Callable[[Tensor], Tensor]) -> ParamsAt:
    """Recompute the whole image for every pixel: net_fn(x) (n, P, H, W) at (i, j)."""

    def params_at(x: Tensor, i: int, j: int) -> Tensor:
        return net_fn(x)[:, :, i, j]

    return params_at


def window_params_at(net_fn: Callable[[Tensor, slice, slice], Tensor], field: ReceptiveField) -> ParamsAt:
    """Recompute only the receptive-field window above and around (i, j).

    net_fn(x_window, rows, cols) -> (n, P, h, w) runs the network on x[:, :, rows, cols] (it crops any
    conditioning map the same way); its zero padding at a real image border is the full network's.
    """

    def params_at(x: Tensor, i: int, j: int) -> Tensor:
        top, left = max(0, i - field.up), max(0, j - field.left)
        rows, cols = slice(top, i + 1), slice(left, min(x.shape[-1], j + field.right + 1))
        return net_fn(x[:, :, rows, cols], rows, cols)[:, :, i - top, j - left]

    return params_at


def capture_io(
    net: nn.Module, modules: list[nn.Module], x: Tensor, **kwargs: object
) -> dict[nn.Module, tuple[Tensor, Tensor]]:
    """Run net(x, **kwargs) once and return each listed module's (input, output), to prime a stepper."""
    seen: dict[nn.Module, tuple[Tensor, Tensor]] = {}

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        seen[module] = (inputs[0].detach(), output.detach())

    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        with torch.no_grad():
            net(x, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def capture_inputs(
    net: nn.Module, modules: list[nn.Module], x: Tensor, **kwargs: object
) -> dict[nn.Module, Tensor]:
    """Each listed module's input during net(x, **kwargs)."""
    return {m: io[0] for m, io in capture_io(net, modules, x, **kwargs).items()}
