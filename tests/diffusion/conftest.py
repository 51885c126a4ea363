"""Run the diffusion tests on one intra-op thread.

The tensors here are tiny; on a shared, busy machine torch's thread pool spends far more time
waiting for cores than computing (a 20k-scalar DDPM run: 0.05 s on one thread, seconds on two).
"""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
