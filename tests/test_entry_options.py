"""Option names are unique across a model's configs: a shared name is an error where the entry is defined."""

from dataclasses import dataclass

import pytest

from genvision.config import option_owners
from genvision.errors import GenvisionError
from genvision.models import make_run_spec, registry


def test_data_options_reach_the_data_config_for_pixelcnn():
    """PixelCNN's image_size and levels used to shadow the data config's: --levels=8 did not quantise."""
    spec = make_run_spec("pixelcnn", preset="tiny", overrides={"levels": "8", "image_size": "16",
                                                               "binarize": "none"})
    assert spec.data.levels == 8 and spec.data.image_size == 16


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_entry_has_unique_option_names(name):
    entry = registry()[name]
    owners = option_owners(entry.option_configs(), hidden=entry.hidden_fields())
    assert {"steps", "data", "lr"} <= set(owners)


def test_a_shadowing_field_is_refused_at_definition():
    from genvision.entry import ModelEntry, build_plain

    @dataclass(frozen=True)
    class Clashing:
        binarize: str = "none"  # also DataConfig.binarize

    with pytest.raises(GenvisionError, match="--binarize is defined by both"):
        ModelEntry("clash", "", Clashing, build_plain(object))
