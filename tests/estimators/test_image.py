"""ImageClassifier: input forms, labels, reproducibility, persistence, bad input."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skmultimodal import ImageClassifier
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.nn import get_backbone

FAST = dict(backbone="simple_cnn", image_size=16, max_epochs=3, batch_size=16, augment=False,
            random_state=0, device="cpu")


@pytest.fixture(scope="module")
def image_data():
    X, y = make_multimodal_classification(80, image_size=16, image_share=1.0, random_state=0)
    return np.stack(X["image"].to_list()), y


def _write_images(folder, images, modes=("L",), fmt="png"):
    paths = []
    for i, img in enumerate(images):
        mode = modes[i % len(modes)]
        pil = Image.fromarray(img).convert(mode)
        if i % 3 == 1:  # varying sizes are resized
            pil = pil.resize((20, 24))
        path = folder / f"img_{i}.{fmt}"
        pil.save(path)
        paths.append(path)
    return paths


def test_learns_from_image_array(image_data):
    images, y = image_data
    clf = ImageClassifier(**dict(FAST, max_epochs=15, lr=3e-3)).fit(images, y)
    assert clf.score(images, y) > 0.85
    proba = clf.predict_proba(images)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.n_iter_ == 15 and len(clf.net_.history) == 15


@pytest.mark.parametrize("channels_last", [None, 1, 3, 4])
def test_accepts_grey_rgb_rgba_arrays(image_data, channels_last):
    images, y = image_data
    if channels_last is not None:
        images = np.repeat(images[..., None], channels_last, axis=-1)
    clf = ImageClassifier(**FAST).fit(images, y)
    assert clf.predict(images).shape == y.shape


@pytest.mark.parametrize("fmt,modes", [("png", ("L", "RGB", "RGBA")), ("jpg", ("L", "RGB")),
                                       ("tif", ("L", "RGB")), ("bmp", ("RGB",))])
def test_reads_image_files_from_a_dataframe(tmp_path, image_data, fmt, modes):
    images, y = image_data
    paths = _write_images(tmp_path, images[:40], modes, fmt)
    X = pd.DataFrame({"path": [str(p) for p in paths], "age": np.arange(40)})
    clf = ImageClassifier(column="path", **FAST).fit(X, y[:40])
    assert clf.predict(X).shape == (40,)
    # pathlib.Path cells and a plain list of paths work the same way
    np.testing.assert_allclose(clf.predict_proba(pd.DataFrame({"path": paths})),
                               clf.predict_proba(X))
    np.testing.assert_allclose(clf.predict_proba([str(p) for p in paths]),
                               clf.predict_proba(X))


def test_files_and_arrays_give_the_same_predictions(tmp_path, image_data):
    images, y = image_data
    paths = _write_images(tmp_path, images[:30])
    resized = [np.asarray(Image.open(p)) for p in paths]
    X_files = pd.DataFrame({"img": [str(p) for p in paths]})
    X_arrays = pd.DataFrame({"img": pd.Series(resized, dtype=object)})
    clf = ImageClassifier(column="img", **FAST).fit(X_files, y[:30])
    np.testing.assert_allclose(clf.predict_proba(X_files), clf.predict_proba(X_arrays))


def test_string_and_signed_labels(image_data):
    images, y = image_data
    for labels in (np.array(["benign", "malignant"])[y], np.array([-1, 1])[y]):
        clf = ImageClassifier(**FAST).fit(images, labels)
        assert set(clf.classes_) == set(labels)
        assert set(clf.predict(images)) <= set(labels)


def test_multiclass():
    X, y = make_multimodal_classification(90, n_classes=3, image_size=16, image_share=1.0,
                                          random_state=1)
    clf = ImageClassifier(column="image", **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (90, 3)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_same_random_state_same_model_and_other_state_differs(image_data):
    images, y = image_data
    a = ImageClassifier(**dict(FAST, augment=True)).fit(images, y).predict_proba(images)
    b = ImageClassifier(**dict(FAST, augment=True)).fit(images, y).predict_proba(images)
    c = ImageClassifier(**dict(FAST, augment=True, random_state=1)).fit(images, y)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c.predict_proba(images))


def test_fit_does_not_touch_global_torch_rng(image_data):
    images, y = image_data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ImageClassifier(**FAST).fit(images, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_augmentation_is_off_at_predict_time(image_data):
    images, y = image_data
    clf = ImageClassifier(**dict(FAST, augment=True)).fit(images, y)
    np.testing.assert_array_equal(clf.predict_proba(images), clf.predict_proba(images))


def test_joblib_and_pickle_round_trip(tmp_path, image_data):
    images, y = image_data
    clf = ImageClassifier(**FAST).fit(images, y)
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(images), clf.predict_proba(images))
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(images), clf.predict(images))


def test_clone_and_params(image_data):
    clf = ImageClassifier(**FAST)
    params = clf.get_params()
    assert params["backbone"] == "simple_cnn" and params["image_size"] == 16
    other = clone(clf).set_params(lr=0.1, attention=None)
    assert other.lr == 0.1 and clf.lr == 1e-3
    assert not hasattr(clf, "net_")


def test_grid_search_in_parallel(image_data):
    images, y = image_data
    search = GridSearchCV(ImageClassifier(**dict(FAST, max_epochs=2)),
                          {"lr": [1e-3, 1e-2], "dropout": [0.0, 0.2]}, cv=2, n_jobs=2)
    search.fit(images, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.predict(images).shape == y.shape


def test_early_stopping_holds_out_validation(image_data):
    images, y = image_data
    clf = ImageClassifier(**dict(FAST, max_epochs=30, early_stopping=True,
                                 n_iter_no_change=2, validation_fraction=0.25)).fit(images, y)
    assert "valid_loss" in clf.net_.history[-1]
    assert clf.n_iter_ <= 30
    # default: no hidden validation split
    plain = ImageClassifier(**FAST).fit(images, y)
    assert "valid_loss" not in plain.net_.history[-1]


class _Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_epoch_end(self, net, **kwargs):
        self.calls.append(len(net.history))


def test_user_callbacks_are_copied_not_mutated(image_data):
    images, y = image_data
    recorder = _Recorder()
    clf = ImageClassifier(**dict(FAST, callbacks=[("rec", recorder)])).fit(images, y)
    assert recorder.calls == []
    used = dict(clf.net_.callbacks_)["rec"]
    assert used.calls == [1, 2, 3]


def test_frozen_backbone_keeps_loaded_weights(tmp_path, image_data):
    images, y = image_data
    torch.manual_seed(0)
    state = get_backbone("resnet18").state_dict()
    torch.save(state, tmp_path / "resnet18.pt")
    clf = ImageClassifier(backbone="resnet18", weights=tmp_path / "resnet18.pt",
                          freeze_backbone=True, image_size=16, max_epochs=2,
                          random_state=0, device="cpu").fit(images, y)
    trained = clf.net_.module_.encoder.state_dict()
    for key, value in state.items():
        torch.testing.assert_close(trained[key], value)


def test_attention_backbones_train(image_data):
    images, y = image_data
    for attention in ("eca", "cbam"):
        clf = ImageClassifier(backbone="resnet18", attention=attention, image_size=16,
                              max_epochs=1, random_state=0, device="cpu").fit(images, y)
        assert clf.predict(images[:4]).shape == (4,)
    from skmultimodal.nn import ECA

    cnn = ImageClassifier(attention="eca", **FAST).fit(images, y)
    n_eca = sum(isinstance(m, ECA) for m in cnn.net_.module_.modules())
    assert n_eca == len(cnn.net_.module_.encoder.blocks)  # one per convolution block


def test_class_weight_and_optimizers(image_data):
    images, y = image_data
    for kw in (dict(class_weight="balanced", optimizer="sgd"),
               dict(class_weight={0: 1.0, 1: 3.0}, optimizer="adamw")):
        clf = ImageClassifier(**dict(FAST, **kw)).fit(images, y)
        assert clf.predict(images).shape == y.shape


def test_quiet_by_default_and_verbose_prints(image_data, capsys):
    images, y = image_data
    ImageClassifier(**dict(FAST, max_epochs=1)).fit(images, y)
    assert capsys.readouterr().out == ""
    ImageClassifier(**dict(FAST, max_epochs=1, verbose=1)).fit(images, y)
    assert "train_loss" in capsys.readouterr().out


def test_dataloader_workers_read_files(tmp_path, image_data):
    images, y = image_data
    paths = [str(p) for p in _write_images(tmp_path, images[:32])]
    clf = ImageClassifier(**dict(FAST, max_epochs=1, num_workers=2)).fit(paths, y[:32])
    assert clf.predict(paths).shape == (32,)


# -- bad input ------------------------------------------------------------
def test_missing_column_lists_available(image_data):
    X = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    with pytest.raises(KeyError, match=r"'path'.*available columns: \['a', 'b'\]"):
        ImageClassifier(column="path", **FAST).fit(X, [0, 1])


def test_missing_image_file_names_path_and_row(tmp_path):
    X = pd.DataFrame({"p": [str(tmp_path / "nope.png")] * 2}, index=["case1", "case2"])
    with pytest.raises(FileNotFoundError, match=r"nope\.png.*row 'case1'"):
        ImageClassifier(column="p", **FAST).fit(X, [0, 1])


def test_unreadable_image_file_names_path_and_row(tmp_path, image_data):
    images, y = image_data
    paths = [str(p) for p in _write_images(tmp_path, images[:10])]
    (tmp_path / "broken.png").write_bytes(b"not an image at all")
    paths[4] = str(tmp_path / "broken.png")
    X = pd.DataFrame({"p": paths})
    with pytest.raises(ValueError, match=r"Cannot read image file '.*broken\.png' \(row 4\)"):
        ImageClassifier(column="p", **FAST).fit(X, y[:10])


def test_wrong_image_shapes():
    with pytest.raises(ValueError, match="channels-last"):
        ImageClassifier(**FAST).fit(np.zeros((4, 8, 8, 5)), [0, 1, 0, 1])
    cells = pd.Series([np.zeros((8, 8)), np.zeros((8, 8, 2))])
    with pytest.raises(ValueError, match=r"shape \(8, 8, 2\)"):
        ImageClassifier(**FAST).fit(cells, [0, 1])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_image_array_with_nan_names_the_rows(bad):
    images = np.random.default_rng(0).random((12, 8, 8))
    images[3, 1, 2] = images[7, 0, 0] = bad
    with pytest.raises(ValueError, match=r"NaN or infinity in the images at rows \[3, 7\]"):
        ImageClassifier(**FAST).fit(images, np.arange(12) % 2)
    fitted = ImageClassifier(**FAST).fit(images[8:], [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"rows \[3, 7\]"):
        fitted.predict(images)


def test_numbers_in_image_column():
    X = pd.DataFrame({"img": [1.5, 2.5], "other": ["a", "b"]})
    with pytest.raises(TypeError, match="holds the number"):
        ImageClassifier(column="img", **FAST).fit(X, [0, 1])


def test_missing_image_cell_is_an_error():
    X = pd.DataFrame({"img": [np.zeros((8, 8)), None, np.ones((8, 8))]})
    with pytest.raises(ValueError, match=r"missing \(None/NaN\) at rows \[1\]"):
        ImageClassifier(column="img", **FAST).fit(X, [0, 1, 0])


def test_nan_in_image_array():
    images = np.zeros((4, 8, 8))
    images[2, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ImageClassifier(**FAST).fit(images, [0, 1, 0, 1])


def test_single_class_and_unseen_labels(image_data):
    images, y = image_data
    with pytest.raises(ValueError, match="only one class"):
        ImageClassifier(**FAST).fit(images, np.zeros(len(y)))
    clf = ImageClassifier(**dict(FAST, max_epochs=1)).fit(images, y)
    with pytest.raises(ValueError, match=r"never seen in fit: \[7\]"):
        clf.score(images[:3], [0, 1, 7])


def test_bad_parameters_are_named(image_data):
    images, y = image_data
    for params, value in ((dict(backbone="vgg"), "'vgg'"),
                          (dict(attention="se"), "'se'"),
                          (dict(channels=2), "2"),
                          (dict(optimizer="lbfgs"), "'lbfgs'"),
                          (dict(max_epochs=0), "0"),
                          (dict(augment="strong"), "'strong'")):
        (name,) = params
        match = rf"The '{name}' parameter of ImageClassifier must be .* Got {value} instead"
        with pytest.raises(ValueError, match=match):
            ImageClassifier(**dict(FAST, **params)).fit(images, y)


def test_dataframe_with_several_columns_needs_column():
    X = pd.DataFrame({"img": [np.zeros((8, 8))] * 2, "note": ["a", "b"]})
    with pytest.raises(ValueError, match="set column="):
        ImageClassifier(**FAST).fit(X, [0, 1])


@pytest.mark.filterwarnings("ignore::skorch.exceptions.DeviceWarning")
def test_model_saved_on_cuda_predicts_on_cpu(tmp_path, image_data, monkeypatch):
    """A model whose net and device say CUDA loads on a machine without a GPU."""
    images, y = image_data
    clf = ImageClassifier(**FAST).fit(images, y)
    expected = clf.predict_proba(images)
    clf.device_ = "cuda"
    clf.net_.device = "cuda"
    joblib.dump(clf, tmp_path / "gpu.joblib")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA"):
        loaded = joblib.load(tmp_path / "gpu.joblib")
    assert loaded.device_ == "cpu" and str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(images), expected)


def test_backbone_params_shape_the_network(image_data):
    images, y = image_data
    clf = ImageClassifier(**dict(FAST, backbone_params={"channels": (4, 8)})).fit(images, y)
    assert clf.net_.module_.encoder.num_features == 8
    with pytest.raises(ValueError, match="backbone_params"):
        ImageClassifier(**dict(FAST, backbone_params=[4, 8])).fit(images, y)
