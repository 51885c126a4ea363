import socket

import pytest

from genvision.cli import main
from genvision.errors import GenvisionError
from genvision.lab.command import check_port_free, parse_args
from genvision.lab.models import DEFAULTS, LabModels


def test_parse_args_both_spellings_and_targets():
    assert parse_args([]) == ("127.0.0.1", 7860, 1, [])
    assert parse_args(["--port", "8000", "--host=0.0.0.0", "runs/a", "--threads=2", "pretrained:cfg-mnist"]) == (
        "0.0.0.0", 8000, 2, ["runs/a", "pretrained:cfg-mnist"])
    for bad, message in ((["--port=x"], "integer"), (["--port=0"], "1..65535"), (["--share"], "unknown option"),
                         (["--port"], "needs a value"), (["--threads=0"], "positive")):
        with pytest.raises(GenvisionError, match=message):
            parse_args(bad)


def test_a_port_in_use_is_a_one_line_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(GenvisionError, match="in use"):
            check_port_free("127.0.0.1", port)
        assert main(["lab", f"--port={port}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: port") and err.count("\n") == 1


def test_a_broken_run_folder_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["lab", f"--port={port}", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "port" not in err


def test_a_run_replaces_the_shipped_model_of_its_role():
    models = LabModels(["pretrained:dvae-mixture-mnist"])
    assert models.source("dvae-mixture") == "pretrained:dvae-mixture-mnist"
    assert set(models.targets) == set(DEFAULTS)
    with pytest.raises(GenvisionError, match="no tab"):
        LabModels(["pretrained:eval-classifier-mnist"])
