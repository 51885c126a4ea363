"""Metrics rank obvious cases correctly on mnist5k, in the features of an evaluation classifier held in a run
folder (the shipped classifier's checkpoint copied into one: training a classifier is tested elsewhere)."""

import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genvision import pretrained
from genvision.cli import main
from genvision.data import load_dataset
from genvision.eval.scoring import score_images


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    """A run folder whose checkpoint is the shipped evaluation classifier: reference statistics are cached in
    RUN/refstats, as for a classifier trained here."""
    run = tmp_path_factory.mktemp("evalclf") / "clf"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(pretrained.weights_path("eval-classifier-mnist"), run / "checkpoints" / "step_00000001.safetensors")
    return run


def _blur(x):
    k = torch.ones(1, 1, 5, 5) / 25
    return F.conv2d(F.pad(x, (2, 2, 2, 2), value=-1), k)


def test_real_beats_blurred_and_noised(classifier_run):
    val = load_dataset("mnist5k", split="val")
    train = load_dataset("mnist5k", split="train")
    g = torch.Generator().manual_seed(0)
    real = train.float_images()[torch.randperm(len(train), generator=g)[:500]]  # train is sorted by class
    noised = (val.float_images() + 0.5 * torch.randn(val.images.shape, generator=g)).clamp(-1, 1)

    def fd(x):
        return score_images(x, None, metrics=["fid"], data="mnist5k", split="val",
                            classifier_path=str(classifier_run))["frechet_distance"]

    fd_real, fd_blur, fd_noise = fd(real), fd(_blur(val.float_images())), fd(noised)
    assert fd_real < 0.5 * fd_blur and fd_real < 0.5 * fd_noise
    assert list((classifier_run / "refstats").glob("mnist5k-val-*.safetensors"))  # cached reference


def test_accuracy_true_labels_beat_shuffled(classifier_run):
    val = load_dataset("mnist5k", split="val")
    x = val.float_images()
    true = score_images(x, val.labels, metrics=["accuracy"], data="mnist5k", split="val",
                        classifier_path=str(classifier_run))
    shuffled = val.labels[torch.randperm(len(val), generator=torch.Generator().manual_seed(0))]
    wrong = score_images(x, shuffled, metrics=["accuracy"], data="mnist5k", split="val",
                         classifier_path=str(classifier_run))
    assert true["accuracy"] > 0.8 > 0.3 > wrong["accuracy"]
    assert len(true["accuracy_per_class"]) == 10


def test_eval_scores_a_samples_file(classifier_run, tmp_path, capsys):
    val = load_dataset("mnist5k", split="val")
    path = tmp_path / "real.npz"
    np.savez(path, images=val.images.permute(0, 2, 3, 1).numpy(), labels=val.labels.numpy())
    assert main(["eval", str(path), f"--classifier={classifier_run}", "--metrics=fid,accuracy"]) == 0
    result = json.loads((tmp_path / "real.eval.json").read_text())
    assert result["frechet_distance"] < 1e-3 and result["accuracy"] > 0.8
    np.savez(tmp_path / "bad.npz", images=np.zeros((3, 28, 28), np.float32))
    assert main(["eval", str(tmp_path / "bad.npz"), f"--classifier={classifier_run}"]) == 2
    assert "uint8 (N, H, W, C)" in capsys.readouterr().err


def test_classification_accuracy_score_prefers_true_labels():
    from genvision.eval.conditional import classification_accuracy_score

    train, val = load_dataset("mnist5k", split="train"), load_dataset("mnist5k", split="val")
    g = torch.Generator().manual_seed(0)
    pick = torch.randperm(len(train), generator=g)[:1000]
    x, y = train.float_images()[pick], train.labels[pick]
    good = classification_accuracy_score(x, y, val, steps=80, width=8)  # 0.72 here; shuffled labels: 0.08
    bad = classification_accuracy_score(x, y[torch.randperm(len(y), generator=g)], val, steps=80, width=8)
    assert good > 0.5 > 0.3 > bad
