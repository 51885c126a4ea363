import pytest
import torch
from PIL import Image
from torch import nn

from genvision.dvae.figures import clustering_report, component_rows
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig


class FixedClusters(nn.Module):
    """A stand-in model whose cluster() returns given assignments, in order."""

    def __init__(self, assignments: list[int], num_components: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.assignments = torch.tensor(assignments)
        self.num_components = num_components

    def cluster(self, x: torch.Tensor) -> torch.Tensor:
        return self.assignments[x[:, 0, 0, 0].long()]  # the image carries its own index


def _indexed_images(n: int) -> torch.Tensor:
    return torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def test_clustering_report_hand_case():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    model = FixedClusters([1, 1, 0, 0, 0, 2], num_components=3)
    rep = clustering_report(model, _indexed_images(6), labels, batch_size=4)  # crosses a batch boundary
    # Best one-to-one map 1->0, 0->1, 2->2: 5 of 6; majority vote: 1->0 (2), 0->1 (2), 2->2 (1): 5 of 6.
    assert rep["hungarian"] == pytest.approx(5 / 6) and rep["majority"] == pytest.approx(5 / 6)
    assert rep["accuracy"] == rep["hungarian"] and rep["clusters_used"] == 3
    assert 0 < rep["nmi"] < 1


def test_clustering_report_uses_majority_vote_when_over_clustered():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 1, 0])
    # K = 5 components > 2 classes (only 4 used): majority vote 7/8, one-to-one 5/8.
    model = FixedClusters([0, 1, 1, 2, 3, 3, 3, 3], num_components=5)
    rep = clustering_report(model, _indexed_images(8), labels)
    assert rep["majority"] == pytest.approx(7 / 8) and rep["hungarian"] == pytest.approx(5 / 8)
    assert rep["accuracy"] == rep["majority"]


def test_component_rows_writes_one_row_per_component(tmp_path):
    model = MixtureDVAE(MixtureDVAEConfig(components=3, hidden=8), (1, 8, 8)).eval()
    path = component_rows(model, tmp_path / "rows.png", per_row=4, generator=torch.Generator().manual_seed(0),
                          scale=1)
    with Image.open(path) as img:
        width, height = img.size
    # save_grid pads 2 pixels around 8x8 tiles (row labels add a left margin): 3 rows of 4 tiles.
    assert height == 3 * 8 + 4 * 2 and width >= 4 * 8 + 5 * 2
