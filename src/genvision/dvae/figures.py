"""Looking at a trained mixture dVAE: samples per component, and how well components match classes."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from genvision.eval.clustering import (
    cluster_accuracy,
    hungarian_accuracy,
    majority_vote_accuracy,
    normalized_mutual_info,
)


@torch.no_grad()
def component_rows(model: nn.Module, path: str | Path, *, per_row: int = 10,
                   generator: torch.Generator | None = None, mean: bool = False, scale: int = 2) -> Path:
    """Write a PNG with one row per component k holding `per_row` draws x ~ p(x | k) (Rolfe 2017, Fig. 5).

    model: has `num_components` and `sample(n, labels=component indices, generator, mean)`. Rows are
    labelled with the component index and the prior weight p(k) when the model exposes `log_prior()`.
    """
    from genvision.viz.grid import save_grid

    k = model.num_components
    device = next(model.parameters()).device
    comps = torch.arange(k, device=device).repeat_interleave(per_row)
    images = model.sample(k * per_row, labels=comps, generator=generator, mean=mean)
    if hasattr(model, "log_prior"):
        weights = model.log_prior().exp().tolist()
        row_labels = [f"{i}: {p:.2f}" for i, p in enumerate(weights)]
    else:
        row_labels = [str(i) for i in range(k)]
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
