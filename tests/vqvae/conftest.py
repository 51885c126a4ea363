import pytest
import torch

import genvision.models as models
from genvision.vqvae.registry import ENTRIES


@pytest.fixture(autouse=True)
def one_thread():
    """These tests run thousands of tiny ops; splitting each across threads on a shared CPU costs more than
    it gains, so run them on one intra-op thread and restore the setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def vqvae_registered(monkeypatch):
    """The vqvae entries in the model registry (a no-op once models._entries lists them)."""
    listed = models._entries

    def with_vqvae():
        entries = listed()
        return entries + [e for e in ENTRIES if e.name not in {x.name for x in entries}]

    monkeypatch.setattr(models, "_entries", with_vqvae)
