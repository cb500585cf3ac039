"""Package-level facts: version, public names, estimator discovery."""

import importlib
from pathlib import Path

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


SUBPACKAGES = ("data", "datasets", "estimators", "fusion", "inspection", "io", "metrics",
               "modalities", "model_selection", "nn")
# Helpers the estimators use on single cells and parameters: importable from
# their private modules, not offered as public names.
PRIVATE_HELPERS = {
    "data": ["check_image_array", "check_image_size", "is_missing", "normalisation_stats",
             "resolve_augmentation"],
    "modalities": ["check_column_present", "check_image_cells"],
    "nn": ["load_state_dict_file", "resolve_weights"],
}


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_public_names_are_documented(subpackage):
    module = importlib.import_module(f"skmultimodal.{subpackage}")
    api = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    for name in module.__all__:
        assert hasattr(module, name)
        assert f"`{name}`" in api, f"skmultimodal.{subpackage}.{name} is not in docs/api.md"


@pytest.mark.parametrize("subpackage", sorted(PRIVATE_HELPERS))
def test_helpers_are_not_public(subpackage):
    module = importlib.import_module(f"skmultimodal.{subpackage}")
    for name in PRIVATE_HELPERS[subpackage]:
        assert name not in module.__all__ and not hasattr(module, name)
