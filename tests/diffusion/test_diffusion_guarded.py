"""Properties of the DDPM that only a trained model's figures checked before (issue 19, section 4): which
timesteps the loss draws, the null label, and label/guidance effects on a model whose output is not zero."""

import torch

from genvision.diffusion.model import DDPMConfig, DiffusionModel

TINY = dict(base_channels=8, channel_mults=(1, 2), num_res_blocks=1, attention_resolutions=(4,), timesteps=20)


def _model(cond=True, *, perturb=True):
    """The UNet's output conv (and each residual block's last conv) is zero-initialised, so an untrained model
    predicts eps = 0 for every label and every guidance weight; random values in those layers make labels and
    guidance visible."""
    torch.manual_seed(0)
    model = DiffusionModel(DDPMConfig(**TINY, class_conditional=cond, p_uncond=0.2), (1, 8, 8), 10)
    if perturb:
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() > 1 and not p.any():
                    p.normal_(0, 0.3)
    return model.eval()


def _record_forward(model):
    seen = []
    orig = model.unet.forward
    model.unet.forward = lambda x, t, labels=None: (seen.append((t.clone(), None if labels is None else
                                                                 labels.clone())), orig(x, t, labels))[1]
    return seen


def test_loss_draws_every_timestep_uniformly_t0_included():
    model = _model(cond=False)
    seen = _record_forward(model)
    torch.manual_seed(0)
    model.loss({"image": torch.zeros(4000, 1, 8, 8)})
    counts = torch.bincount(seen[0][0], minlength=20)
    assert len(counts) == 20  # no t >= T
    assert counts[0] > 0 and counts[19] > 0  # t = 0 (the L_0 term) and t = T - 1 are both trained
    assert counts.min() > 0.7 * 4000 / 20 and counts.max() < 1.3 * 4000 / 20


def test_null_label_is_the_extra_index_num_classes():
    model = _model()
    assert model.null_label == 10  # the index after the 10 classes, not one of them
    seen = _record_forward(model)
    labels = torch.arange(10).repeat(300)
    torch.manual_seed(0)
    model.train().loss({"image": torch.zeros(3000, 1, 8, 8), "label": labels})
    used = seen[0][1]
    dropped = used != labels
    assert set(used[dropped].tolist()) == {10}  # a dropped label becomes 10, the others stay as they were
    assert 0.15 < dropped.float().mean().item() < 0.25  # p_uncond = 0.2
    del seen[:]
    model.eval().eps_fn(torch.tensor([3]), weight=1.0)(torch.zeros(1, 1, 8, 8), torch.tensor([5]))
    assert sorted(torch.cat([labels for _, labels in seen]).tolist()) == [3, 10]  # guided: conditional + null


def test_labels_and_guidance_change_the_samples_of_a_perturbed_model():
    untrained = _model(perturb=False)

    def sample(model, label, w=0.0):
        return model.sample(2, labels=torch.full((2,), label), guidance_weight=w, steps=4,
                            generator=torch.Generator().manual_seed(3))

    # Why the perturbation: with the zero-initialised output every label gives the very same samples.
    assert torch.equal(sample(untrained, 1), sample(untrained, 7))
    model = _model()
    assert not torch.allclose(sample(model, 1), sample(model, 7), atol=1e-3)
    assert not torch.allclose(sample(model, 1, w=3.0), sample(model, 1), atol=1e-3)
    assert torch.equal(sample(model, 1, w=0.0), sample(model, 1))
