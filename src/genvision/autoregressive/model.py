"""PixelCNNModel: a causal network (PixelCNN or Gated PixelCNN) with its per-pixel output distribution.

log p(x) = sum_i log p(x_i | x_<i) (Eq. 1, van den Oord et al. 2016a) is exact and takes one forward pass;
sampling takes one pass per pixel (per colour), done by `sampling.sample_pixels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from genvision.autoregressive.distributions import Bernoulli, Categorical, DiscretizedLogisticMixture
from genvision.autoregressive.gated import GatedPixelCNN
from genvision.autoregressive.pixelcnn import PixelCNN
from genvision.autoregressive.sampling import (
    Choose,
    ParamsAt,
    fill_pixels,
    naive_params_at,
    sample_pixels,
    window_params_at,
)
from genvision.errors import GenvisionError
from genvision.nn.classifier_free import classifier_free_mix, drop_labels

SampleMethod = Literal["fast", "window", "naive"]


def check_sample_method(value: str, name: str = "method") -> None:
    """A sampling method option: one of SampleMethod's values (a one-line GenvisionError otherwise)."""
    if value not in SampleMethod.__args__:
        raise GenvisionError(f"{name}={value!r}: the sampling method is one of {', '.join(SampleMethod.__args__)}")
Distribution = Bernoulli | Categorical | DiscretizedLogisticMixture


@dataclass(frozen=True)
class PixelCNNConfig:
    """arch: "pixelcnn" (7x7 mask A + `layers` residual blocks) or "gated" (`layers` gated layers).
    output: "bernoulli" (binary images), "categorical" (`levels` per channel; also code maps via
    batch["indices"]), "logistic_mixture" (`mixtures` discretised logistics over `levels` bins).
    input_embedding > 0 (categorical only): feed each level through a learned embedding of that width
    instead of as a value in [-1, 1] (code maps have no order).
    p_uncond > 0 (class-conditional only): train with the label dropped to a null label with this
    probability, so sampling can use classifier-free guidance (`guidance_weight`).
    position_bias: a learned bias per row and per column in every layer, so the network knows where it is
    below the reach of the top border (see conditioning.py); on in the 28x28 presets. Off by default so
    configs saved before it existed load unchanged."""

    arch: Literal["pixelcnn", "gated"] = "pixelcnn"
    image_channels: int = 1
    image_size: int = 28
    hidden: int = 64
    layers: int = 7
    output: Literal["bernoulli", "categorical", "logistic_mixture"] = "bernoulli"
    levels: int = 256
    mixtures: int = 5
    num_classes: int = 0
    cond_channels: int = 0
    first_kernel: int = 7
    kernel: int = 3
    input_embedding: int = 0
    p_uncond: float = 0.0
    position_bias: bool = False

    def __post_init__(self) -> None:
        if self.arch not in ("pixelcnn", "gated"):
            raise GenvisionError(f"PixelCNNConfig.arch: expected 'pixelcnn' or 'gated', got {self.arch!r}")
        if self.output not in ("bernoulli", "categorical", "logistic_mixture"):
            raise GenvisionError(f"PixelCNNConfig.output: unknown output distribution {self.output!r}")
        positive = ("image_channels", "image_size", "hidden", "layers", "mixtures", "first_kernel", "kernel")
        for name in positive:
            if getattr(self, name) < 1:
                raise GenvisionError(f"PixelCNNConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("num_classes", "cond_channels", "input_embedding"):
            if getattr(self, name) < 0:
                raise GenvisionError(f"PixelCNNConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.levels < 2:
            raise GenvisionError(f"PixelCNNConfig.levels must be >= 2, got {self.levels}")
        if not 0.0 <= self.p_uncond < 1.0:
            raise GenvisionError(f"PixelCNNConfig.p_uncond must be in [0, 1), got {self.p_uncond}")
        if self.p_uncond > 0 and self.num_classes == 0:
            raise GenvisionError("PixelCNNConfig.p_uncond > 0 needs a class-conditional model (num_classes > 0)")
        if self.input_embedding and self.output != "categorical":
            raise GenvisionError("PixelCNNConfig.input_embedding needs output='categorical'")


def build_distribution(config: PixelCNNConfig) -> Distribution:
    if config.output == "bernoulli":
        return Bernoulli(config.image_channels)
    if config.output == "categorical":
        return Categorical(config.image_channels, config.levels)
    return DiscretizedLogisticMixture(config.image_channels, config.mixtures, config.levels)


class PixelCNNModel(nn.Module):
    """Images (B, C, H, W) in [-1, 1] (or code maps (B, H, W) int64) <-> an autoregressive density."""

    def __init__(self, config: PixelCNNConfig) -> None:
        super().__init__()
        self.config = config
        self.dist = build_distribution(config)
        c = config.image_channels
        # Channel-by-channel distributions mask colours (RGB ordering); a joint pixel distribution does not.
        data_channels = c if self.dist.per_channel else 1
        self.embed = nn.Embedding(config.levels, config.input_embedding) if config.input_embedding else None
        in_channels = c * config.input_embedding if self.embed is not None else c
        network = PixelCNN if config.arch == "pixelcnn" else GatedPixelCNN
        self.net = network(
            in_channels,
            self.dist.param_channels,
            hidden=config.hidden,
            layers=config.layers,
            data_channels=data_channels,
            first_kernel=config.first_kernel,
            kernel=config.kernel,
            # one more embedding row, the null label, when trained for classifier-free guidance
            num_classes=config.num_classes + (1 if config.p_uncond > 0 else 0),
            cond_channels=config.cond_channels,
            position_size=config.image_size if config.position_bias else 0,
        )

    # ---- data <-> values --------------------------------------------------------------------------
    def to_input(self, v: Tensor) -> Tensor:
        """Values (B, C, H, W) -> network input (B, C or C * e, H, W), colour groups contiguous."""
        if self.embed is None:
            return self.dist.decode(v)
        return self.embed(v.long()).permute(0, 1, 4, 2, 3).flatten(1, 2)

    def values(self, batch_or_x: dict[str, Tensor] | Tensor) -> Tensor:
        """batch {"image"} or {"indices"}, an image (B, C, H, W) in [-1, 1] or indices (B, H, W) int64 ->
        values (B, C, H, W) in the output distribution's domain."""
        x = batch_or_x
        if isinstance(batch_or_x, dict):
            x = batch_or_x["indices"] if "indices" in batch_or_x else batch_or_x["image"]
        cfg, size = self.config, self.config.image_size
        if not torch.is_floating_point(x):
            if cfg.output != "categorical" or cfg.image_channels != 1:
                raise GenvisionError("PixelCNNModel: indices need output='categorical' and image_channels=1")
            if x.shape[1:] != (size, size) or x.dim() != 3:
                raise GenvisionError(
                    f"PixelCNNModel: indices must be (B, {size}, {size}), got {tuple(x.shape)}"
                )
            if x.min() < 0 or x.max() >= cfg.levels:
                raise GenvisionError(
                    f"PixelCNNModel: indices must lie in [0, {cfg.levels}), got {x.min()}..{x.max()}"
                )
            return x.unsqueeze(1).float()
        if x.dim() != 4 or x.shape[1:] != (cfg.image_channels, size, size):
            raise GenvisionError(
                f"PixelCNNModel: image must be (B, {cfg.image_channels}, {size}, {size}), "
                f"got {tuple(x.shape)}"
            )
        return self.dist.encode(x)

    def _conditions(
        self, labels: Tensor | None, cond_map: Tensor | None, n: int
    ) -> tuple[Tensor | None, Tensor | None]:
        cfg = self.config
        # the null label (index num_classes) is valid in a model trained with label dropout
        valid = cfg.num_classes + (1 if cfg.p_uncond > 0 else 0)
        if cfg.num_classes == 0:
            labels = None
        elif labels is None or labels.shape != (n,) or labels.min() < 0 or labels.max() >= valid:
            got = None if labels is None else tuple(labels.shape)
            raise GenvisionError(
                f"PixelCNNModel: labels must be ({n},) int64 in [0, {cfg.num_classes}), got {got}"
            )
        if cfg.cond_channels == 0:
            cond_map = None
        elif cond_map is None or cond_map.shape != (n, cfg.cond_channels, cfg.image_size, cfg.image_size):
            got = None if cond_map is None else tuple(cond_map.shape)
            raise GenvisionError(
                f"PixelCNNModel: cond_map must be ({n}, {cfg.cond_channels}, {cfg.image_size}, "
                f"{cfg.image_size}), got {got}"
            )
        return labels, cond_map

    # ---- likelihood -------------------------------------------------------------------------------
    def params(self, v: Tensor, *, labels: Tensor | None = None, cond_map: Tensor | None = None) -> Tensor:
        """Distribution parameters of every pixel given the values before it: (B, P, H, W)."""
        labels, cond_map = self._conditions(labels, cond_map, v.shape[0])
        return self.net(self.to_input(v), labels=labels, cond_map=cond_map)

    def log_prob(
        self,
        batch_or_x: dict[str, Tensor] | Tensor,
        labels: Tensor | None = None,
        *,
        cond_map: Tensor | None = None,
    ) -> Tensor:
        """Exact log-likelihood in nats per image, one forward pass: (B,). A batch dict supplies "label"
        and "cond_map" unless given here."""
        return self.log_prob_pixels(batch_or_x, labels, cond_map=cond_map).sum((1, 2))

    def log_prob_pixels(
        self,
        batch_or_x: dict[str, Tensor] | Tensor,
        labels: Tensor | None = None,
        *,
        cond_map: Tensor | None = None,
    ) -> Tensor:
        """log p(x_i | x_<i) of every pixel in nats (colours summed): (B, H, W); one forward pass."""
        if isinstance(batch_or_x, dict):
            labels = batch_or_x.get("label") if labels is None else labels
            cond_map = batch_or_x.get("cond_map") if cond_map is None else cond_map
        v = self.values(batch_or_x)
        return self.dist.log_prob(self.params(v, labels=labels, cond_map=cond_map), v)

    @property
    def num_classes(self) -> int:
        """Classes the model is conditioned on (0: unconditional); the trainer and CLI pick labels by it."""
        return self.config.num_classes

    def nll(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Exact -log p(x) in nats per image (B,), one forward pass. x: (B, C, H, W) in [-1, 1]."""
        return -self.log_prob(x, labels=labels)

    @property
    def null_label(self) -> int:
        """The label index of the unconditional model (exists when p_uncond > 0)."""
        return self.config.num_classes

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """{"loss": mean NLL in nats per image, "bpd": the same in bits per dimension (C * H * W dims)}.
        With p_uncond > 0 and in training mode some labels are dropped to the null label (CFG training, Ho &
        Salimans Alg. 1); in eval mode (validation) the loss is the conditional NLL."""
        labels = batch.get("label")
        if self.training and labels is not None and self.config.num_classes > 0 and self.config.p_uncond > 0:
            batch = {**batch, "label": drop_labels(labels, self.config.p_uncond, self.null_label)}
        nll = -self.log_prob(batch).mean()
        dims = self.config.image_channels * self.config.image_size**2
        return {"loss": nll, "bpd": nll / (dims * math.log(2))}

    # ---- sampling ---------------------------------------------------------------------------------
    def _params_at(self, method: str, x: Tensor, labels: Tensor | None, cond_map: Tensor | None) -> ParamsAt:
        if method == "fast":
            return self.net.stepper(x, labels=labels, cond_map=cond_map)
        if method == "window":

            def window_fn(xw: Tensor, rows: slice, cols: slice) -> Tensor:
                cm = None if cond_map is None else cond_map[:, :, rows, cols]
                return self.net(xw, labels=labels, cond_map=cm, window=(rows, cols))

            return window_params_at(window_fn, self.net.receptive_field)
        if method == "naive":
            return naive_params_at(lambda xf: self.net(xf, labels=labels, cond_map=cond_map))
        raise GenvisionError(
            f"PixelCNNModel: sampling method must be 'fast', 'window' or 'naive', got {method!r}"
        )

    def _guided_params_at(
        self,
        method: str,
        x: Tensor,
        labels: Tensor | None,
        cond_map: Tensor | None,
        weight: float,
        plausibility: float = 0.0,
    ) -> ParamsAt:
        """Classifier-free guided parameters: the conditional and null-label halves run as one batch of 2n
        and their logits are mixed, (1 + w) l_c - w l_u (CFG Eq. 6; see nn/classifier_free.py).

        plausibility alpha > 0: values the conditional model gives less than alpha times its most likely
        value's probability are ruled out after mixing (dist.restrict). Guidance multiplies p_c by
        (p_c / p_u)^w, which in confident regions can turn a 1-in-400 pixel into a 1-in-8 one (the top-row
        lines of issue 17); the constraint keeps guidance to reweighting what the label finds plausible."""
        if labels is None or self.config.p_uncond <= 0:
            raise GenvisionError(
                "guidance_weight needs a class-conditional PixelCNN trained with label dropout (p_uncond > 0)"
            )
        if self.config.output == "logistic_mixture":
            raise GenvisionError("guidance_weight works with bernoulli/categorical logits, not logistic_mixture")
        both = torch.cat([labels, torch.full_like(labels, self.null_label)])
        maps = None if cond_map is None else torch.cat([cond_map, cond_map])
        inner = self._params_at(method, torch.cat([x, x]), both, maps)

        def params_at(x_now: Tensor, i: int, j: int) -> Tensor:
            cond, uncond = inner(torch.cat([x_now, x_now]), i, j).chunk(2)
            mixed = classifier_free_mix(cond, uncond, weight)
            return self.dist.restrict(mixed, cond, plausibility) if plausibility > 0 else mixed

        return params_at

    @torch.no_grad()
    def _fill(
        self,
        v: Tensor,
        *,
        start: int,
        labels: Tensor | None,
        cond_map: Tensor | None,
        generator: torch.Generator | None,
        temperature: float,
        method: str,
        guidance_weight: float = 0.0,
        plausibility: float = 0.0,
    ) -> Tensor:
        if temperature <= 0:
            raise GenvisionError(f"PixelCNNModel: temperature must be > 0, got {temperature}")
        labels, cond_map = self._conditions(labels, cond_map, v.shape[0])
        x = self.to_input(v)
        if guidance_weight == 0.0:
            params_at = self._params_at(method, x, labels, cond_map)
        else:
            params_at = self._guided_params_at(method, x, labels, cond_map, guidance_weight, plausibility)
        return sample_pixels(
            params_at,
            self.dist,
            v,
            x,
            to_input=self.to_input,
            start=start,
            generator=generator,
            temperature=temperature,
        )

    @torch.no_grad()
    def fill_with(
        self,
        v: Tensor,
        choose: Choose,
        *,
        labels: Tensor | None = None,
        cond_map: Tensor | None = None,
        method: SampleMethod = "fast",
    ) -> Tensor:
        """The sampling loop with `choose` picking every value (sampling.fill_pixels), from raster index 0:
        v (n, C, H, W) values, filled in place and returned. The entropy coder runs this on both sides, so the
        encoder and the decoder see bit-identical parameters (same batch, same order, same arithmetic)."""
        labels, cond_map = self._conditions(labels, cond_map, v.shape[0])
        x = self.to_input(v)
        params_at = self._params_at(method, x, labels, cond_map)
        return fill_pixels(params_at, choose, self.dist.steps, v, x, to_input=self.to_input)

    def _empty(self, n: int) -> Tensor:
        size = self.config.image_size
        param = next(self.parameters())
        return torch.zeros(n, self.config.image_channels, size, size, device=param.device, dtype=param.dtype)

    def sample(
        self,
        n: int,
        *,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        cond_map: Tensor | None = None,
        method: SampleMethod = "fast",
        guidance_weight: float = 0.0,
        plausibility: float = 0.0,
    ) -> Tensor:
        """n images (n, C, H, W) in [-1, 1], pixel by pixel (colour by colour). All methods give the same
        images for the same generator state; "fast" caches activations, "naive" recomputes everything.
        guidance_weight w > 0: classifier-free guidance (needs a model trained with p_uncond > 0);
        plausibility alpha > 0 limits it to values the conditional finds plausible (see _guided_params_at)."""
        values = self._sample_values(n, labels, generator, temperature, cond_map, method, guidance_weight,
                                     plausibility)
        return self.dist.decode(values)

    def sample_indices(
        self,
        n: int,
        *,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        cond_map: Tensor | None = None,
        method: SampleMethod = "fast",
        guidance_weight: float = 0.0,
        plausibility: float = 0.0,
    ) -> Tensor:
        """n code maps (n, H, W) int64 in [0, levels) (categorical, one channel: a VQ-VAE prior)."""
        if self.config.output != "categorical" or self.config.image_channels != 1:
            raise GenvisionError(
                "PixelCNNModel.sample_indices needs output='categorical' and image_channels=1"
            )
        values = self._sample_values(n, labels, generator, temperature, cond_map, method, guidance_weight,
                                     plausibility)
        return values[:, 0].long()

    def _sample_values(self, n: int, labels: Tensor | None, generator: torch.Generator | None,
                       temperature: float, cond_map: Tensor | None, method: SampleMethod,
                       guidance_weight: float = 0.0, plausibility: float = 0.0) -> Tensor:
        """(n, C, H, W) values drawn pixel by pixel from an empty image: the shared body of sample*()."""
        return self._fill(self._empty(n), start=0, labels=labels, cond_map=cond_map, generator=generator,
                          temperature=temperature, method=method, guidance_weight=guidance_weight,
                          plausibility=plausibility)

    def complete(
        self,
        x_observed: Tensor,
        *,
        observed_rows: int,
        n_samples: int = 1,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        cond_map: Tensor | None = None,
        method: SampleMethod = "fast",
        guidance_weight: float = 0.0,
        plausibility: float = 0.0,
    ) -> Tensor:
        """Keep the top `observed_rows` rows of x_observed (B, C, H, W) in [-1, 1] and sample the rest:
        (B, n_samples, C, H, W) in [-1, 1]; labels (B,) and cond_map (B, ...) per observed image."""
        v = self.values(x_observed)
        height = v.shape[-2]
        if not 0 <= observed_rows <= height:
            raise GenvisionError(
                f"PixelCNNModel.complete: observed_rows must be in [0, {height}], got {observed_rows}"
            )
        v = v.repeat_interleave(n_samples, 0)
        v[:, :, observed_rows:] = 0
        labels = None if labels is None else labels.repeat_interleave(n_samples, 0)
        cond_map = None if cond_map is None else cond_map.repeat_interleave(n_samples, 0)
        v = self._fill(
            v,
            start=observed_rows * v.shape[-1],
            labels=labels,
            cond_map=cond_map,
            generator=generator,
            temperature=temperature,
            method=method,
            guidance_weight=guidance_weight,
            plausibility=plausibility,
        )
        out = self.dist.decode(v)
        out[:, :, :observed_rows] = x_observed.repeat_interleave(n_samples, 0)[:, :, :observed_rows]
        return out.unflatten(0, (x_observed.shape[0], n_samples))

