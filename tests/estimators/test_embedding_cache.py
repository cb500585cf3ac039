"""ImageEmbedder(memory=...): per-image embedding cache."""

import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

from skmultimodal import ImageEmbedder
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.utils._cache import CACHE_FOLDER, EmbeddingStore, check_memory

FAST = dict(backbone="simple_cnn", image_size=16, channels=1, random_state=0,
            device="cpu", batch_size=8)


def _n_entries(folder):
    return sum(f.endswith(".npy") for _, _, files in os.walk(folder) for f in files)


@pytest.fixture(scope="module")
def images():
    X, y = make_multimodal_classification(40, image_size=16, image_share=0.8,
                                          random_state=0)
    return np.stack(X["image"].to_list()), y


@pytest.fixture
def files(tmp_path, images):
    """The images as PNG files: a DataFrame with an ``image`` path column."""
    stack, y = images
    folder = tmp_path / "png"
    folder.mkdir()
    paths = []
    for i, im in enumerate(stack[:12]):
        path = folder / f"{i}.png"
        Image.fromarray(im).save(path)
        paths.append(str(path))
    return pd.DataFrame({"image": paths}), y[:12]


def test_second_transform_computes_nothing(tmp_path, files, encoded):
    X, _ = files
    cache = tmp_path / "cache"
    emb = ImageEmbedder("image", memory=cache, **FAST).fit(X)
    first = emb.transform(X)
    assert encoded["images"] == 12 and _n_entries(cache / CACHE_FOLDER) == 12
    second = emb.transform(X)
    assert encoded["images"] == 12  # all read from the cache
    np.testing.assert_array_equal(first, second)
    plain = ImageEmbedder("image", **FAST).fit(X).transform(X)
    np.testing.assert_allclose(first, plain, rtol=1e-5, atol=1e-6)
    assert not np.allclose(first[0], first[1])  # per-image entries, not one array


def test_new_fold_computes_only_new_images(tmp_path, files, encoded):
    X, _ = files
    emb = ImageEmbedder("image", memory=str(tmp_path), **FAST).fit(X)
    a = emb.transform(X.iloc[:8])
    assert encoded["images"] == 8
    b = emb.transform(X.iloc[4:])  # rows 4..7 shared, 8..11 new
    assert encoded["images"] == 12
    np.testing.assert_array_equal(a[4:], b[:4])


def test_changed_file_is_recomputed(tmp_path, files, images, encoded):
    X, _ = files
    emb = ImageEmbedder("image", memory=tmp_path / "c", **FAST).fit(X)
    before = emb.transform(X)
    path = X["image"].iloc[0]
    Image.fromarray(images[0][20]).save(path)  # another image's content
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    after = emb.transform(X)
    assert encoded["images"] == 12 + 1
    assert not np.allclose(before[0], after[0])
    np.testing.assert_array_equal(before[1:], after[1:])
    plain = ImageEmbedder("image", **FAST).fit(X).transform(X.iloc[:1])
    np.testing.assert_allclose(after[:1], plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("change", [{"image_size": 12}, {"normalize": None},
                                    {"random_state": 1}])
def test_settings_changing_embeddings_recompute(tmp_path, files, encoded, change):
    X, _ = files
    cache = tmp_path / "c"
    reference = ImageEmbedder("image", memory=cache, **FAST).fit(X).transform(X)
    assert encoded["images"] == 12
    changed = ImageEmbedder("image", memory=cache, **{**FAST, **change}).fit(X)
    out = changed.transform(X)
    assert encoded["images"] == 24  # nothing reused
    assert not np.allclose(out, reference)
    np.testing.assert_allclose(
        out, ImageEmbedder("image", **{**FAST, **change}).fit(X).transform(X),
        rtol=1e-5, atol=1e-6)
    # the first setting is still cached, and a fresh estimator finds it
    again = ImageEmbedder("image", memory=cache, **FAST).fit(X).transform(X)
    np.testing.assert_array_equal(again, reference)
    assert encoded["images"] == 24 + 12  # the reference without cache above


def test_array_images_keyed_by_content(tmp_path, images, encoded):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:10])
    a = emb.transform(stack[:10])
    assert encoded["images"] == 10
    modified = stack[:10].copy()
    modified[3, 0, 0] ^= 1  # one pixel of one image
    b = emb.transform(modified)
    assert encoded["images"] == 11
    np.testing.assert_array_equal(np.delete(a, 3, axis=0), np.delete(b, 3, axis=0))
    # the same content as float is another image (dtype is part of the key)
    emb.transform(stack[:2].astype(np.float32))
    assert encoded["images"] == 13


def test_resnet18_with_attention_matches_no_cache(tmp_path, images, encoded):
    stack, _ = images
    params = dict(backbone="resnet18", attention="eca", image_size=32, channels=3,
                  random_state=0, device="cpu", batch_size=16)
    emb = ImageEmbedder(memory=tmp_path, **params).fit(stack[:10])
    cached = emb.transform(stack[:10])
    np.testing.assert_allclose(
        cached, ImageEmbedder(**params).fit(stack[:10]).transform(stack[:10]),
        rtol=1e-4, atol=1e-5)
    n = encoded["images"]
    np.testing.assert_array_equal(emb.transform(stack[:10]), cached)
    assert encoded["images"] == n


def test_pickled_embedder_reuses_cache(tmp_path, files, encoded):
    X, _ = files
    emb = ImageEmbedder("image", memory=joblib.Memory(tmp_path, verbose=0), **FAST).fit(X)
    Z = emb.transform(X)
    joblib.dump(emb, tmp_path / "emb.joblib")
    loaded = joblib.load(tmp_path / "emb.joblib")
    np.testing.assert_array_equal(loaded.transform(X), Z)
    assert encoded["images"] == 12
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(emb)).transform(X), Z)


def test_pipeline_identical_and_each_image_computed_once(tmp_path, images, encoded):
    stack, y = images
    X = pd.DataFrame({"image": list(stack)})

    def pipe(memory):
        return make_pipeline(ImageEmbedder("image", memory=memory, **FAST),
                             LogisticRegression(max_iter=2000))

    plain = cross_validate(pipe(None), X, y, cv=4, return_estimator=True)
    encoded["images"] = 0
    cached = cross_validate(pipe(tmp_path), X, y, cv=4, return_estimator=True)
    assert encoded["images"] == len(X)  # 4 fits and 4 scorings, each image once
    np.testing.assert_allclose(cached["test_score"], plain["test_score"])
    for a, b in zip(plain["estimator"], cached["estimator"]):
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X),
                                   rtol=1e-5, atol=1e-6)
    assert _n_entries(tmp_path) == len(X)


def test_concurrent_writers_share_the_store(tmp_path, images):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack)
    reference = ImageEmbedder(**FAST).fit(stack).transform(stack)
    # two workers embedding the same images into an empty store at once
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(emb.transform, [stack, stack[::-1]]))
    np.testing.assert_allclose(outs[0], reference, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[1][::-1], reference, rtol=1e-5, atol=1e-6)
    names = [f for _, _, fs in os.walk(tmp_path) for f in fs]
    assert sum(f.endswith(".npy") for f in names) == len(stack)
    assert not [f for f in names if f.endswith(".tmp")]  # no partial files left
    np.testing.assert_allclose(emb.transform(stack), reference, rtol=1e-5, atol=1e-6)


def test_unreadable_entry_is_recomputed(tmp_path, images, encoded):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:3])
    Z = emb.transform(stack[:3])
    entry = next(p for p in (tmp_path / CACHE_FOLDER).rglob("*.npy"))
    entry.write_bytes(b"not an array")
    np.testing.assert_allclose(emb.transform(stack[:3]), Z, rtol=1e-5, atol=1e-6)
    assert encoded["images"] == 4


@pytest.mark.parametrize("memory", [3, ["folder"], object()])
def test_memory_of_wrong_type(images, memory):
    stack, _ = images
    with pytest.raises(TypeError, match="memory must be None, a folder"):
        ImageEmbedder(memory=memory, **FAST).fit(stack[:4])


def test_check_memory_forms(tmp_path):
    assert check_memory(None) is None
    assert check_memory(joblib.Memory(None, verbose=0)) is None
    assert check_memory(joblib.Memory(tmp_path, verbose=0)).location == tmp_path
    assert isinstance(check_memory(str(tmp_path)), EmbeddingStore)
    with pytest.raises(ValueError, match="not a folder"):
        check_memory("")


def test_weights_changed_in_place_are_a_new_encoder(tmp_path, images, encoded):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:5])
    before = emb.transform(stack[:5])
    with torch.no_grad():
        next(emb.backbone_.parameters()).mul_(1.5)  # the memoised hash must notice
    after = emb.transform(stack[:5])
    assert encoded["images"] == 10
    assert not np.allclose(before, after)
