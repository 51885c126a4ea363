"""Looking at a trained mixture dVAE: samples per component, and how well components match classes."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from genvision.errors import GenvisionError
from genvision.eval.clustering import (
    cluster_accuracy,
    hungarian_accuracy,
    majority_vote_accuracy,
    normalized_mutual_info,
)
from genvision.protocols import MixtureSampler, by_row


@torch.no_grad()
def component_rows(model: MixtureSampler, path: str | Path, *, per_row: int = 10,
                   generator: torch.Generator | None = None, mean: bool = False, scale: int = 2) -> Path:
    """Write a PNG with one row per component k holding `per_row` draws x ~ p(x | k) (Rolfe 2017, Fig. 5),
    each row labelled with k and its prior weight p(k). model: a MixtureSampler (the mixture dVAE)."""
    from genvision.viz.grid import save_grid

    if not isinstance(model, MixtureSampler):
        raise GenvisionError(f"{type(model).__name__} is not a mixture with components to draw from")
    k = model.num_components
    device = next(model.parameters()).device
    images = model.sample(k * per_row, components=by_row(k, per_row, device=device), generator=generator,
                          mean=mean)
    row_labels = [f"{i}: {p:.2f}" for i, p in enumerate(model.log_prior().exp().tolist())]
    return save_grid(images.cpu(), path, nrow=per_row, scale=scale, row_labels=row_labels)


@torch.no_grad()
def clustering_report(model: nn.Module, images: Tensor, labels: Tensor, *, batch_size: int = 500
                      ) -> dict[str, float]:
    """How the components argmax q(k | x) of images (N, C, H, W) in [-1, 1] match labels (N,) int64.

    {"accuracy": Hungarian (one-to-one) when K <= #classes, else majority vote (many-to-one);
     "nmi": normalised mutual information; "hungarian"; "majority"; "clusters_used": distinct components}.
    The labels are only read here, never in training.
    """
    device = next(model.parameters()).device
    clusters = torch.cat([model.cluster(images[i:i + batch_size].to(device)).cpu()
                          for i in range(0, images.shape[0], batch_size)])
    hungarian = hungarian_accuracy(labels, clusters)
    majority = majority_vote_accuracy(labels, clusters)
    accuracy = cluster_accuracy(labels, clusters, num_clusters=model.num_components)
    return {
        "accuracy": accuracy,
        "nmi": normalized_mutual_info(labels, clusters),
        "hungarian": hungarian,
        "majority": majority,
        "clusters_used": float(clusters.unique().numel()),
    }
