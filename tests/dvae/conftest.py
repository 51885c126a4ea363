import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """These tests run thousands of tiny ops; splitting each across threads on a shared CPU costs more than
    it gains, so run them on one intra-op thread and restore the setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
