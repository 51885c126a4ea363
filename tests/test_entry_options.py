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


@pytest.mark.parametrize("name", sorted(registry()))
def test_command_options_do_not_shadow_sampling_options(name):
    """sample/eval split their options between the command and the model's sampling options: a name in both
    would never reach the model. The one known overlap: eval's --classifier is the evaluation classifier, so
    classifier guidance (the DDPM's `classifier` sampling option) is reachable from `sample`, not `eval`."""
    import dataclasses

    from genvision.commands import SampleOptions
    from genvision.eval.run import EvalOptions

    sampling = {f.name for f in dataclasses.fields(registry()[name].sample_options)}
    assert not sampling & {f.name for f in dataclasses.fields(SampleOptions)}
    assert not sampling & {f.name for f in dataclasses.fields(EvalOptions)} - {"classifier"}


def test_train_command_options_do_not_shadow_config_options():
    import dataclasses

    from genvision.commands import TrainOptions

    own = {f.name for f in dataclasses.fields(TrainOptions)}
    for entry in registry().values():
        assert not own & set(option_owners(entry.option_configs(), hidden=entry.hidden_fields())), entry.name


def test_ranges_declared_next_to_the_type_are_checked():
    from genvision.commands import CompleteOptions
    from genvision.config import parse_options

    assert parse_options(CompleteOptions, {"images": "3"}).images == 3
    with pytest.raises(GenvisionError, match="--images must be >= 1, got 0"):
        parse_options(CompleteOptions, {"images": "0"})
    with pytest.raises(GenvisionError, match="unknown option --imgs"):
        parse_options(CompleteOptions, {"imgs": "3"})
