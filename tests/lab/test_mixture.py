import torch

from genvision.lab.mixture import component_rows, posterior_bars


def test_posterior_is_the_softmax_of_the_encoder_logits(dvae):
    x = torch.rand(1, 1, 8, 8) * 2 - 1
    r = posterior_bars(dvae, x)
    torch.testing.assert_close(r.probs, dvae.posterior_logits(x)[0].softmax(-1))
    assert abs(float(r.probs.sum()) - 1) < 1e-6 and f"k = {int(r.probs.argmax())}" in r.text
    assert r.bars.ndim == 3


def test_component_rows_one_row_per_component(dvae):
    r = component_rows(dvae, per_row=5, seed=0)
    assert r.grid.shape == ((4 * (8 + 2) + 2) * 3, (5 * (8 + 2) + 2) * 3, 3)  # K=4 rows, x3
    torch.testing.assert_close(r.prior, dvae.log_prior().exp())
    assert r.text.endswith("p(k): 0.25, 0.25, 0.25, 0.25")  # the prior starts uniform
