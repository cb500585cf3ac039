"""Parameter descriptions shared by several estimators come from one place."""

import pytest

from skmultimodal import (
    CrossAttentionFusionClassifier,
    DeepFeatureExtractor,
    ImageClassifier,
    ImageEmbedder,
    ImageModality,
    IntermediateFusionClassifier,
    TabularMLPClassifier,
)
from skmultimodal.utils._docstrings import SHARED_PARAMS, Substitution

NETWORK = ["recalibrate_bn", "precision", "compile", "accelerator"]
IMAGE_NETWORK = NETWORK + ["num_workers", "channels_last"]
USES = {
    ImageClassifier: IMAGE_NETWORK + ["intensity_range"],
    TabularMLPClassifier: NETWORK,
    IntermediateFusionClassifier: IMAGE_NETWORK,
    CrossAttentionFusionClassifier: IMAGE_NETWORK,
    ImageEmbedder: ["intensity_range"],
    DeepFeatureExtractor: ["num_workers", "precision"],
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


def test_every_shared_text_reads_as_written():
    # the texts are inserted as they are, never formatted again: "%%" would
    # stay doubled in help() and in the API reference
    for name, text in SHARED_PARAMS.items():
        assert "%%" not in text, name
    from skmultimodal.pretraining import ContrastivePretrainer

    for cls in [*USES, ContrastivePretrainer]:
        assert "%%" not in cls.__doc__, cls.__name__


def test_substitution_fills_fields_and_keeps_empty_docstrings():
    @Substitution(x="filled")
    class A:
        """Text %(x)s."""

    @Substitution(x="filled")
    class B:
        pass

    assert A.__doc__ == "Text filled."
    assert B.__doc__ is None


# numpydoc checks every public callable passes: a docstring (GL08), parameters
# documented under their own names (PR02, PR08, PR10) and one-line summaries that
# start with a capital letter and an infinitive verb (SS02, SS05, SS06). Missing
# parameter descriptions (PR01, PR07) and return sections (RT01) are not checked yet.
NUMPYDOC_CHECKS = {"GL08", "PR02", "PR08", "PR10", "SS02", "SS05", "SS06"}
PUBLIC_MODULES = ("", ".data", ".datasets", ".estimators", ".fusion", ".inspection", ".io",
                  ".metrics", ".mil", ".modalities", ".pretraining", ".survival",
                  ".model_selection", ".nn")


def _public_callables():
    import importlib
    import inspect

    seen = []
    for suffix in PUBLIC_MODULES:
        module = importlib.import_module("skmultimodal" + suffix)
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or not callable(obj):
                continue
            qualname = f"{obj.__module__}.{obj.__qualname__}"
            if qualname in seen:
                continue
            seen.append(qualname)
            if inspect.isclass(obj):
                seen.extend(f"{qualname}.{attr}" for attr, value in vars(obj).items()
                            if not attr.startswith("_") and callable(value))
    return seen


@pytest.mark.parametrize("name", _public_callables())
def test_public_docstrings_pass_numpydoc(name):
    validate = pytest.importorskip("numpydoc.validate").validate
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"]
              if code in NUMPYDOC_CHECKS]
    assert not errors, "\n".join(errors)
