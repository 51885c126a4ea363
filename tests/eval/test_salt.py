"""The salt statistic on hand-made images: which pixels are isolated, and the real data's level."""

import torch

from genvision.data import load_dataset
from genvision.eval.salt import isolated_on_pixels, salt


def test_isolated_on_pixels_by_hand():
    x = -torch.ones(2, 1, 6, 6)
    x[0, 0, 0, 0] = 0.5  # a corner pixel: outside the image counts as off -> salt
    x[0, 0, 3, 3] = 1.0  # alone in the middle -> salt
    x[0, 0, 3, 5] = -0.5  # dim but on, two columns away -> salt
    x[1, 0, 2, 2] = x[1, 0, 2, 3] = 1.0  # a two-pixel stroke: neither is isolated
    x[1, 0, 5, 0] = 1.0
    x[1, 0, 4, 1] = -0.7  # a diagonal neighbour above `off` keeps (5, 0) from being salt
    iso = isolated_on_pixels(x)
    assert iso[0, 0].nonzero().tolist() == [[0, 0], [3, 3], [3, 5]]
    assert not iso[1].any()
    s = salt(x)
    assert s.per_image.tolist() == [3, 0] and s.per_100 == 150.0 and s.images == 0.5
    assert s.fraction == 3 / 7  # on pixels (> -0.75): 3 in the first image, 4 in the second
    bright = salt(x, on=0.0, off=-0.5)  # skips the dim one; -0.7 now counts as off, so (5, 0) is salt
    assert bright.per_image.tolist() == [2, 1]


def test_real_digits_have_almost_no_salt():
    real = load_dataset("mnist5k", split="val").float_images()
    assert salt(real).per_100 < 2.0
