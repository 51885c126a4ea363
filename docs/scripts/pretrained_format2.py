"""Run once (issue 19): rewrite the shipped weights in checkpoint format 2 (same tensors, config, step,
extra) and record each file's SHA-256 in NAME.json."""
import json

import torch

from genvision import pretrained
from genvision.train.checkpoint import load_checkpoint, save_checkpoint
from genvision.train.integrity import file_sha256

for name in pretrained.shipped():
    path = pretrained.weights_path(name)
    old = load_checkpoint(path, warn=lambda m: None)
    assert old.optimizer is None and not old.ema and not old.rng
    save_checkpoint(path, step=old.step, config=old.config, model=old.model, extra=old.extra)
    new = load_checkpoint(path)
    assert new.config == old.config and new.step == old.step and new.extra == old.extra
    assert new.model.keys() == old.model.keys()
    for k in old.model:
        assert old.model[k].dtype == new.model[k].dtype and torch.equal(old.model[k], new.model[k]), k
    info_file = pretrained.info_path(name)
    info = json.loads(info_file.read_text())
    out = {}
    for k, v in info.items():
        if k == "weights_sha256":
            continue
        out[k] = v
        if k == "weights_bytes":
            out[k] = path.stat().st_size
            out["weights_sha256"] = file_sha256(path)
    info_file.write_text(json.dumps(out, indent=1) + "\n")
    print(name, len(old.model), "tensors identical;", info["weights_bytes"], "->", out["weights_bytes"], "bytes")
