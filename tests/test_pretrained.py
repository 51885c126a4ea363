"""The shipped pretrained models: every checkpoint loads and samples deterministically, the metrics JSON beside
it matches what `genvision eval` measures now, and the whole set fits the size budget."""


import numpy as np
import pytest
import torch

from genvision import pretrained
from genvision.cli import main
from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.eval.run import evaluate_target
from genvision.loading import load_model
from genvision.protocols import ImageClassifier, NoisyClassifier, Sampler, Tokenizer, sample_grid

SHIPPED = pretrained.shipped()
FAST = {"ddpm": {"steps": 4}, "cfg": {"steps": 4, "guidance_weight": 3.0}}  # few DDIM steps: a quick check


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    """Never write into the package or ~; the shipped classifier's reference statistics are computed once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENVISION_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def _real(n: int) -> torch.Tensor:
    return load_dataset("mnist5k", split="val").float_images()[:n]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_and_is_deterministic(name):
    model, config = load_model(f"pretrained:{name}")
    assert config["model"] == pretrained.spec(name).model
    c, h, w = config["image_shape"]
    with torch.no_grad():  # by capability (genvision.protocols), as eval and the report dispatch
        if isinstance(model, ImageClassifier):
            outs = [model(_real(3)) for _ in range(2)]
            assert outs[0].shape == (3, model.num_classes_out)
        elif isinstance(model, NoisyClassifier):
            t = torch.tensor([0, 500, 999])
            outs = [model(_real(3), t) for _ in range(2)]
            assert outs[0].shape == (3, model.num_classes_out)
        elif isinstance(model, Sampler):
            grid = sample_grid(model, 2)
            opts = FAST.get(config["model"], {})
            outs = [model.sample(2, generator=torch.Generator().manual_seed(0), **grid.conditions, **opts)
                    for _ in range(2)]
            assert outs[0].shape == (2, c, h, w)
            assert outs[0].min() >= -1 and outs[0].max() <= 1 and torch.isfinite(outs[0]).all()
        else:
            assert isinstance(model, Tokenizer), config["model"]  # a round trip through the code map
            outs = [model.decode_indices(model.encode_indices(_real(3))) for _ in range(2)]
            assert outs[0].shape == (3, c, h, w) and outs[0].min() >= -1.5 and outs[0].max() <= 1.5
    assert torch.equal(outs[0], outs[1])


# Checks too slow for the default suite (each runs with -m slow). pixelcnn-mnist's (--metrics=bpd --n=50, the
# exact class marginal included: 500 passes in batches of 16) takes a few seconds since issue 17's batching.
SLOW_CHECKS: set[str] = set()


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CHECKS else n
                                  for n in SHIPPED])
def test_metrics_json_matches_eval(name, tmp_path):
    info = pretrained.info(name)
    for key in ("command", "commit", "seed", "train_device", "parameters", "weights_bytes", "metrics", "curve"):
        assert key in info, key
    assert info["command"].startswith(f"genvision train {info['model']} ")
    result, _ = evaluate_target(f"pretrained:{name}", [*info["check"]["args"], f"--out={tmp_path / 'e.json'}"])
    stored = info["check"]["metrics"]
    assert stored, "the check evaluation measured nothing"
    for key, value in stored.items():
        assert result[key] == pytest.approx(value, rel=0.05, abs=0.02), key


@pytest.mark.skipif("pixelcnn-mnist" not in SHIPPED, reason="pixelcnn-mnist is not shipped")
def test_pixelcnn_check_conditional_nll():
    """-log p(x | y) of the check's 50 held-out images (binarised as eval does) equals the stored figure."""
    from genvision.eval.scoring import eval_images

    stored = pretrained.info("pixelcnn-mnist")["check"]["metrics"]
    model, config = load_model("pretrained:pixelcnn-mnist")
    x = eval_images(config, data="mnist5k", split="val", n=stored["bpd_images"], data_dir=None)
    labels = load_dataset("mnist5k", split="val").labels[: len(x)]
    with torch.no_grad():
        nll = model.nll(x, labels=labels)
    assert float(nll.double().mean()) == pytest.approx(stored["nll_nats"], rel=1e-4)


def test_shipped_weights_fit_the_budget():
    total = sum(pretrained.weights_path(n).stat().st_size for n in SHIPPED)
    assert total <= 30e6


def test_cli_sample_pretrained_cfg_with_guidance(tmp_path):
    if "cfg-mnist" not in SHIPPED:
        pytest.skip("cfg-mnist is not shipped")
    out = tmp_path / "x.npz"
    args = ["sample", "pretrained:cfg-mnist", "--label", "7", "--guidance-weight", "3", "--n=2", "--steps=4"]
    assert main([*args, f"--out={out}"]) == 0
    assert main([*args, f"--out={tmp_path / 'y.npz'}"]) == 0
    a, b = np.load(out), np.load(tmp_path / "y.npz")
    assert np.array_equal(a["images"], b["images"]) and (a["labels"] == 7).all()


def test_unknown_or_missing_pretrained_is_one_line(capsys):
    with pytest.raises(GenvisionError, match="no pretrained model 'nope'"):
        load_model("pretrained:nope")
    assert main(["sample", "pretrained:nope", "--out=x.png"]) == 2
    assert "no pretrained model" in capsys.readouterr().err


def test_models_lists_shipped_with_metrics(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out
        assert pretrained.headline(pretrained.info(name)["metrics"]) in out


def test_info_of_a_corrupt_json_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    (tmp_path / "ddpm-mnist.json").write_text("{not json")
    with pytest.raises(GenvisionError, match="not valid JSON"):
        pretrained.info("ddpm-mnist")


def test_every_catalog_model_is_shipped():
    assert SHIPPED == [s.name for s in pretrained.CATALOG]
    for name in SHIPPED:  # a prior's frozen first stage is read from the shipped one, not from runs/
        config = load_model(f"pretrained:{name}")[1]
        for key, dep in pretrained.spec(name).depends:
            assert config["model_config"][key] == f"pretrained:{dep}"


@pytest.mark.skipif("cfg-mnist" not in SHIPPED, reason="cfg-mnist is not shipped")
def test_default_sampling_of_cfg_mnist_has_no_salt():
    """Issue 14's salt, pinned at its cause (docs/diffusion.md Sec. 11): deterministic DDIM (η = 0) carries x_T
    to the end, and where x_T has an outlier the model's ε̂ falls short, so a faint isolated dot stays in the
    image. The default sampler (η = 1: the respaced DDPM chain) draws fresh noise at each step and leaves none.
    Same seed, so the same x_T, for both. (The shipped model since issue 14's re-ship, v-prediction trained on the
    CPU, has fewer dots than the earlier one: 13 per 100 images at η = 0 instead of 39, hence 48 images.)"""
    from genvision.eval.salt import isolated_on_pixels

    model, _ = load_model("pretrained:cfg-mnist")
    n = 48
    labels = torch.arange(n) % 10
    x_T = torch.randn((n, *model.image_shape), generator=torch.Generator().manual_seed(0))  # the sampler's first draw

    def salt_pixels(**options):
        images = model.sample(n, labels=labels, generator=torch.Generator().manual_seed(0), bf16=True, **options)
        return isolated_on_pixels(images, on=-0.9, off=-0.9)  # dots >= 5% grey on a background <= 5%

    ode = salt_pixels(eta=0.0)
    assert ode.sum() >= 4 and (x_T[ode] > 2.0).all()  # every dot sits on a > 2σ outlier of x_T (7 of them here)
    assert salt_pixels().sum() <= 1  # real mnist5k val: 1 per 100 images at this level (0 here)
