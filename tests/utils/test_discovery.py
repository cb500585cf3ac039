"""Package-level facts: version, public names, estimator discovery."""

import importlib

import pytest

import skmultimodal
from skmultimodal.utils.discovery import all_estimators


def test_version_and_public_names():
    assert skmultimodal.__version__
    for name in skmultimodal.__all__:
        assert hasattr(skmultimodal, name)


def test_all_estimators_lists_the_public_estimators():
    names = [name for name, _ in all_estimators()]
    assert {"ImageClassifier", "ImageEmbedder", "TabularMLPClassifier"} <= set(names)
    assert names == sorted(names)
    classifiers = dict(all_estimators(type_filter="classifier"))
    assert "ImageClassifier" in classifiers and "ImageEmbedder" not in classifiers
    transformers = dict(all_estimators(type_filter="transformer"))
    assert "ImageEmbedder" in transformers


def test_all_estimators_rejects_unknown_filter():
    with pytest.raises(ValueError, match="type_filter"):
        all_estimators(type_filter="regressor")


# Helpers the estimators use on single cells and parameters: importable from
# their private modules, not offered as public names.
PRIVATE_HELPERS = {
    "data": ["check_image_array", "check_image_size", "is_missing", "normalisation_stats",
             "resolve_augmentation"],
    "modalities": ["check_column_present", "check_image_cells"],
    "nn": ["load_state_dict_file", "resolve_weights"],
}


@pytest.mark.parametrize("subpackage", sorted(PRIVATE_HELPERS))
def test_helpers_are_not_public(subpackage):
    module = importlib.import_module(f"skmultimodal.{subpackage}")
    for name in PRIVATE_HELPERS[subpackage]:
        assert name not in module.__all__ and not hasattr(module, name)
