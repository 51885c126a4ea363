import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from genvision.errors import GenvisionError
from genvision.eval import (
    cluster_accuracy,
    contingency_matrix,
    hungarian_accuracy,
    majority_vote_accuracy,
    normalized_mutual_info,
)


def test_permuted_labelling_is_perfect():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    clusters = torch.tensor([7, 7, 2, 2, 5, 5, 0, 0])  # any relabelling
    assert hungarian_accuracy(labels, clusters) == 1.0
    assert cluster_accuracy(labels, clusters, num_clusters=4) == 1.0
    assert normalized_mutual_info(labels, clusters) == pytest.approx(1.0)


def test_contingency_and_hungarian_hand_case():
    labels = [0, 0, 1, 1, 2, 2]
    clusters = [1, 1, 0, 0, 0, 2]
    np.testing.assert_array_equal(contingency_matrix(labels, clusters), [[0, 2, 0], [2, 0, 0], [1, 0, 1]])
    # Best one-to-one map: 1 -> 0, 0 -> 1, 2 -> 2 gets 2 + 2 + 1 = 5 of 6.
    assert hungarian_accuracy(labels, clusters) == pytest.approx(5 / 6)


def test_fewer_clusters_than_classes():
    labels = np.array([0, 0, 1, 1, 2, 2])
    clusters = np.array([0, 0, 1, 1, 1, 1])
    assert hungarian_accuracy(labels, clusters) == pytest.approx(4 / 6)
    assert cluster_accuracy(labels, clusters, num_clusters=2) == pytest.approx(4 / 6)


def test_majority_vote_with_over_clustering():
    labels = [0, 0, 0, 1, 1, 1, 1, 0]
    clusters = [0, 1, 1, 2, 3, 3, 3, 3]
    # Clusters 0, 1 -> label 0 (3 right); 2 -> 1 (1 right); 3 -> 1 (3 of 4 right): 7 of 8.
    assert majority_vote_accuracy(labels, clusters) == pytest.approx(7 / 8)
    assert cluster_accuracy(labels, clusters, num_clusters=4) == pytest.approx(7 / 8)
    # One-to-one matching can only use 2 of the 4 clusters.
    assert hungarian_accuracy(labels, clusters) == pytest.approx(5 / 8)


@pytest.mark.parametrize("n_classes,n_clusters", [(3, 3), (10, 4), (2, 12), (5, 1)])
def test_nmi_matches_sklearn(n_classes, n_clusters):
    rng = np.random.default_rng(n_classes * 100 + n_clusters)
    labels = rng.integers(0, n_classes, size=300)
    clusters = np.where(rng.random(300) < 0.6, labels % n_clusters, rng.integers(0, n_clusters, size=300)) - 3
    ours = normalized_mutual_info(torch.from_numpy(labels), torch.from_numpy(clusters))
    assert ours == pytest.approx(normalized_mutual_info_score(labels, clusters), abs=1e-12)


def test_nmi_edge_cases_match_sklearn():
    for labels, clusters in [([1, 1, 1], [4, 4, 4]), ([0, 1, 2], [0, 0, 0]), ([0, 0, 1, 1], [0, 1, 0, 1])]:
        assert normalized_mutual_info(labels, clusters) == pytest.approx(
            normalized_mutual_info_score(labels, clusters), abs=1e-12
        )


def test_length_mismatch_raises():
    with pytest.raises(GenvisionError):
        hungarian_accuracy([0, 1, 2], [0, 1])


def test_method_is_chosen_by_k_not_by_the_clusters_used():
    """K = 12 > 2 classes: majority vote, although only 2 of the 12 clusters hold images."""
    labels = [0, 0, 0, 1, 0, 0]
    clusters = [4, 4, 4, 4, 9, 9]
    # contingency: label 0 -> (3, 2), label 1 -> (1, 0); majority: 4 -> 0, 9 -> 0 = 5/6; one-to-one: 3/6.
    assert cluster_accuracy(labels, clusters, num_clusters=12) == pytest.approx(5 / 6)
    assert cluster_accuracy(labels, clusters, num_clusters=2) == pytest.approx(3 / 6)
