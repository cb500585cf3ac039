"""Training on in-memory images prepared once per fit changes no prediction."""

import multiprocessing
import pickle

import numpy as np
import pytest
import torch

from skmultimodal import ImageClassifier
from skmultimodal.data import ImageSource
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.fusion import IntermediateFusionClassifier
from skmultimodal.modalities import ImageModality, TabularModality

N = 48
TAB = [f"tab_{i}" for i in range(4)]
IMAGE = dict(column="image", backbone="simple_cnn", image_size=16, max_epochs=3,
             batch_size=16, backbone_params={"channels": (8, 16)}, random_state=0, augment=False,
             device="cpu")


@pytest.fixture(scope="module")
def data():
    return make_multimodal_classification(N, image_size=16, n_informative=2,
                                          random_state=0)


def _fusion(**params):
    modalities = [("img", ImageModality("image", backbone="simple_cnn", image_size=16,
                                        channels=1, backbone_params={"channels": (8,)})),
                  ("tab", TabularModality(TAB, hidden_layer_sizes=(8,)))]
    return IntermediateFusionClassifier(modalities, **dict(
        dict(embed_dim=8, head_hidden_sizes=(8,), max_epochs=3, batch_size=16,
             random_state=0, device="cpu"), **params))


def _fit_predict(make, X, y, monkeypatch, fast, **fit_params):
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(ImageSource, "batch", lambda self, indices: None)
        clf = make().fit(X, y, **fit_params)
        return clf.predict_proba(X), clf


@pytest.mark.parametrize("case", ["image", "image_weights_early_stopping",
                                  "image_cache", "fusion_missing"])
def test_same_predictions_with_and_without_prepared_batches(data, case, monkeypatch):
    X, y = data
    fit_params = {}
    if case == "image":
        def make():
            return ImageClassifier(**IMAGE)
    elif case == "image_weights_early_stopping":
        fit_params["sample_weight"] = np.linspace(0.5, 2.0, N)

        def make():
            return ImageClassifier(**dict(IMAGE, early_stopping=True,
                                          validation_fraction=0.25))
    elif case == "image_cache":
        def make():
            return ImageClassifier(**dict(IMAGE, cache_images=True))
    else:
        X = X.copy()
        X.loc[X.index[::5], "image"] = None

        def make():
            return _fusion()
    p_fast, clf = _fit_predict(make, X, y, monkeypatch, True, **fit_params)
    p_slow, _ = _fit_predict(make, X, y, monkeypatch, False, **fit_params)
    np.testing.assert_allclose(p_fast, p_slow, rtol=0, atol=1e-6)
    # prediction slices a prepared tensor too, with the same result
    with monkeypatch.context() as m:
        m.setattr(ImageSource, "batch", lambda self, indices: None)
        np.testing.assert_allclose(clf.predict_proba(X), p_fast, rtol=0, atol=1e-6)


def test_the_fit_prepares_each_image_once(data, monkeypatch):
    X, y = data
    built = []
    original = ImageSource._build_stack

    def build(self):
        built.append(len(self))
        return original(self)

    monkeypatch.setattr(ImageSource, "_build_stack", build)
    clf = ImageClassifier(**dict(IMAGE, early_stopping=True, validation_fraction=0.25))
    clf.fit(X, y)
    assert sorted(built) == [N // 4, N - N // 4]  # training and validation rows
    valid = clf.net_.train_split.keywords["valid_ds"].sources["image"]

    assert pickle.loads(pickle.dumps(valid))._stack is None


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="forked DataLoader workers")
def test_workers_read_items_and_agree(data):
    X, y = data
    a = ImageClassifier(**dict(IMAGE, num_workers=2)).fit(X, y).predict_proba(X)
    b = ImageClassifier(**dict(IMAGE, num_workers=2, cache_images=True)).fit(X, y)
    np.testing.assert_array_equal(b.predict_proba(X), a)


def test_augmented_training_prepares_each_image_once(data, monkeypatch):
    X, y = data
    built = []
    original = ImageSource._build_stack

    def build(self):
        built.append(len(self))
        return original(self)

    monkeypatch.setattr(ImageSource, "_build_stack", build)
    ImageClassifier(**dict(IMAGE, augment=True, max_epochs=2)).fit(X, y)
    # the training rows once, augmented afresh in every batch of every epoch
    # and of the batch-norm pass
    assert built == [N]


@pytest.mark.parametrize("augment", [True, "ultrasound"])
def test_augmented_batches_match_reading_row_by_row(data, augment, monkeypatch):
    X, y = data
    X = X.copy()
    X.loc[X.index[::7], "image"] = None

    def make():
        return _fusion(max_epochs=2).set_params(img__augment=augment)

    p_fast, _ = _fit_predict(make, X, y, monkeypatch, True)
    p_slow, _ = _fit_predict(make, X, y, monkeypatch, False)
    np.testing.assert_allclose(p_fast, p_slow, rtol=0, atol=1e-6)
    # the augmentation draws new transforms at each epoch
    src = ImageSource(np.stack(data[0]["image"].to_list()[:4]),
                      ImageModality("image", image_size=16, channels=1,
                                    augment=True).make_transform(train=True))
    first, second = src.batch([0, 1, 2, 3]), src.batch([0, 1, 2, 3])
    assert first.shape == (4, 1, 16, 16) and not torch.equal(first, second)
