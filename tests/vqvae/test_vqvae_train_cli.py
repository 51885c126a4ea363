"""The two stages through the trainer and the CLI with the tiny presets: train a vqvae, train a prior on its
codes, sample from the prior; the presets are valid configs."""

import json
import shutil

import pytest
import torch

from genvision.cli import command
from genvision.errors import GenvisionError
from genvision.loading import load_model
from genvision.models import make_run_spec


@pytest.mark.parametrize("name", ["vqvae", "vqvae-prior"])
@pytest.mark.parametrize("preset", ["tiny", "mnist"])
def test_presets_are_valid(name, preset):
    spec = make_run_spec(name, preset=preset)  # raises on a preset key no config has, or a wrong type
    assert spec.data.data == ("digits" if preset == "tiny" else "mnist5k")


def test_train_both_stages_and_sample(tmp_path):
    runs = tmp_path / "runs"
    common = ["--preset=tiny", f"--runs_dir={runs}", "--progress=false"]
    assert command("train")(["vqvae", *common]) == 0
    with pytest.raises(GenvisionError, match="does not generate"):
        command("sample")([str(runs / "vqvae-digits"), "--n=2", f"--out={tmp_path / 'x.png'}"])
    assert command("eval")([str(runs / "vqvae-digits"), "--metrics=reconstruction", "--n=50"]) == 0
    rec = json.loads((runs / "vqvae-digits" / "eval.json").read_text())
    assert 0 < rec["code_usage"] <= 1 and rec["recon_psnr"] > 0 and rec["code_map_shape"] == [4, 4]
    assert command("train")(["vqvae-prior", *common, f"--vqvae={runs / 'vqvae-digits'}"]) == 0
    out = tmp_path / "samples.png"
    assert command("sample")([str(runs / "vqvae-prior-digits"), "--n=4", f"--out={out}", "--temperature=0.8"]) == 0
    assert out.is_file()
    prior, config = load_model(runs / "vqvae-prior-digits")
    assert config["model"] == "vqvae-prior" and prior.num_classes == 10
    # The prior's checkpoint embeds its first stage's config: moving the vqvae run away does not break it.
    assert config["requires"]["vqvae"]["model"] == "vqvae"
    shutil.rmtree(runs / "vqvae-digits")
    again, _ = load_model(runs / "vqvae-prior-digits")
    x = again.sample(2, labels=torch.tensor([1, 2]), generator=torch.Generator().manual_seed(0))
    y = prior.sample(2, labels=torch.tensor([1, 2]), generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, y)
