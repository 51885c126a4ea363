import torch

from genvision.eval import format_table, format_value


def test_aligned_table_hand_case():
    rows = [
        {"model": "ddpm", "fid": 12.3456, "steps": 1000},
        {"model": "pixelcnn", "fid": 7.5, "bpd": torch.tensor(3.0)},
    ]
    expected = "\n".join(
        [
            "model         fid  steps     bpd",
            "--------  -------  -----  ------",
            "ddpm      12.3456   1000",
            "pixelcnn   7.5000         3.0000",
        ]
    )
    assert format_table(rows) == expected


def test_column_selection_and_order():
    rows = [{"a": 1, "b": "x", "c": 0.5}]
    assert format_table(rows, ["c", "a"]) == "     c  a\n------  -\n0.5000  1"
    assert format_table([]) == ""


def test_format_value():
    assert format_value(0.00001234) == "1.234e-05"
    assert format_value(0.0) == "0.0000"
    assert format_value(True) == "True"
    assert format_value(None) == ""
    assert format_value(torch.tensor(2)) == "2"
