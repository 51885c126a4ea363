"""cluster_accuracy matches clusters to labels one to one when there are no more clusters than labels."""

import pytest

from genvision.eval import cluster_accuracy, hungarian_accuracy, majority_vote_accuracy


def test_cluster_accuracy_is_one_to_one_where_majority_vote_differs():
    labels = [0, 0, 1, 0, 0, 1]
    clusters = [0, 0, 0, 1, 1, 1]
    # Majority vote maps both clusters to label 0 (2 + 2 right); one-to-one, one cluster must take label 1.
    assert majority_vote_accuracy(labels, clusters) == pytest.approx(4 / 6)
    assert hungarian_accuracy(labels, clusters) == pytest.approx(3 / 6)
    assert cluster_accuracy(labels, clusters, num_clusters=2) == pytest.approx(3 / 6)
