"""The VQ-VAE vector quantiser (van den Oord et al. 2017): nearest-code lookup, straight-through gradient,
codebook + commitment losses, or EMA codebook updates (Appendix A.1), dead-code restarts, k-means init.

Shapes: z (B, D, H, W) -> H * W vectors of size D per image, each replaced by its nearest of K codes.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.errors import GenvisionError
from genvision.quantize.kmeans import kmeans, squared_distances


class QuantizerOutput(NamedTuple):
    """quantized: (B, D, H, W), equal to the codes in value, with the straight-through gradient to z;
    indices: (B, H, W) int64 in [0, K); loss: the scalar to add to the model's loss (Eq. 3 minus the
    reconstruction term; only beta * commitment when the codebook follows EMA); codebook_loss and
    commitment_loss: the two terms (mean over elements); perplexity: exp(entropy) of the batch's code
    frequencies, in [1, K]; usage: fraction of codes used in the batch."""

    quantized: Tensor
    indices: Tensor
    loss: Tensor
    codebook_loss: Tensor
    commitment_loss: Tensor
    perplexity: Tensor
    usage: Tensor


def _flat(z: Tensor) -> Tensor:
    """(B, D, H, W) -> (B * H * W, D), rows in (b, h, w) order."""
    return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])


class VectorQuantizer(nn.Module):
    """num_codes (K) codes of size dim (D).

    ema=False: the codebook is a parameter moved by the codebook loss ||sg[z] - e||^2.
    ema=True: the codebook is a buffer, e_k = m_k / N_k with N_k, m_k exponential moving averages (decay) of
    the count and sum of the vectors assigned to code k (Appendix A.1), N_k Laplace-smoothed by eps.
    dead_code_threshold > 0: after each training step, every code whose moving-average count N_k is below
    the threshold is moved onto a random encoder output of the batch (0 disables restarts).
    kmeans_init: on the first training batch, set the codebook to k-means centroids of that batch.

    Updates (EMA, restarts, k-means init) happen only in training mode, after the batch was quantised with
    the codebook as it was, so in training mode `lookup(out.indices)` may differ from `out.quantized`.
    Under DDP the buffers of rank 0 win (broadcast at each forward).
    """

    def __init__(
        self,
        num_codes: int,
        dim: int,
        *,
        beta: float = 0.25,
        ema: bool = False,
        decay: float = 0.99,
        eps: float = 1e-5,
        dead_code_threshold: float = 0.0,
        kmeans_init: bool = False,
    ) -> None:
        super().__init__()
        if num_codes < 1 or dim < 1:
            raise GenvisionError(f"VectorQuantizer needs num_codes >= 1 and dim >= 1, got {num_codes}, {dim}")
        if not 0.0 <= decay < 1.0:
            raise GenvisionError(f"VectorQuantizer decay must be in [0, 1), got {decay}")
        if beta < 0 or eps < 0 or dead_code_threshold < 0:
            raise GenvisionError("VectorQuantizer beta, eps and dead_code_threshold must be >= 0")
        self.num_codes, self.dim = num_codes, dim
        self.beta, self.ema, self.decay, self.eps = beta, ema, decay, eps
        self.dead_code_threshold = dead_code_threshold
        self.kmeans_init = kmeans_init
        init = torch.empty(num_codes, dim).uniform_(-1.0 / num_codes, 1.0 / num_codes)
        if ema:
            self.register_buffer("embedding", init)
            self.register_buffer("embed_sum", init.clone())  # m_k
        else:
            self.embedding = nn.Parameter(init)
        # N_k: moving average of per-batch counts; the EMA codebook's denominator and the dead-code detector.
        self.register_buffer("cluster_size", torch.ones(num_codes))
        self.register_buffer("initialized", torch.tensor(not kmeans_init))

    # ---- lookup ---------------------------------------------------------------------------------------
    def _check(self, z: Tensor) -> None:
        if z.dim() != 4 or z.shape[1] != self.dim:
            raise GenvisionError(f"VectorQuantizer expects z of shape (B, {self.dim}, H, W), got {tuple(z.shape)}")

    def encode(self, z: Tensor) -> Tensor:
        """Nearest code of every vector, argmin_k ||z||^2 - 2 z.e_k + ||e_k||^2, in float32: (B, H, W) int64."""
        self._check(z)
        with torch.autocast(z.device.type, enabled=False):
            flat = _flat(z.detach().float())
            index = squared_distances(flat, self.embedding.detach().float()).argmin(1)
        return index.view(z.shape[0], z.shape[2], z.shape[3])

    def lookup(self, indices: Tensor) -> Tensor:
        """Codes of indices (B, H, W) int64 in [0, K): (B, D, H, W) float32."""
        if indices.is_floating_point() or indices.dim() != 3:
            raise GenvisionError(
                f"lookup expects (B, H, W) integer indices, got {indices.dtype} {tuple(indices.shape)}"
            )
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.num_codes):
            raise GenvisionError(f"code indices must lie in [0, {self.num_codes}), "
                                 f"got {int(indices.min())}..{int(indices.max())}")
        return F.embedding(indices, self.embedding.float()).permute(0, 3, 1, 2).contiguous()

    # ---- forward --------------------------------------------------------------------------------------
    def forward(self, z: Tensor) -> QuantizerOutput:
        """z: (B, D, H, W) encoder output (any float dtype; quantised in float32 even under autocast)."""
        self._check(z)
        with torch.autocast(z.device.type, enabled=False):
            z = z.float()
            flat = _flat(z.detach())
            if self.training and not bool(self.initialized):
                self._kmeans_init(flat)
            indices = squared_distances(flat, self.embedding.detach().float()).argmin(1)
            index_map = indices.view(z.shape[0], z.shape[2], z.shape[3])
            q = self.lookup(index_map)  # differentiable in the codebook when it is a parameter
            codebook_loss = F.mse_loss(q, z.detach())  # ||sg[z] - e||^2: moves the codes only
            commitment_loss = F.mse_loss(z, q.detach())  # ||z - sg[e]||^2: moves the encoder only
            loss = self.beta * commitment_loss if self.ema else codebook_loss + self.beta * commitment_loss
            quantized = z + (q - z).detach()  # straight-through: forward q, backward identity to z
            counts = torch.bincount(indices, minlength=self.num_codes).float()
            probs = counts / counts.sum()
            perplexity = torch.exp(-(probs * probs.clamp_min(1e-12).log()).sum())
            usage = (counts > 0).float().mean()
            if self.training:
                self._update(flat, indices, counts)
        return QuantizerOutput(quantized, index_map, loss, codebook_loss, commitment_loss, perplexity, usage)

    # ---- training-time codebook updates ---------------------------------------------------------------
    @torch.no_grad()
    def _kmeans_init(self, flat: Tensor) -> None:
        result = kmeans(flat, self.num_codes, iters=10)
        self.embedding.data.copy_(result.centroids)
        if self.ema:
            self.embed_sum.copy_(result.centroids)
        self.cluster_size.fill_(1.0)
        self.initialized.fill_(True)

    @torch.no_grad()
    def _update(self, flat: Tensor, indices: Tensor, counts: Tensor) -> None:
        """EMA statistics and codebook (Appendix A.1), then dead-code restarts. flat: (N, D) float32."""
        d = self.decay
        self.cluster_size.mul_(d).add_(counts, alpha=1.0 - d)  # N_k <- d N_k + (1 - d) n_k
        if self.ema:
            sums = torch.zeros_like(self.embed_sum).index_add_(0, indices, flat)
            self.embed_sum.mul_(d).add_(sums, alpha=1.0 - d)  # m_k <- d m_k + (1 - d) sum_j z_j
            n = self.cluster_size.sum()
            # Laplace smoothing keeps N_k > 0 for codes that are never chosen (no division by zero).
            smoothed = (self.cluster_size + self.eps) / (n + self.num_codes * self.eps) * n
            self.embedding.copy_(self.embed_sum / smoothed[:, None])  # e_k = m_k / N_k
        if self.dead_code_threshold > 0:
            self._restart_dead(flat)

    @torch.no_grad()
    def _restart_dead(self, flat: Tensor) -> None:
        """Move every code with N_k < threshold onto a random vector of the batch, with N_k = threshold."""
        dead = (self.cluster_size < self.dead_code_threshold).nonzero().squeeze(1)
        if dead.numel() == 0:
            return
        pick = torch.randint(flat.shape[0], (dead.numel(),), device=flat.device)
        self.embedding.data[dead] = flat[pick]
        self.cluster_size[dead] = self.dead_code_threshold
        if self.ema:
            self.embed_sum[dead] = flat[pick] * self.dead_code_threshold

    def extra_repr(self) -> str:
        return (f"num_codes={self.num_codes}, dim={self.dim}, beta={self.beta}, ema={self.ema}, "
                f"decay={self.decay}, dead_code_threshold={self.dead_code_threshold}")
