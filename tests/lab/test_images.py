import numpy as np
import pytest
import torch

from genvision.errors import GenvisionError
from genvision.lab.images import check_label, drawing_to_image, show_grid, upscale


def test_upscale_repeats_each_pixel():
    a = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    assert upscale(a, 2).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_show_grid_is_the_upscaled_image():
    x = torch.full((1, 1, 3, 3), -1.0)
    x[0, 0, 1, 1] = 1.0
    g = show_grid(x, nrow=1, scale=2, padding=0)
    assert g.shape == (6, 6, 3)
    assert g[2:4, 2:4].min() == 255 and g[:2].max() == 0


def test_dark_strokes_on_white_become_white_ink_on_black():
    canvas = np.full((56, 56, 3), 255, np.uint8)
    canvas[:, 20:36] = 0  # a vertical bar in the middle
    x = drawing_to_image(canvas, size=28)
    assert x.shape == (1, 1, 28, 28)
    assert x[0, 0, :, 12:16].min() == 1.0 and x[0, 0, :, :8].max() == -1.0


def test_transparent_layer_uses_alpha_and_sketchpad_dict():
    layer = np.zeros((28, 28, 4), np.uint8)
    layer[5:10, 5:10] = (0, 0, 0, 255)
    x = drawing_to_image({"composite": layer})
    assert x[0, 0, 5:10, 5:10].min() == 1.0 and x[0, 0, 15:, 15:].max() == -1.0


@pytest.mark.parametrize("drawing", [None, {"composite": None}, np.full((28, 28, 3), 255, np.uint8),
                                     np.zeros((28, 28, 4), np.uint8)])
def test_empty_drawing_is_a_one_line_error(drawing):
    with pytest.raises(GenvisionError, match="draw a digit first"):
        drawing_to_image(drawing)


def test_check_label():
    assert check_label("3", 10) == 3
    with pytest.raises(GenvisionError, match="out of range"):
        check_label(10, 10)
    with pytest.raises(GenvisionError, match="integer"):
        check_label("x", 10)
