import dataclasses

import pytest
import torch

import genvision.models as models
from genvision.cli import main
from genvision.data.config import DataConfig
from genvision.dvae.registry import ENTRIES
from genvision.dvae.token_prior import TokenPrior
from genvision.loading import load_model
from genvision.train.config import TrainConfig


def test_config_fields_do_not_collide_with_train_or_data_options():
    shared = {f.name for f in dataclasses.fields(TrainConfig)} | {f.name for f in dataclasses.fields(DataConfig)}
    for entry in ENTRIES:
        own = {f.name for f in dataclasses.fields(entry.config_cls)}
        assert not own & shared, (entry.name, own & shared)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_presets_resolve(entry):
    for preset in entry.presets:
        spec = models.make_run_spec(entry.name, preset=preset)
        assert spec.data.binarize == "dynamic"
    assert entry.default_preset in entry.presets


def test_train_tokens_then_prior_then_load_and_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    fast = ["--preset=tiny", "--progress=false", "--steps=3", "--bf16=false"]
    assert main(["train", "dvae-mixture", *fast]) == 0
    assert (tmp_path / "runs/dvae-mixture-digits/samples/step_00000003.png").exists()
    assert main(["train", "dvae-tokens", *fast]) == 0  # -> runs/dvae-tokens-digits, the prior's tiny default
    assert main(["train", "dvae-tokens-prior", *fast]) == 0
    capsys.readouterr()
    prior, config = load_model(tmp_path / "runs/dvae-tokens-prior-digits")
    assert isinstance(prior, TokenPrior) and config["model_config"]["dvae"] == "runs/dvae-tokens-digits"
    x = prior.sample(2, labels=torch.tensor([1, 2]), generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, 1, 8, 8)
    mixture, _ = load_model(tmp_path / "runs/dvae-mixture-digits")
    assert int(mixture.step) == 3  # the temperature step travels with the checkpoint
