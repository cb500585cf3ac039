"""Parameter descriptions shared by several estimators come from one place."""

import pytest

from skmultimodal import (
    CrossAttentionFusionClassifier,
    ImageClassifier,
    ImageEmbedder,
    ImageModality,
    IntermediateFusionClassifier,
    TabularMLPClassifier,
)
from skmultimodal.fusion import DeepFeatureExtractor
from skmultimodal.utils._docstrings import SHARED_PARAMS, Substitution

NETWORK = ["recalibrate_bn", "precision", "compile", "accelerator"]
IMAGE_NETWORK = NETWORK + ["num_workers", "channels_last"]
USES = {
    ImageClassifier: IMAGE_NETWORK + ["intensity_range"],
    TabularMLPClassifier: NETWORK,
    IntermediateFusionClassifier: IMAGE_NETWORK,
    CrossAttentionFusionClassifier: IMAGE_NETWORK,
    ImageEmbedder: ["intensity_range"],
    DeepFeatureExtractor: ["intensity_range"],
    ImageModality: ["intensity_range"],
}


@pytest.mark.parametrize("cls", list(USES), ids=lambda c: c.__name__)
def test_shared_parameter_texts_are_substituted(cls):
    doc = cls.__doc__
    assert "%(" not in doc
    for name in USES[cls]:
        # the parameter line at the indentation of the other parameters
        assert "\n    " + SHARED_PARAMS[name] + "\n" in doc, (cls.__name__, name)


def test_every_shared_text_is_a_numpydoc_parameter():
    for name, text in SHARED_PARAMS.items():
        first, *rest = text.split("\n")
        assert first.startswith(f"{name} : ")
        assert rest and all(line.startswith(" " * 8) for line in rest)


def test_substitution_fills_fields_and_keeps_empty_docstrings():
    @Substitution(x="filled")
    class A:
        """Text %(x)s."""

    @Substitution(x="filled")
    class B:
        pass

    assert A.__doc__ == "Text filled."
    assert B.__doc__ is None
