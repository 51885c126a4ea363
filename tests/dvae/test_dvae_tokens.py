import pytest
import torch
import torch.nn.functional as F

from genvision.data import binarize_dynamic, load_dataset
from genvision.dvae.gumbel import kl_categorical_uniform
from genvision.dvae.token_grid import TokenDVAE, TokenDVAEConfig
from genvision.errors import GenvisionError


def _model(**kw) -> TokenDVAE:
    torch.manual_seed(0)
    return TokenDVAE(TokenDVAEConfig(codes=16, hidden=8, embed_dim=6, **kw), (1, 8, 8))


def _images(n: int = 3) -> torch.Tensor:
    return torch.where(torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.4, 1.0, -1.0)


def test_encode_decode_shapes_and_determinism():
    model = _model().eval()
    x = _images()
    idx = model.encode_indices(x)
    assert idx.shape == (3, 2, 2) and idx.dtype == torch.int64 and model.grid_shape == (2, 2)
    assert 0 <= idx.min() and idx.max() < 16
    assert torch.equal(idx, model.encode_indices(x))
    assert torch.equal(idx, model.logits(x).argmax(1))
    out = model.decode_indices(idx)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert torch.equal(model.reconstruct(x), out)
    # 28x28 -> 7x7 with two stride-2 stages.
    assert TokenDVAE(TokenDVAEConfig(codes=4, hidden=4, embed_dim=4), (1, 28, 28)).grid_shape == (7, 7)


def test_one_hot_embedding_is_a_codebook_lookup():
    model = _model()
    idx = torch.tensor([[[3, 0], [15, 3]]])
    z = F.one_hot(idx, 16).permute(0, 3, 1, 2).float()
    codebook = model.embed.weight[:, :, 0, 0]  # (D, K)
    torch.testing.assert_close(model.embed(z), codebook[:, idx[0]].unsqueeze(0))


def test_loss_terms_and_schedules():
    model = _model(kl_weight=2.0, kl_warmup=4, anneal_steps=4, estimator="st_gumbel")
    x = _images()
    out = model.loss({"image": x})
    assert out["beta"].item() == 0.0 and out["tau"].item() == 1.0
    kl = kl_categorical_uniform(model.logits(x), dim=1).sum((1, 2)).mean()
    torch.testing.assert_close(out["kl"], kl)
    torch.testing.assert_close(out["loss"], out["recon"])  # beta = 0 at step 0
    assert 1 <= out["perplexity"].item() <= 16
    for _ in range(4):
        model.on_optimizer_step()
    out = model.loss({"image": x})
    assert model.beta() == pytest.approx(2.0) and model.tau() == pytest.approx(1 / 16)
    torch.testing.assert_close(out["loss"], out["recon"] + out["beta"] * out["kl"])
    mse = _model(recon="mse").loss({"image": x})
    assert torch.isfinite(mse["loss"])


def test_errors():
    model = _model()
    with pytest.raises(GenvisionError, match="indices must be"):
        model.decode_indices(torch.zeros(1, 3, 3, dtype=torch.long))
    with pytest.raises(GenvisionError, match="indices must lie"):
        model.decode_indices(torch.full((1, 2, 2), 16))
    with pytest.raises(GenvisionError, match="not divisible"):
        TokenDVAE(TokenDVAEConfig(), (1, 6, 6))
    with pytest.raises(GenvisionError, match="images must be"):
        model.encode_indices(torch.zeros(1, 3, 8, 8))


def test_smoke_training_lowers_the_reconstruction_loss():
    x = load_dataset("digits", split="train").float_images()[:512]
    model = _model(kl_warmup=0, kl_weight=0.1, anneal_steps=0, tau_min=0.5)
    g = torch.Generator().manual_seed(0)
    held = binarize_dynamic(x[:128], generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def recon_error() -> float:
        return (model.reconstruct(held) - held).abs().mean().item()

    before = recon_error()
    for _ in range(40):
        idx = torch.randint(0, x.shape[0], (32,), generator=g)
        out = model.loss({"image": binarize_dynamic(x[idx], generator=g)})
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    assert recon_error() < 0.85 * before
