import pytest
import torch

from genvision.dvae.token_grid import TokenDVAE, TokenDVAEConfig
from genvision.dvae.token_prior import TokenPrior, TokenPriorConfig
from genvision.errors import GenvisionError


def _prior(conditional: bool = True) -> TokenPrior:
    torch.manual_seed(0)
    dvae = TokenDVAE(TokenDVAEConfig(codes=8, hidden=8, embed_dim=4), (1, 8, 8))
    cfg = TokenPriorConfig(hidden=8, layers=2, first_kernel=3, input_embedding=4, class_conditional=conditional)
    return TokenPrior(cfg, (1, 8, 8), 10, dvae=dvae)


def _images(n: int) -> torch.Tensor:
    return torch.where(torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.4, 1.0, -1.0)


def test_samples_shape_range_and_determinism():
    prior = _prior().eval()
    labels = torch.tensor([0, 3, 9])
    x = prior.sample(3, labels=labels, generator=torch.Generator().manual_seed(5))
    assert x.shape == (3, 1, 8, 8) and x.min() >= -1 and x.max() <= 1
    again = prior.sample(3, labels=labels, generator=torch.Generator().manual_seed(5))
    assert torch.equal(x, again)
    assert prior.num_classes == 10 and _prior(conditional=False).num_classes == 0
    with pytest.raises(GenvisionError, match="labels must be"):
        prior.sample(2)


def test_loss_trains_the_prior_only_and_keeps_the_dvae_frozen():
    prior = _prior().train()
    assert not prior.dvae.training
    before = {k: v.clone() for k, v in prior.dvae.state_dict().items()}
    opt = torch.optim.Adam([p for p in prior.parameters() if p.requires_grad], lr=1e-2)
    x, y = _images(16), torch.arange(16) % 10
    losses = []
    for _ in range(15):
        out = prior.loss({"image": x, "label": y})
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(out["loss"].item())
    assert set(out) == {"loss", "bits_per_code"}
    assert losses[-1] < losses[0]
    for k, v in prior.dvae.state_dict().items():
        assert torch.equal(v, before[k]), k  # weights and the temperature step unchanged


def test_missing_or_wrong_dvae_is_a_clear_error(tmp_path):
    from genvision.loading import load_dependencies
    from genvision.models import get_entry

    entry = get_entry("dvae-tokens-prior")
    with pytest.raises(GenvisionError, match="needs --dvae"):
        load_dependencies(entry, TokenPriorConfig())
    with pytest.raises(GenvisionError, match="neither a checkpoint file nor a run folder"):
        load_dependencies(entry, TokenPriorConfig(dvae=str(tmp_path / "nope")))
    with pytest.raises(GenvisionError, match="expected a dvae-tokens"):
        TokenPrior(TokenPriorConfig(), (1, 8, 8), 10, dvae=torch.nn.Linear(1, 1))
    dvae = TokenDVAE(TokenDVAEConfig(codes=8, hidden=8, embed_dim=4), (1, 8, 8))
    with pytest.raises(GenvisionError, match="trained on"):
        TokenPrior(TokenPriorConfig(), (1, 16, 16), 10, dvae=dvae)


def test_one_code_prior_config_and_old_keys_still_load():
    """The two priors share CodePriorConfig; a config stored with the token prior's old key still loads."""
    from genvision.autoregressive.code_prior import CodePriorConfig
    from genvision.config import from_dict
    from genvision.loading import upgrade_keys
    from genvision.vqvae.prior import VQVAEPriorConfig

    assert issubclass(TokenPriorConfig, CodePriorConfig) and issubclass(VQVAEPriorConfig, CodePriorConfig)
    old = {"arch": "gated", "dvae": "x", "first_kernel": 3, "hidden": 8, "layers": 2, "token_embedding": 5,
           "class_conditional": True}
    with pytest.raises(GenvisionError, match="unknown keys"):
        from_dict(TokenPriorConfig, old)
    assert from_dict(TokenPriorConfig, upgrade_keys(TokenPriorConfig, old)).input_embedding == 5
