"""Clustering scores: accuracy under the best label matching, and normalised mutual information."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from genvision.errors import GenvisionError

IntArray = Tensor | np.ndarray | list[int]


def _as_numpy(values: IntArray) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values).reshape(-1)


def contingency_matrix(labels: IntArray, clusters: IntArray) -> np.ndarray:
    """Counts (n_classes, n_clusters): entry [i, j] = #samples with the i-th label and j-th cluster value.

    Label and cluster values can be any integers; rows/columns follow their sorted unique values.
    """
    y, c = _as_numpy(labels), _as_numpy(clusters)
    if y.shape != c.shape or y.size == 0:
        raise GenvisionError(f"labels ({y.size}) and clusters ({c.size}) must be non-empty and equally long")
    _, yi = np.unique(y, return_inverse=True)
    _, ci = np.unique(c, return_inverse=True)
    table = np.zeros((yi.max() + 1, ci.max() + 1), dtype=np.int64)
    np.add.at(table, (yi, ci), 1)
    return table


def hungarian_accuracy(labels: IntArray, clusters: IntArray) -> float:
    """Accuracy under the best one-to-one cluster -> label map (Hungarian algorithm on the contingency).

    With more clusters than labels the unmatched clusters count as wrong.
    """
    table = contingency_matrix(labels, clusters)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def majority_vote_accuracy(labels: IntArray, clusters: IntArray) -> float:
    """Accuracy when every cluster predicts its most frequent label (many-to-one; for over-clustering)."""
    table = contingency_matrix(labels, clusters)
    return float(table.max(axis=0).sum() / table.sum())


def cluster_accuracy(labels: IntArray, clusters: IntArray, *, num_clusters: int) -> float:
    """Hungarian accuracy when the model's K = num_clusters <= n_classes, else majority-vote accuracy.

    Decided by K, not by how many clusters happen to be used: a K = 20 model that puts images in only 8
    clusters is still scored many-to-one.
    """
    table = contingency_matrix(labels, clusters)
    if num_clusters <= table.shape[0]:
        return hungarian_accuracy(labels, clusters)
    return majority_vote_accuracy(labels, clusters)


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info(labels: IntArray, clusters: IntArray) -> float:
    """NMI = I(Y; C) / ((H(Y) + H(C)) / 2), in [0, 1] (arithmetic normalisation, sklearn's default).

    Two single-cluster labellings score 1 (identical partitions), as in sklearn.
    """
    table = contingency_matrix(labels, clusters)
    if table.shape[0] == table.shape[1] == 1:
        return 1.0
    n = table.sum()
    p_joint = table / n
    p_y = p_joint.sum(axis=1, keepdims=True)
    p_c = p_joint.sum(axis=0, keepdims=True)
    nz = p_joint > 0
    mi = float((p_joint[nz] * np.log(p_joint[nz] / (p_y @ p_c)[nz])).sum())
    if mi <= 0.0:
        return 0.0
    normaliser = (_entropy(table.sum(axis=1)) + _entropy(table.sum(axis=0))) / 2
    return min(mi / max(normaliser, np.finfo(np.float64).eps), 1.0)
