import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """The tests run many tiny ops; splitting each across threads on a shared 2-core CPU costs more than it
    gains (a 20k-scalar DDPM run: 0.05 s on one thread, seconds on two), so every test runs on one intra-op
    thread and the setting is restored afterwards. Subprocess tests set OMP_NUM_THREADS=1 themselves."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
