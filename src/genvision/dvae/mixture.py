"""A VAE whose latent is one categorical variable: a learned mixture of K image models.

Generative model: k ~ Cat(softmax(w)), [s ~ N(0, I)], x ~ prod_d Bernoulli(sigmoid(f(one_hot(k)[, s]))_d).
Inference: q(k | x) = Cat(softmax(g(x))) [and q(s | x, k) = N(mu(x, k), diag sigma^2(x, k))].
With style_dim = 0 every component is a fixed Bernoulli image (a mixture of Bernoullis); with a style
latent the model is Kingma et al. 2014's M2 without labels (a GMVAE-like model: one-hot z beside a
Gaussian s). Three gradient estimators of the ELBO (docs/dvae.md, Sec. 4):

  exact      sum_k q(k|x) [log p(x|k) + log p(k) - log q(k|x)]  (the sum over K is done, nothing sampled
             for k; with a style latent one reparameterised s per component)
  gumbel     a Gumbel-softmax relaxed z fed to the decoder, KL(q(k|x) || p(k)) analytic (Jang et al. 2017)
  st_gumbel  the same with a straight-through one-hot z (hard forward, soft backward)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.config import option
from genvision.dvae.gumbel import cosine_warmup, gumbel_softmax, kl_categorical, temperature
from genvision.dvae.networks import ConvDecoder, ConvEncoder, mlp
from genvision.errors import GenvisionError
from genvision.eval.likelihood import bernoulli_nll, importance_weighted_nll

Estimator = Literal["exact", "gumbel", "st_gumbel"]
ESTIMATORS = ("exact", "gumbel", "st_gumbel")
LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MixtureDVAEConfig:
    """components: K. network: "mlp" (two hidden layers of `hidden`) or "conv" (ConvEncoder/ConvDecoder
    of `conv_channels`, 4x downsampling, and a hidden layer of `hidden`). style_dim: width of an extra
    Gaussian latent beside the one-hot z (0 disables). estimator: exact | gumbel | st_gumbel.
    tau_schedule: exponential (max(tau_min, tau0 exp(-tau_rate t))) | cosine (tau0 -> tau_min over
    anneal_steps); the relaxed estimators only. learn_prior: learn the mixing logits w (else uniform).
    style_decoder: how the style latent enters the decoder. "concat": [one_hot(k), s] into the decoder, so s
    can carry anything (and often takes over the class); "affine": the decoder sees only k and s moves its
    output through a 2-D affine warp (theta = I + A s), so s can only slant, shift and scale a component's
    image: a transformation-invariant mixture (Frey & Jojic 2003). kl_warmup: the KL terms' weight rises
    from 0 to 1 over this many steps (a half cosine), so q(k|x) can commit before the KL pulls it to p(k)."""

    components: int = 10
    network: Literal["mlp", "conv"] = "mlp"
    hidden: int = 256
    conv_channels: int = 32
    style_dim: int = 0
    estimator: Estimator = "exact"
    tau_schedule: Literal["exponential", "cosine"] = "exponential"
    tau0: float = 1.0
    tau_min: float = 0.5
    tau_rate: float = option(1e-4, min=0)
    anneal_steps: int = option(10_000, min=0)  # 0: tau_min from the start
    decoder: Literal["bernoulli"] = "bernoulli"
    learn_prior: bool = True
    style_decoder: Literal["concat", "affine"] = "concat"
    kl_warmup: int = 0
    init_scale: float = 0.0  # factor on the one-hot columns' init; 0: component_init_scale(C * H * W)
    usage_weight: float = 0.0  # lambda of the batch usage term lambda * KL(mean_b q(k|x_b) || Uniform(K))

    def __post_init__(self) -> None:
        if self.components < 2:
            raise GenvisionError(f"MixtureDVAEConfig.components must be >= 2, got {self.components}")
        for name in ("hidden", "conv_channels"):
            if getattr(self, name) < 1:
                raise GenvisionError(f"MixtureDVAEConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.style_dim < 0:
            raise GenvisionError(f"MixtureDVAEConfig.style_dim must be >= 0, got {self.style_dim}")
        if self.network not in ("mlp", "conv"):
            raise GenvisionError(f"MixtureDVAEConfig.network must be 'mlp' or 'conv', got {self.network!r}")
        if self.estimator not in ESTIMATORS:
            raise GenvisionError(f"MixtureDVAEConfig.estimator must be one of {ESTIMATORS}, got {self.estimator!r}")
        if self.tau_schedule not in ("exponential", "cosine"):
            raise GenvisionError(f"MixtureDVAEConfig.tau_schedule: unknown schedule {self.tau_schedule!r}")
        if not 0 < self.tau_min <= self.tau0:
            raise GenvisionError(f"MixtureDVAEConfig: need 0 < tau_min <= tau0, got {self.tau_min}, {self.tau0}")
        if self.style_decoder not in ("concat", "affine"):
            raise GenvisionError(f"MixtureDVAEConfig.style_decoder must be 'concat' or 'affine', "
                                 f"got {self.style_decoder!r}")
        if self.style_decoder == "affine" and self.style_dim == 0:
            raise GenvisionError("MixtureDVAEConfig.style_decoder='affine' needs style_dim > 0")
        if self.usage_weight < 0:
            raise GenvisionError(f"MixtureDVAEConfig.usage_weight must be >= 0, got {self.usage_weight}")
        if self.init_scale < 0:
            raise GenvisionError(f"MixtureDVAEConfig.init_scale must be >= 0, got {self.init_scale}")
        if self.kl_warmup < 0:
            raise GenvisionError(f"MixtureDVAEConfig.kl_warmup must be >= 0, got {self.kl_warmup}")
        if self.decoder != "bernoulli":
            raise GenvisionError(f"MixtureDVAEConfig.decoder: only 'bernoulli' is implemented, got {self.decoder!r}")


def component_init_scale(num_dims: int) -> float:
    """Factor on the default init of the decoder's one-hot weights: min(1, 8 / sqrt(D)), D = C * H * W.

    Two components differing by d per pixel give an image a log-likelihood gap with an image-specific part
    ~ |d| sqrt(D) (which spreads images over components) and a part shared by all images ~ -|d|^2 D (the
    component nearest the mean image is better for every image: collapse into one component). Shrinking d
    as 1 / sqrt(D) keeps their ratio at the 8x8 value, where the default init works (docs/dvae.md, Sec. 6).
    """
    return min(1.0, 8.0 / math.sqrt(num_dims))


def bernoulli_log_prob_table(x01: Tensor, logits: Tensor) -> Tensor:
    """log p(x_b | k) for every image and component: x01 (B, D) in {0, 1}, logits (K, D) -> (B, K) nats.

    log p = sum_d x_d l_d - softplus(l_d), since log sigmoid(l) = l - softplus(l) and
    log(1 - sigmoid(l)) = -softplus(l). One float32 matmul (bf16 autocast would round the sums).
    """
    with torch.autocast(x01.device.type, enabled=False):
        logits = logits.float()
        return x01.float() @ logits.T - F.softplus(logits).sum(1)


def gaussian_kl_standard(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag e^logvar) || N(0, I)) = 1/2 sum (mu^2 + e^logvar - 1 - logvar): (..., S) -> (...)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def gaussian_log_prob(s: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(s; mu, diag e^logvar) summed over the last dimension."""
    return -0.5 * ((s - mu).pow(2) * torch.exp(-logvar) + logvar + LOG_2PI).sum(-1)


def usage_divergence(q_logits: Tensor) -> Tensor:
    """KL(q_bar || Uniform(K)) = log K - H(q_bar) of the batch's average posterior q_bar = mean_b q(k | x_b).

    The ELBO's KL term splits as E_x KL(q(k|x) || p) = I_q(x; k) + KL(q_bar || p) (Hoffman & Johnson 2016);
    weighting the second part up (usage_weight) penalises putting every image in one component, which the
    relaxed estimators otherwise do (docs/dvae.md, Sec. 6c). q_logits: (B, K) -> scalar, in nats.
    """
    q_bar = q_logits.float().softmax(1).mean(0)
    return math.log(q_bar.numel()) + (q_bar * q_bar.clamp_min(1e-12).log()).sum()


class MixtureDVAE(nn.Module):
    """The categorical-latent VAE on binary images x: (B, C, H, W) in {-1, 1} (pixels > 0 count as 1).

    Unsupervised: it never reads batch["label"], and takes no class labels (num_classes = 0). It is a
    MixtureSampler (protocols.py): `sample(n, components=...)` draws from chosen components, so sample grids
    lay out one column per component; a Clusterer (argmax q(k | x)); and a Likelihood of p(x).
    """

    num_classes = 0  # not class-conditional: components are the model's own latent, not the data's classes

    def __init__(self, config: MixtureDVAEConfig, image_shape: tuple[int, int, int], num_classes: int = 0) -> None:
        super().__init__()
        del num_classes  # unsupervised: the data's class count plays no part
        self.config = config
        self.image_shape = tuple(image_shape)
        c, h, w = self.image_shape
        k, s, hid = config.components, config.style_dim, config.hidden
        dec_in = k if config.style_decoder == "affine" else k + s  # an affine style warps, it is not an input
        if config.network == "mlp":
            self.encoder: nn.Module = nn.Sequential(nn.Flatten(), mlp(c * h * w, hid, hid), nn.ReLU())
            self.decoder: nn.Module = nn.Sequential(mlp(dec_in, hid, c * h * w), nn.Unflatten(1, self.image_shape))
        else:
            if h % 4 or w % 4:
                raise GenvisionError(f"MixtureDVAE network='conv' needs H, W divisible by 4, got {h}x{w}")
            cc, low = config.conv_channels, (h // 4) * (w // 4)
            self.encoder = nn.Sequential(
                ConvEncoder(c, cc, cc), nn.Flatten(), nn.Linear(cc * low, hid), nn.ReLU()
            )
            self.decoder = nn.Sequential(
                nn.Linear(dec_in, hid), nn.ReLU(), nn.Linear(hid, cc * low), nn.ReLU(),
                nn.Unflatten(1, (cc, h // 4, w // 4)), ConvDecoder(cc, cc, c),
            )
        # Components start close together: the one-hot columns of the first decoder layer are shrunk
        # for large images, else one component starts better on every image and takes them all.
        first = next(m for m in self.decoder.modules() if isinstance(m, nn.Linear))
        with torch.no_grad():
            first.weight[:, :k].mul_(config.init_scale or component_init_scale(c * h * w))
        self.to_logits = nn.Linear(hid, k)
        # q(s | x, k): an MLP of the image features and the (one-hot or relaxed) z -> (mu, logvar).
        self.style = (
            nn.Sequential(nn.Linear(hid + k, hid), nn.ReLU(), nn.Linear(hid, 2 * s)) if s else None
        )
        # theta = I + A s: zero-initialised, so every component starts unwarped
        self.to_affine = nn.Linear(s, 6) if config.style_decoder == "affine" else None
        if self.to_affine is not None:
            nn.init.zeros_(self.to_affine.weight)
            nn.init.zeros_(self.to_affine.bias)
        if config.learn_prior:
            self.prior_logits = nn.Parameter(torch.zeros(k))
        else:
            self.register_buffer("prior_logits", torch.zeros(k))
        # Optimiser steps seen in training mode: drives the temperature, saved with the weights.
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def on_optimizer_step(self) -> None:
        """Called by the trainer after each optimiser step (not per micro-batch): advances the schedules."""
        self.step += 1

    # ---- pieces ---------------------------------------------------------------------------------
    @property
    def num_components(self) -> int:
        return self.config.components

    def tau(self) -> float:
        """The relaxation temperature at the current step."""
        cfg = self.config
        return temperature(cfg.tau_schedule, int(self.step), tau0=cfg.tau0, tau_min=cfg.tau_min,
                           rate=cfg.tau_rate, total=cfg.anneal_steps)

    def _check(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise GenvisionError(f"MixtureDVAE: images must be (B, {', '.join(map(str, self.image_shape))}), "
                                 f"got {tuple(x.shape)}")
        return x

    def features(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> encoder features (B, hidden)."""
        return self.encoder(self._check(x))

    def posterior_logits(self, x: Tensor) -> Tensor:
        """Logits of q(k | x): (B, K), float32."""
        return self.to_logits(self.features(x)).float()

    def log_prior(self) -> Tensor:
        """log p(k): (K,)."""
        return F.log_softmax(self.prior_logits.float(), dim=0)

    def style_posterior(self, feats: Tensor, z: Tensor) -> tuple[Tensor, Tensor]:
        """q(s | x, z): feats (N, hidden), z (N, K) -> mu, logvar (N, style_dim), float32."""
        out = self.style(torch.cat([feats, z.to(feats.dtype)], dim=1)).float()
        mu, logvar = out.chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 10.0)

    def decode(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """Bernoulli logits (N, C, H, W), float32, of p(x | z[, s]); z: (N, K) one-hot or relaxed."""
        if self.to_affine is None:
            inp = z if s is None else torch.cat([z, s.to(z.dtype)], dim=1)
            return self.decoder(inp).float()
        return self.warp(self.decoder(z).float(), s)

    def warp(self, logits: Tensor, s: Tensor | None) -> Tensor:
        """The component image moved by the affine map theta = I + A s (2x3, in the [-1, 1] coordinates of
        F.affine_grid): logits (N, C, H, W) -> (N, C, H, W); s None or 0 -> unchanged."""
        if s is None:
            return logits
        n = logits.shape[0]
        theta = torch.eye(2, 3, device=logits.device).expand(n, 2, 3) + self.to_affine(s.float()).view(n, 2, 3)
        grid = F.affine_grid(theta, list(logits.shape), align_corners=False)
        return F.grid_sample(logits, grid, mode="bilinear", padding_mode="border", align_corners=False)

    # ---- training objective ---------------------------------------------------------------------
    def _exact(self, x01: Tensor, feats: Tensor, q_logits: Tensor) -> tuple[Tensor, Tensor]:
        """recon = -sum_k q_k log p(x|k[,s_k]) and kl = KL(q||p) [+ sum_k q_k KL(q(s|x,k) || N(0, I))]."""
        b, k = q_logits.shape
        eye = torch.eye(k, device=x01.device)
        q = q_logits.softmax(1)
        kl = kl_categorical(q_logits, self.prior_logits.float())
        if self.style is None:
            log_px = bernoulli_log_prob_table(x01.flatten(1), self.decode(eye).flatten(1))  # (B, K)
        else:
            z = eye.repeat(b, 1)  # row b * K + j is component j of image b
            mu, logvar = self.style_posterior(feats.repeat_interleave(k, 0), z)
            s = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # one reparameterised s per component
            log_px = -bernoulli_nll(self.decode(z, s), x01.repeat_interleave(k, 0)).view(b, k)
            kl = kl + (q * gaussian_kl_standard(mu, logvar).view(b, k)).sum(1)
        return -(q * log_px).sum(1), kl

    def _relaxed(self, x01: Tensor, feats: Tensor, q_logits: Tensor, tau: float) -> tuple[Tensor, Tensor]:
        hard = self.config.estimator == "st_gumbel"
        z = gumbel_softmax(q_logits, tau=tau, hard=hard)
        kl = kl_categorical(q_logits, self.prior_logits.float())  # analytic, as in Jang et al. 2017
        s = None
        if self.style is not None:
            mu, logvar = self.style_posterior(feats, z)
            s = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            kl = kl + gaussian_kl_standard(mu, logvar)
        return bernoulli_nll(self.decode(z, s), x01), kl

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Negative ELBO in nats per image (mean over the batch), from batch["image"] only.

        {"loss": recon + beta kl, "recon": E_q[-log p(x | z)], "kl": KL(q || prior), "tau": the temperature
        (0 for the exact estimator, which relaxes nothing), "beta": the KL weight (1 after kl_warmup steps;
        the loss is the negative ELBO from then on)}.
        """
        x = batch["image"]
        x01 = (x > 0).float()
        feats = self.features(x)
        q_logits = self.to_logits(feats).float()
        if self.config.estimator == "exact":
            tau = 0.0
            recon, kl = self._exact(x01, feats, q_logits)
        else:
            tau = self.tau()
            recon, kl = self._relaxed(x01, feats, q_logits, tau)
        beta = cosine_warmup(int(self.step), total=self.config.kl_warmup, final=1.0)
        recon, kl = recon.mean(), kl.mean()
        usage = usage_divergence(q_logits)
        loss = recon + beta * kl + self.config.usage_weight * usage
        return {"loss": loss, "recon": recon, "kl": kl, "usage": usage, "tau": torch.tensor(tau, device=x.device),
                "beta": torch.tensor(beta, device=x.device)}

    # ---- inference, likelihood, sampling --------------------------------------------------------
    @torch.no_grad()
    def cluster(self, x: Tensor) -> Tensor:
        """argmax_k q(k | x): (B,) int64 for x (B, C, H, W) in [-1, 1]."""
        return self.posterior_logits(x).argmax(1)

    @torch.no_grad()
    def nll(self, x: Tensor, *, labels: Tensor | None = None, samples: int = 100,
            generator: torch.Generator | None = None) -> Tensor:
        """-log p(x) in nats per image (B,) for x (B, C, H, W) binarised at 0 (labels: ignored; the
        likelihood is always the marginal over components).

        style_dim = 0: exact, -log sum_k p(k) p(x|k), written as importance weighting over all K
        components under a uniform proposal (log w_k = log p(x, k) + log K). With a style latent: `samples`
        weights w_j = sum_k p(k) p(s_jk) p(x|k, s_jk) / q(s_jk|x, k), s_jk ~ q(s|x, k) (the sum over k done
        exactly), each an unbiased estimate of p(x), so -log mean_j w_j is an upper bound (Burda et al. 2016)
        that tightens as `samples` grows.
        """
        x01 = (x > 0).float().flatten(1)
        log_prior = self.log_prior()
        k = self.config.components
        eye = torch.eye(k, device=x.device)
        if self.style is None:
            log_joint = log_prior + bernoulli_log_prob_table(x01, self.decode(eye).flatten(1))  # (B, K)
            return importance_weighted_nll((log_joint + math.log(k)).T)
        b = x.shape[0]
        feats = self.features(x).repeat_interleave(k, 0)
        z = eye.repeat(b, 1)
        mu, logvar = self.style_posterior(feats, z)
        x_rep = x01.repeat_interleave(k, 0)
        log_w = []
        for _ in range(samples):
            eps = torch.randn(mu.shape, generator=generator, device=mu.device)
            s = mu + eps * (0.5 * logvar).exp()
            log_px = -bernoulli_nll(self.decode(z, s).flatten(1), x_rep)
            log_ps = gaussian_log_prob(s, torch.zeros_like(s), torch.zeros_like(s))
            terms = (log_px + log_ps - gaussian_log_prob(s, mu, logvar)).view(b, k) + log_prior
            log_w.append(torch.logsumexp(terms, dim=1))
        return importance_weighted_nll(torch.stack(log_w))

    @torch.no_grad()
    def sample(self, n: int, *, components: Tensor | None = None, generator: torch.Generator | None = None,
               mean: bool = False, labels: Tensor | None = None) -> Tensor:
        """n images (n, C, H, W) in {-1, 1} (mean=True: 2 p(x_d = 1) - 1 in [-1, 1]).

        components: (n,) indices in [0, K) to draw x ~ p(x | k); None draws k ~ p(k).
        labels: must be None (the Sampler signature): the mixture is not class-conditional.
        """
        k = self.config.components
        device = self.prior_logits.device
        if labels is not None:
            raise GenvisionError("the mixture dVAE takes no class labels (its components are learned without "
                                 "them): draw from chosen components with components=...")
        if components is None:
            comp = torch.multinomial(self.log_prior().exp(), n, replacement=True, generator=generator)
        else:
            if components.shape != (n,) or components.min() < 0 or components.max() >= k:
                raise GenvisionError(f"MixtureDVAE.sample: components must be ({n},) indices in [0, {k}), "
                                     f"got shape {tuple(components.shape)}")
            comp = components.to(device).long()
        z = F.one_hot(comp, k).float()
        s = None
        if self.style is not None:
            s = torch.randn(n, self.config.style_dim, generator=generator, device=device)
        probs = torch.sigmoid(self.decode(z, s))
        if mean:
            return probs * 2 - 1
        return torch.bernoulli(probs, generator=generator) * 2 - 1
