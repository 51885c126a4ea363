"""VectorQuantizer: assignments against numpy, straight-through gradient, which term moves what, the EMA
update by hand, dead-code restarts, lookup, float32 under autocast, k-means init."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genvision.errors import GenvisionError
from genvision.eval.codebook import codebook_stats
from genvision.quantize import VectorQuantizer


def vq_of(**kw):
    torch.manual_seed(0)
    return VectorQuantizer(**{"num_codes": 6, "dim": 3, **kw})


def test_assignments_and_loss_match_numpy_brute_force():
    vq = vq_of(beta=0.5)
    with torch.no_grad():
        vq.embedding.copy_(torch.randn(6, 3))
    z = torch.randn(2, 3, 4, 5)
    out = vq(z)
    flat = z.permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    e = vq.embedding.detach().numpy()
    idx = ((flat[:, None] - e[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(out.indices.reshape(-1).numpy(), idx)
    q = e[idx]
    np.testing.assert_allclose(out.quantized.permute(0, 2, 3, 1).reshape(-1, 3).detach().numpy(), q, atol=1e-6)
    mse = ((flat - q) ** 2).mean()
    assert out.codebook_loss.item() == pytest.approx(mse, rel=1e-5)
    assert out.commitment_loss.item() == pytest.approx(mse, rel=1e-5)
    assert out.loss.item() == pytest.approx(1.5 * mse, rel=1e-5)  # codebook + beta * commitment
    stats = codebook_stats(out.indices, 6)
    assert out.perplexity.item() == pytest.approx(stats.perplexity, rel=1e-5)
    assert out.usage.item() == pytest.approx(stats.usage)


def test_ema_loss_is_commitment_only():
    vq = vq_of(ema=True, beta=0.25).eval()
    out = vq(torch.randn(2, 3, 2, 2))
    assert out.loss.item() == pytest.approx(0.25 * out.commitment_loss.item())
    assert not any(p.requires_grad for p in vq.parameters())


def test_wrong_shape_is_an_error():
    vq = vq_of()
    with pytest.raises(GenvisionError, match=r"\(B, 3, H, W\)"):
        vq(torch.randn(2, 4, 3, 3))
    with pytest.raises(GenvisionError):
        vq.lookup(torch.tensor([[[6]]]))


def test_straight_through_passes_the_decoder_gradient_unchanged():
    vq = vq_of()
    z = torch.randn(2, 3, 3, 3, requires_grad=True)
    out = vq(z)
    out.quantized.retain_grad()
    weights = torch.randn_like(z)
    (out.quantized.sin() * weights).sum().backward()  # any "decoder" loss on quantized
    assert torch.equal(z.grad, out.quantized.grad)
    assert vq.embedding.grad is None  # the straight-through path does not reach the codebook


def test_codebook_loss_moves_codes_not_encoder_and_commitment_the_reverse():
    vq = vq_of()
    z = torch.randn(2, 3, 3, 3, requires_grad=True)
    vq(z).codebook_loss.backward()
    assert z.grad is None
    assert vq.embedding.grad.abs().sum() > 0
    vq.embedding.grad = None
    out = vq(z)
    out.commitment_loss.backward()
    assert vq.embedding.grad is None
    q = vq.lookup(out.indices).detach()
    torch.testing.assert_close(z.grad, 2 * (z - q).detach() / z.numel())  # d/dz mean ||z - sg[e]||^2


def test_ema_update_by_hand():
    # 2 codes of size 2, decay 1/2, no Laplace smoothing: N_k <- (N_k + n_k) / 2, m_k <- (m_k + sum_k) / 2.
    vq = VectorQuantizer(2, 2, ema=True, decay=0.5, eps=0.0)
    with torch.no_grad():
        vq.embedding.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
        vq.embed_sum.copy_(vq.embedding)
    z = torch.tensor([[0.1, 0.0], [0.2, 0.1], [0.9, 1.0]]).T.reshape(1, 2, 1, 3)
    out = vq.train()(z)
    assert out.indices.tolist() == [[[0, 0, 1]]]
    torch.testing.assert_close(out.quantized, torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]).reshape(1, 2, 1, 3))
    torch.testing.assert_close(vq.cluster_size, torch.tensor([1.5, 1.0]))  # (1 + 2) / 2, (1 + 1) / 2
    torch.testing.assert_close(vq.embed_sum, torch.tensor([[0.15, 0.05], [0.95, 1.0]]))
    torch.testing.assert_close(vq.embedding, torch.tensor([[0.1, 0.05 / 1.5], [0.95, 1.0]]))
    state = vq.state_dict()
    assert {"embedding", "embed_sum", "cluster_size"} <= set(state)


def test_laplace_smoothing_by_hand():
    vq = VectorQuantizer(2, 1, ema=True, decay=0.5, eps=0.1)
    with torch.no_grad():
        vq.embedding.copy_(torch.tensor([[0.0], [1.0]]))
        vq.embed_sum.copy_(vq.embedding)
    vq.train()(torch.tensor([0.2, 0.4, 0.9]).reshape(1, 1, 1, 3))
    n_k = torch.tensor([1.5, 1.0])
    smoothed = (n_k + 0.1) / (2.5 + 2 * 0.1) * 2.5
    torch.testing.assert_close(vq.embedding[:, 0], torch.tensor([0.3, 0.95]) / smoothed)


def test_no_update_in_eval_mode_and_lookup_equals_quantized():
    vq = vq_of(ema=True, dead_code_threshold=1.0).eval()
    before = {k: v.clone() for k, v in vq.state_dict().items()}
    z = torch.randn(3, 3, 4, 4)
    out = vq(z)
    for k, v in vq.state_dict().items():
        assert torch.equal(v, before[k]), k
    torch.testing.assert_close(vq.lookup(out.indices), out.quantized)  # equal up to z + (q - z) rounding
    assert torch.equal(vq.encode(z), out.indices)


def test_unused_code_is_restarted_on_an_encoder_output():
    torch.manual_seed(0)
    z = torch.randn(2, 2, 3, 3)
    flat = z.permute(0, 2, 3, 1).reshape(-1, 2)
    for ema in (True, False):
        vq = VectorQuantizer(2, 2, ema=ema, decay=0.5, dead_code_threshold=0.9)
        with torch.no_grad():
            vq.embedding.copy_(torch.tensor([[0.0, 0.0], [100.0, 100.0]]))  # code 1 is never chosen
            if ema:
                vq.embed_sum.copy_(vq.embedding)
        vq.train()(z)
        code1 = vq.embedding.detach()[1]
        assert (flat - code1).abs().sum(1).min() == 0, "code 1 should now be one of the batch's vectors"
        assert vq.cluster_size[1] == pytest.approx(0.9)
        assert vq.embedding.detach()[0].abs().max() < 5  # the used code was not restarted


def test_without_restarts_the_dead_code_stays():
    vq = VectorQuantizer(2, 2, ema=True, decay=0.5, dead_code_threshold=0.0)
    with torch.no_grad():
        vq.embedding.copy_(torch.tensor([[0.0, 0.0], [100.0, 100.0]]))
        vq.embed_sum.copy_(vq.embedding)
    vq.train()(torch.randn(2, 2, 3, 3))
    assert vq.embedding[1].min() > 90


def test_quantisation_is_float32_under_autocast():
    vq = vq_of()
    z = torch.randn(2, 3, 4, 4).bfloat16().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vq(z)
    assert out.quantized.dtype == torch.float32 and out.loss.dtype == torch.float32
    assert torch.equal(out.indices, vq.encode(z.float()))
    out.quantized.sum().backward()
    assert z.grad.dtype == torch.bfloat16


def test_kmeans_init_places_codes_on_the_clusters():
    torch.manual_seed(0)
    centres = torch.tensor([[-4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    flat = centres.repeat(30, 1) + 0.1 * torch.randn(90, 2)
    z = flat.T.reshape(1, 2, 9, 10)
    vq = VectorQuantizer(3, 2, kmeans_init=True, ema=True)
    assert not vq.initialized
    vq.train()(z)
    assert vq.initialized
    dist = F.pairwise_distance(centres[:, None], vq.embedding[None]).min(1).values
    assert dist.max() < 0.2
