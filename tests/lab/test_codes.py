import pytest
import torch

from genvision.errors import GenvisionError
from genvision.lab.codes import (
    CELL,
    cell_at,
    code_colour,
    edit_code,
    encode_image,
    fit_patch_vq,
    render_code_map,
    view_codes,
    view_patch_vq,
)
from genvision.lab.images import show_grid


def test_code_map_cells_have_their_codes_colour_and_clicks_find_them():
    codes = torch.tensor([[0, 5], [7, 1]])
    img = render_code_map(codes, 8)
    assert img.shape == (2 * CELL, 2 * CELL, 3)
    for i in range(2):
        for j in range(2):
            corner = img[i * CELL + 2, j * CELL + 2]  # away from the number and the border
            assert tuple(corner) == code_colour(int(codes[i, j]), 8)
            assert cell_at(j * CELL + CELL // 2, i * CELL + CELL // 2, (2, 2)) == (i, j)
    assert cell_at(10_000, -5, (2, 2)) == (0, 1)  # clamped to the map


def test_neighbouring_codes_get_different_colours():
    colours = [code_colour(k, 64) for k in range(64)]
    assert all(a != b for a, b in zip(colours, colours[1:], strict=False))


def test_edit_code_copies_and_checks():
    codes = torch.zeros(3, 3, dtype=torch.long)
    out = edit_code(codes, 1, 2, 5, 8)
    assert out[1, 2] == 5 and codes[1, 2] == 0 and int(out.sum()) == 5
    with pytest.raises(GenvisionError, match="outside"):
        edit_code(codes, 3, 0, 1, 8)
    with pytest.raises(GenvisionError, match="out of range"):
        edit_code(codes, 0, 0, 8, 8)


def test_view_codes_decodes_the_map_and_an_edit_changes_the_image(vqvae):
    x = torch.rand(1, 1, 8, 8) * 2 - 1
    codes = encode_image(vqvae, x)
    assert codes.shape == (2, 2)
    view = view_codes(vqvae, codes)
    assert view.code_map.shape == (2 * CELL, 2 * CELL, 3)
    assert (view.image == show_grid(vqvae.decode_indices(codes[None]), nrow=1)).all()
    new = (int(codes[0, 0]) + 1) % 8
    edited = view_codes(vqvae, edit_code(codes, 0, 0, new, 8), highlight=(0, 0))
    assert int(edited.codes[0, 0]) == new
    assert (edited.code_map[:CELL, :CELL] != view.code_map[:CELL, :CELL]).any()
    assert (edited.image == show_grid(vqvae.decode_indices(edited.codes[None]), nrow=1)).all()


def test_patch_vq_with_every_patch_a_code_is_lossless():
    torch.manual_seed(0)
    images = (torch.rand(3, 1, 8, 8) > 0.5).float() * 2 - 1  # 12 patches of 4x4
    book = fit_patch_vq(images, k=12, patch=4)
    view = view_patch_vq(book, images[:1])
    assert "this image: lossless" in view.text
    assert view.code_map.shape == (2 * CELL, 2 * CELL, 3)
    with pytest.raises(GenvisionError, match="K must be"):
        fit_patch_vq(images, k=1)
