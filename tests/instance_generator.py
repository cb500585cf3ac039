"""Tiny configurations of every public estimator and the checks they may fail.

``INIT_PARAMS`` keeps the common tests fast: small networks, tiny images and
few epochs. ``EXPECTED_FAILED_CHECKS`` is the one place where a scikit-learn
check an estimator does not pass is listed, each with its reason.
"""

from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from skmultimodal.estimators import ImageClassifier
from skmultimodal.mil import ImageBagClassifier
from skmultimodal.modalities import ImageModality, TabularModality
from skmultimodal.survival import (
    CrossAttentionFusionSurvival,
    IntermediateFusionSurvival,
    TabularMLPSurvival,
)
from skmultimodal.utils.discovery import all_estimators

# Enough epochs for scikit-learn's accuracy checks on small blobs. The image
# estimators read scikit-learn's feature vectors as images one pixel high:
# they say that those values are to be used as they are (a float image
# outside [0, 1] is an error until its range is stated).
_CHECK_RANGE = None
INIT_PARAMS = {
    # scikit-learn's feature vectors read as images: no flips or affine
    # transforms of them (the default augmentation is for pictures)
    "ImageClassifier": dict(
        backbone="simple_cnn", image_size=8, max_epochs=30, batch_size=32, lr=1e-2,
        intensity_range=_CHECK_RANGE, augment=False, random_state=0, device="cpu",
    ),
    "ImageEmbedder": dict(backbone="simple_cnn", image_size=8, intensity_range=_CHECK_RANGE,
                          random_state=0, device="cpu"),
    # batches of 4 images: scikit-learn's checks fit on as few as 10 rows
    "ContrastivePretrainer": dict(backbone="simple_cnn", image_size=8, max_epochs=2,
                                  batch_size=4, intensity_range=_CHECK_RANGE, random_state=0,
                                  device="cpu"),
    "TabularMLPClassifier": dict(
        hidden_layer_sizes=(16,), max_epochs=30, batch_size=32, lr=1e-2, random_state=0,
        device="cpu",
    ),
    # On scikit-learn's numeric arrays, fusion estimators see one tabular
    # modality holding every column (columns=None).
    "IntermediateFusionClassifier": dict(
        modalities=[("tab", TabularModality(None, hidden_layer_sizes=(16,)))],
        embed_dim=16, head_hidden_sizes=(16,), max_epochs=20, lr=1e-2, random_state=0,
        device="cpu",
    ),
    "CrossAttentionFusionClassifier": dict(
        modalities=[("tab", TabularModality(None, hidden_layer_sizes=(16,)))],
        embed_dim=16, n_heads=2, n_layers=1, n_tokens=2, max_epochs=20, lr=1e-2,
        random_state=0, device="cpu",
    ),
    "LateFusionClassifier": dict(modalities=[("tab", LogisticRegression(), None)]),
    "DeepFeatureExtractor": dict(
        modalities=[("image", ImageModality(None, backbone="simple_cnn", image_size=8,
                                            intensity_range=_CHECK_RANGE))],
        max_epochs=3, lr=1e-2, random_state=0, device="cpu",
    ),
}

# name -> {check name: reason}; the target is to keep this empty.
_SHUFFLED_BATCHES = (
    "trained on shuffled mini-batches: a row repeated k times lands in other "
    "batches than one row of weight k, so the fits differ (as for scikit-learn's "
    "SGD and MLP estimators); tests/estimators/test_sample_weight.py checks what "
    "does hold exactly (equal weights = none, weight 0 = row removed) and that "
    "weights act as class_weight does"
)
EXPECTED_FAILED_CHECKS = {
    name: {"check_sample_weight_equivalence_on_dense_data": _SHUFFLED_BATCHES}
    for name in ("ImageClassifier", "TabularMLPClassifier", "IntermediateFusionClassifier",
                 "CrossAttentionFusionClassifier", "DeepFeatureExtractor")
}
EXPECTED_FAILED_CHECKS["ContrastivePretrainer"] = {
    "check_methods_subset_invariance": (
        "float32 convolutions run other kernels for other batch sizes, so the "
        "embedding of a row alone and within a batch differ in the last bits (2 of "
        "2560 values by 4e-7, above the check's atol of 1e-7 for values near 0); the "
        "ImageEmbedder given these trained weights fails the same way, and passes "
        "with its random ones by chance of their scale"
    ),
}


# Configurations on the multimodal tables of make_multimodal_classification
# (column "image", columns "tab_0", ...), for the multimodal common checks.
_TAB = ["tab_0", "tab_1", "tab_2", "tab_3"]


def _modalities():
    return [("img", ImageModality("image", backbone="simple_cnn", image_size=16)),
            ("tab", TabularModality(_TAB, hidden_layer_sizes=(8,)))]


MULTIMODAL_PARAMS = {
    "ImageClassifier": dict(column="image", backbone="simple_cnn", image_size=16,
                            max_epochs=2, random_state=0, device="cpu"),
    "TabularMLPClassifier": dict(columns=_TAB, hidden_layer_sizes=(8,), max_epochs=3,
                                 random_state=0, device="cpu"),
    "IntermediateFusionClassifier": dict(
        modalities=_modalities(), embed_dim=8, head_hidden_sizes=(8,), max_epochs=2,
        random_state=0, device="cpu"),
    "CrossAttentionFusionClassifier": dict(
        modalities=_modalities(), embed_dim=8, n_heads=2, n_layers=1, n_tokens=2,
        max_epochs=2, random_state=0, device="cpu"),
    "LateFusionClassifier": dict(modalities=[
        ("img", ImageClassifier("image", backbone="simple_cnn", image_size=16,
                                max_epochs=2, random_state=0, device="cpu"), ["image"]),
        ("tab", LogisticRegression(), _TAB)]),
    # on the column "bag" that tests/test_multimodal_common.py adds to the table
    "ImageBagClassifier": dict(column="bag", backbone="simple_cnn", image_size=16,
                               channels=1, max_epochs=2, random_state=0, device="cpu"),
    # survival models: on the same tables with a survival target (event, time)
    "TabularMLPSurvival": dict(columns=_TAB, hidden_layer_sizes=(8,), max_epochs=3,
                               batch_size=16, random_state=0, device="cpu"),
    "IntermediateFusionSurvival": dict(
        modalities=_modalities(), embed_dim=8, head_hidden_sizes=(8,), max_epochs=2,
        batch_size=16, random_state=0, device="cpu"),
    "CrossAttentionFusionSurvival": dict(
        modalities=_modalities(), embed_dim=8, n_heads=2, n_layers=1, n_tokens=2,
        max_epochs=2, batch_size=16, random_state=0, device="cpu"),
    # a transformer, listed here for tests/io/test_skops.py, which reads this table
    # and its own transformers' (its bad-input configuration: TRANSFORMER_PARAMS)
    "ContrastivePretrainer": dict(column="image", backbone="simple_cnn", image_size=16,
                                  max_epochs=1, batch_size=16, random_state=0,
                                  device="cpu"),
}

# The survival models: scikit-learn's checks (class or numeric targets) do not
# apply; the library's multimodal and bad-input checks run on them with a
# survival target (tests/test_multimodal_common.py).
_SURVIVAL_ESTIMATORS = (TabularMLPSurvival, IntermediateFusionSurvival,
                        CrossAttentionFusionSurvival)

# Bag estimators read the column "bag"; their bad inputs (bags that are not
# sequences, missing or unreadable instances...) are tested in tests/mil.
_BAG_ESTIMATORS = (ImageBagClassifier,)


# The transformers, on the same tables, for the bad-input checks.
TRANSFORMER_PARAMS = {
    "ImageEmbedder": dict(column="image", backbone="simple_cnn", image_size=16,
                          random_state=0, device="cpu"),
    "ContrastivePretrainer": dict(column="image", backbone="simple_cnn", image_size=16,
                                  max_epochs=1, batch_size=16, random_state=0, device="cpu"),
    "DeepFeatureExtractor": dict(
        modalities=[("image", ImageModality("image", backbone="simple_cnn", image_size=16))],
        max_epochs=2, random_state=0, device="cpu"),
}


def bad_input_instances():
    """Every public estimator configured for multimodal tables (bag estimators aside)."""
    yield from (e for e in multimodal_instances() if not isinstance(e, _BAG_ESTIMATORS))
    for name, Estimator in all_estimators(type_filter="transformer"):
        if name not in TRANSFORMER_PARAMS:
            raise KeyError(f"{name} has no configuration in TRANSFORMER_PARAMS")
        yield Estimator(**TRANSFORMER_PARAMS[name])


def multimodal_instances():
    """Classifiers configured for multimodal tables, one per public classifier."""
    for name, Estimator in all_estimators(type_filter="classifier"):
        if name not in MULTIMODAL_PARAMS:
            raise KeyError(f"{name} has no configuration in MULTIMODAL_PARAMS")
        yield Estimator(**MULTIMODAL_PARAMS[name])


def _tested_instance(name, Estimator):
    return Estimator(**INIT_PARAMS.get(name, {}))


def survival_instances():
    """The survival models configured for multimodal tables."""
    for name, Estimator in all_estimators(type_filter="survival"):
        if name not in MULTIMODAL_PARAMS:
            raise KeyError(f"{name} has no configuration in MULTIMODAL_PARAMS")
        yield Estimator(**MULTIMODAL_PARAMS[name])


def estimators_to_check():
    """Yield an instance of every public estimator scikit-learn's checks apply to
    (all but the survival models), in its test configuration."""
    for name, Estimator in all_estimators():
        if not issubclass(Estimator, _SURVIVAL_ESTIMATORS):
            yield clone(_tested_instance(name, Estimator))


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, with their reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
