"""The dVAEs' annealing: the relaxed estimator samples at the temperature it reports, and the schedules step
only in training mode."""

import pytest
import torch

from genvision.dvae import mixture, token_grid
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig
from genvision.dvae.token_grid import TokenDVAE, TokenDVAEConfig


def _images(n=4, size=4):
    g = torch.Generator().manual_seed(0)
    return torch.where(torch.rand(n, 1, size, size, generator=g) < 0.4, 1.0, -1.0)


@pytest.mark.parametrize("estimator", ["gumbel", "st_gumbel"])
def test_mixture_relaxed_estimator_uses_the_annealed_temperature_it_reports(monkeypatch, estimator):
    torch.manual_seed(0)
    model = MixtureDVAE(MixtureDVAEConfig(components=3, hidden=8, estimator=estimator, tau_schedule="cosine",
                                          tau0=1.0, tau_min=0.1, anneal_steps=10), (1, 4, 4), 10)
    model.step.fill_(5)
    used = []
    real = mixture.gumbel_softmax
    monkeypatch.setattr(mixture, "gumbel_softmax",
                        lambda *a, tau, **k: (used.append(tau), real(*a, tau=tau, **k))[1])
    out = model.eval().loss({"image": _images()})
    assert used == [pytest.approx(0.55)]  # cosine from 1 to 0.1 at step 5 of 10: halfway
    assert out["tau"].item() == pytest.approx(used[0])


def test_token_dvae_schedule_steps_only_in_training_mode(monkeypatch):
    torch.manual_seed(0)
    model = TokenDVAE(TokenDVAEConfig(codes=8, hidden=8, embed_dim=4, tau_schedule="cosine", tau_min=0.1,
                                      anneal_steps=4, kl_warmup=4), (1, 8, 8))
    x = {"image": _images(size=8)}
    model.eval()
    with torch.no_grad():
        first = model.loss(x)
        again = model.loss(x)
    assert int(model.step) == 0 and first["tau"].item() == again["tau"].item() == 1.0
    used = []
    real = token_grid.gumbel_softmax
    monkeypatch.setattr(token_grid, "gumbel_softmax",
                        lambda *a, tau, **k: (used.append(tau), real(*a, tau=tau, **k))[1])
    model.train()
    taus = []
    for _ in range(3):  # the trainer advances the schedule after each optimiser step (issue 15, bug 6)
        taus.append(model.loss(x)["tau"].item())
        model.on_optimizer_step()
    assert int(model.step) == 3 and taus == pytest.approx(used) and taus[0] == 1.0 and taus[0] > taus[1] > taus[2]
