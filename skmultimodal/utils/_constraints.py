"""Parameter constraints of the estimators, in scikit-learn's vocabulary.

Each estimator states its ``_parameter_constraints`` with scikit-learn's
``sklearn.utils._param_validation`` objects, built from the groups below, and
checks them once at the start of ``fit`` (``self._validate_params()``), as
scikit-learn and imbalanced-learn do. Integral and real parameters accept
numpy scalars (a grid over ``numpy.arange``). Checks that involve several
parameters or the data (``embed_dim`` divisible by ``n_heads``, the columns
of X) stay in the estimators.
"""

import os
from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
#: A dropout rate: [0, 1).
RATE = Interval(Real, 0, 1, closed="left")
POSITIVE_REAL = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE_REAL = Interval(Real, 0, None, closed="left")
BACKBONES = StrOptions({"simple_cnn", "resnet18", "resnet50"})
ATTENTIONS = StrOptions({"eca", "cbam"})
#: "auto", "cpu", "cuda:1"... or a torch.device: resolve_device says what is wrong
DEVICE = "no_validation"
MEMORY = [None, str, os.PathLike, HasMethods(["cache"])]

#: Named augmentation presets (see ``skmultimodal.data.default_augmentation``).
AUGMENT_PRESETS = ("default", "generic", "light", "ultrasound", "mammography", "histology")
#: Learning-rate schedules of the network estimators (None: constant).
LR_SCHEDULES = ("warmup_cosine", "onecycle", "constant")

#: How an image column is read and encoded (ImageModality and the image estimators).
IMAGE = {
    "column": "no_validation",  # any column label
    "backbone": [BACKBONES],
    "attention": [ATTENTIONS, None],
    # a torchvision name or enum, a file path or a state dict: resolve_weights
    # checks each form with its own message
    "weights": "no_validation",
    "freeze_backbone": ["boolean"],
    "image_size": [POSITIVE_INT, tuple, list, None],
    "channels": [Options(Integral, {1, 3})],
    "normalize": [StrOptions({"imagenet"}), tuple, list, None],
    "intensity_range": [StrOptions({"auto", "minmax"}), POSITIVE_REAL, tuple, list, None],
    "augment": ["boolean", StrOptions(set(AUGMENT_PRESETS)), callable],
    "backbone_params": [dict, None],
    "roi": [str, Integral, None],
    "roi_margin": [NON_NEGATIVE_REAL],
}

#: What a bag of images adds to an image column.
BAG = {
    "pooling": [StrOptions({"gated_attention", "attention", "mean", "max"})],
    "max_instances": [POSITIVE_INT, None],
    "attention_dim": [POSITIVE_INT],
}

#: How a group of table columns is preprocessed and encoded.
TABULAR = {
    "columns": [list, tuple, str, Integral, None],
    "scale": ["boolean"],
    "impute": [StrOptions({"mean", "median", "most_frequent"}), None],
    "categorical": [StrOptions({"auto"}), list, tuple],
    "hidden_layer_sizes": [tuple, list],
    "dropout": [RATE],
    "batch_norm": ["boolean"],
    "activation": [StrOptions({"relu", "gelu", "tanh"})],
}

#: The training parameters of every network estimator.
TRAINING = {
    "max_epochs": [POSITIVE_INT],
    "batch_size": [POSITIVE_INT],
    "lr": [POSITIVE_REAL],
    "optimizer": [StrOptions({"adam", "adamw", "sgd"}), type],
    "weight_decay": [NON_NEGATIVE_REAL],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES)), None],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [POSITIVE_INT],
    "callbacks": [list, tuple, None],
    "recalibrate_bn": ["boolean", POSITIVE_INT],
    "num_workers": [StrOptions({"auto"}), NON_NEGATIVE_INT],
    "precision": [StrOptions({"bf16", "fp16"}), None],
    "channels_last": ["boolean"],
    "compile": ["boolean", dict],
    "cache_images": ["boolean"],
    "accelerator": [HasMethods(["prepare"]), None],
    "device": DEVICE,
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def pick(constraints, names):
    """The constraints of ``names`` only (an estimator taking part of a group)."""
    return {name: constraints[name] for name in names}
