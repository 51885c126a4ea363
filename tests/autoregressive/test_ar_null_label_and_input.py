"""PixelCNN: the null label is the extra index num_classes, used for label dropout and for the unconditional
half of guided sampling; the sampler feeds each sampled pixel back through the model's input transform (for
binary images the value 1 enters the network as +1 and 0 as -1, as the training images do). Both were checked
only through the shipped model's stored metrics before."""

import torch

from genvision.autoregressive import PixelCNNConfig, PixelCNNModel


def tiny(**kw):
    torch.manual_seed(0)
    cfg = PixelCNNConfig(arch="gated", image_size=5, hidden=8, layers=2, first_kernel=3, output="bernoulli",
                         **kw)
    return PixelCNNModel(cfg).eval()


def _record_net_inputs(model):
    seen = []
    orig = model.net.forward

    def forward(x, labels=None, cond_map=None):
        seen.append((x.clone(), None if labels is None else labels.clone()))
        return orig(x, labels=labels, cond_map=cond_map)

    model.net.forward = forward
    return seen


def test_null_label_is_the_extra_embedding_row():
    model = tiny(num_classes=4, p_uncond=0.25)
    assert model.null_label == 4
    seen = _record_net_inputs(model)
    labels = torch.arange(4).repeat(500)
    torch.manual_seed(0)
    model.train().loss({"image": torch.zeros(2000, 1, 5, 5), "label": labels})
    used = seen[-1][1]
    assert set(used[used != labels].tolist()) == {4} and 0.2 < (used == 4).float().mean().item() < 0.3
    del seen[:]
    model.eval().sample(2, labels=torch.tensor([1, 2]), guidance_weight=1.0, method="naive",
                        generator=torch.Generator().manual_seed(0))
    assert sorted(seen[0][1].tolist()) == [1, 2, 4, 4]  # conditional halves and null-label halves


def test_sampler_feeds_pixels_back_through_the_input_transform():
    model = tiny()
    seen = _record_net_inputs(model)
    images = model.sample(3, method="naive", generator=torch.Generator().manual_seed(1))
    assert set(images.unique().tolist()) <= {-1.0, 1.0}
    # The last network call comes before the last pixel is drawn: every earlier pixel must enter as the image
    # value (+1 / -1), never as the raw Bernoulli value (1 / 0).
    last_input = seen[-1][0]
    flat_in, flat_img = last_input.flatten(1), images.flatten(1)
    torch.testing.assert_close(flat_in[:, :-1], flat_img[:, :-1])
    assert (flat_in[:, :-1] == -1).any()
