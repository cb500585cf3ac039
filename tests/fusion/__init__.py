"""Shared helpers of the fusion tests: tiny data and fast configurations."""

import numpy as np

from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.modalities import ImageModality, TabularModality

IMAGE_SIZE = 16
TAB = [f"tab_{i}" for i in range(10)]
# Tiny, fast networks: a few epochs are enough for the API tests.
FAST = dict(max_epochs=2, batch_size=32, lr=1e-2, device="cpu", random_state=0)


def make_data(n=80, *, missing_rate=0.0, n_patients=None, random_state=0, **kwargs):
    """Synthetic image + tabular data with 16x16 grey images."""
    return make_multimodal_classification(
        n, image_size=IMAGE_SIZE, missing_rate=missing_rate, n_patients=n_patients,
        random_state=random_state, **kwargs,
    )


def image_modality(column="image", **kwargs):
    kwargs = {"backbone": "simple_cnn", "image_size": IMAGE_SIZE, "channels": 1, **kwargs}
    return ImageModality(column, **kwargs)


def tab_modality(columns=TAB, **kwargs):
    kwargs.setdefault("hidden_layer_sizes", (16,))
    return TabularModality(columns, **kwargs)


def two_modalities():
    return [("img", image_modality()), ("tab", tab_modality())]


def with_two_images(X, rng=0):
    """Add a second image column ``image2``: the first one flipped, a bit noisier."""
    rng = np.random.RandomState(rng)
    X = X.copy()
    X["image2"] = [
        None if im is None else np.clip(
            im[:, ::-1].astype(int) + rng.randint(-8, 9, im.shape), 0, 255
        ).astype(np.uint8)
        for im in X["image"]
    ]
    return X
