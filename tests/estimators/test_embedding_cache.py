"""ImageEmbedder(memory=...): per-image embedding cache."""

import os
import pickle
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
from skmultimodal.estimators._cache import (
    CACHE_FOLDER,
    CacheNotWritableWarning,
    EmbeddingStore,
    check_memory,
    image_key,
)

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
                                    {"intensity_range": (0, 300)}, {"random_state": 1}])
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
    # the same values as float are another image (dtype is part of the key);
    # values 0 and 1 are valid intensities for both dtypes
    binary = (stack[:2] > np.median(stack[:2])).astype(np.uint8)
    emb.transform(binary)
    assert encoded["images"] == 13
    emb.transform(binary.astype(np.float32))
    assert encoded["images"] == 15


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
    with pytest.raises(TypeError, match="The .memory. parameter of ImageEmbedder must be None"):
        ImageEmbedder(memory=memory, **FAST).fit(stack[:4])


def test_check_memory_forms(tmp_path):
    assert check_memory(None) is None
    assert check_memory(joblib.Memory(None, verbose=0)) is None
    assert check_memory(joblib.Memory(tmp_path, verbose=0)).location == tmp_path
    assert isinstance(check_memory(str(tmp_path)), EmbeddingStore)
    with pytest.raises(ValueError, match="not a folder"):
        check_memory("")
    home = os.path.expanduser("~")
    assert check_memory("~/.cache/skmm").location == Path(home) / ".cache" / "skmm"


def test_weights_changed_in_place_are_a_new_encoder(tmp_path, images, encoded):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:5])
    before = emb.transform(stack[:5])
    with torch.no_grad():
        next(emb.backbone_.parameters()).mul_(1.5)  # the memoised hash must notice
    after = emb.transform(stack[:5])
    assert encoded["images"] == 10
    assert not np.allclose(before, after)


# -- content key --------------------------------------------------------------------
def _png_bytes(array):
    """A PNG stored without compression: its size depends on the shape only."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


def test_same_size_rewrite_keeping_mtime_is_recomputed(tmp_path, images, encoded):
    """``cp -p`` / ``rsync -t`` / ``tar -x``: new bytes, same size and mtime."""
    stack, _ = images
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        paths[-1].write_bytes(_png_bytes(stack[i]))
    X = pd.DataFrame({"image": [str(p) for p in paths]})
    emb = ImageEmbedder("image", memory=tmp_path / "c", **FAST).fit(X)
    before = emb.transform(X)
    old = os.stat(paths[0])
    new_bytes = _png_bytes(stack[20])
    assert len(new_bytes) == old.st_size
    with open(paths[0], "r+b") as f:  # in place, as cp -p does
        f.write(new_bytes)
    os.utime(paths[0], ns=(old.st_atime_ns, old.st_mtime_ns))
    now = os.stat(paths[0])
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (
        old.st_size, old.st_mtime_ns, old.st_ino)
    after = emb.transform(X)
    assert encoded["images"] == 3 + 1
    np.testing.assert_array_equal(after[1:], before[1:])
    expected = ImageEmbedder(**FAST).fit(stack[:1]).transform(stack[20:21])
    np.testing.assert_allclose(after[:1], expected, rtol=1e-5, atol=1e-6)


def test_file_key_is_the_content(tmp_path, images, monkeypatch):
    from skmultimodal.estimators import _cache

    stack, _ = images
    a, b = tmp_path / "a.png", tmp_path / "sub" / "b.png"
    b.parent.mkdir()
    a.write_bytes(_png_bytes(stack[0]))
    b.write_bytes(a.read_bytes())
    assert image_key(str(a)) == image_key(b)  # same bytes, one entry
    old = os.stat(a)
    with pytest.raises(FileNotFoundError, match="Image file not found"):
        image_key(tmp_path / "missing.png")
    with pytest.raises(FileNotFoundError, match="Image file not found"):
        image_key(tmp_path / "sub")

    # the per-process memo: an unchanged file is hashed once, a rewrite that
    # keeps size and mtime is hashed again (its ctime changed)
    hashed = []
    original = _cache._hash_file
    monkeypatch.setattr(_cache, "_hash_file", lambda f: hashed.append(1) or original(f))
    monkeypatch.setattr(_cache, "_MEMO", True)
    monkeypatch.setattr(_cache, "_RACY_NS", -10**18)  # remember even fresh files
    monkeypatch.setattr(_cache, "_CONTENT_KEYS", {})
    first = image_key(a)
    assert image_key(a) == first and len(hashed) == 1
    time.sleep(0.05)  # past the file system's timestamp granularity
    with open(a, "r+b") as f:
        f.write(_png_bytes(stack[1]))
    os.utime(a, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert image_key(a) != first and len(hashed) == 2
    # files changed just before they are hashed are not remembered
    monkeypatch.setattr(_cache, "_RACY_NS", 10**18)
    monkeypatch.setattr(_cache, "_CONTENT_KEYS", {})
    image_key(a)
    image_key(a)
    assert len(hashed) == 4


# -- permissions and read-only caches ------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755),
                                                        (0o027, 0o640, 0o750)])
def test_entries_follow_the_umask(tmp_path, images, umask, file_mode, dir_mode):
    stack, _ = images
    previous = os.umask(umask)
    try:
        ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:3]).transform(stack[:3])
    finally:
        os.umask(previous)
    root = tmp_path / CACHE_FOLDER
    files = [p for p in root.rglob("*") if p.is_file()]
    assert sorted(p.suffix for p in files) == [".json", ".npy", ".npy", ".npy"]
    for path in files:
        assert path.stat().st_mode & 0o777 == file_mode, path
    for path in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        assert path.stat().st_mode & 0o777 == dir_mode, path


def _refuse_writes(monkeypatch):
    def refuse(self, path, write):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(EmbeddingStore, "_write", refuse)


def test_read_only_cache_is_used_and_the_rest_computed(tmp_path, images, encoded,
                                                       monkeypatch):
    stack, _ = images
    reference = ImageEmbedder(**FAST).fit(stack[:12]).transform(stack[:12])
    encoded["images"] = 0
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:12])
    emb.transform(stack[:6])  # 6 entries stored
    assert encoded["images"] == 6
    _refuse_writes(monkeypatch)  # e.g. another user's folder
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = emb.transform(stack[:12])
    assert encoded["images"] == 6 + 6  # the 6 stored ones were read
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert issubclass(caught[0].category, CacheNotWritableWarning)
    message = str(caught[0].message)
    assert str(tmp_path / CACHE_FOLDER) in message and "Permission denied" in message
    assert _n_entries(tmp_path) == 6
    # a new encoder: its folder (key.json) cannot be created either
    other = ImageEmbedder(memory=tmp_path, **{**FAST, "random_state": 1}).fit(stack[:4])
    with pytest.warns(CacheNotWritableWarning) as record:
        other.transform(stack[:4])
    assert len(record) == 1
    # nothing to compute, nothing to write: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb.transform(stack[:6])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores file permissions")
def test_read_only_folder(tmp_path, images, encoded):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:8])
    first = emb.transform(stack[:4])
    folders = [tmp_path, *(p for p in tmp_path.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        with pytest.warns(CacheNotWritableWarning, match="cannot be written") as record:
            out = emb.transform(stack[:8])
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert len(record) == 1
    assert encoded["images"] == 4 + 4
    np.testing.assert_array_equal(out[:4], first)
    assert _n_entries(tmp_path) == 4


# -- entries that are not outputs of the encoder ----------------------------------------
@pytest.mark.parametrize("bad", [
    np.zeros(3, dtype=np.float32),  # another encoder's width
    np.zeros((32, 2, 2), dtype=np.float32),  # a feature map where an embedding goes
    "float64",  # the right values in another dtype
    "npz",  # an archive under the entry's name
])
def test_wrong_entry_is_recomputed(tmp_path, images, encoded, bad):
    stack, _ = images
    emb = ImageEmbedder(memory=tmp_path, **FAST).fit(stack[:4])
    Z = emb.transform(stack[:4])
    entry = tmp_path / CACHE_FOLDER / next(
        p.relative_to(tmp_path / CACHE_FOLDER) for p in (tmp_path / CACHE_FOLDER).rglob("*.npy")
        if np.array_equal(np.load(p), Z[0]))
    if isinstance(bad, np.ndarray):
        np.save(entry, bad)
    elif bad == "float64":
        np.save(entry, Z[0].astype(np.float64))
    else:
        with open(entry, "wb") as f:
            np.savez(f, Z[0])
    out = emb.transform(stack[:4])  # no image_size error
    assert encoded["images"] == 5
    np.testing.assert_array_equal(out[1:], Z[1:])
    np.testing.assert_allclose(out[0], Z[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.load(entry), out[0])  # rewritten
    emb.transform(stack[:4])
    assert encoded["images"] == 5
