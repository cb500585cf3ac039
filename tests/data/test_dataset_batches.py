"""Whole batches sliced out of in-memory images prepared once, and the per-item fallback."""

import multiprocessing
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from skmultimodal.data import ArraySource, ImageSource, ImageTransform, MultimodalDataset, _dataset
from skmultimodal.data._bags import ImageBagSource
from skmultimodal.data._dataset import StackedBatch, collate_batch
from skmultimodal.data._transforms import default_augmentation


def _images(n=10, size=12, channels=3, seed=0):
    rng = np.random.RandomState(seed)
    shape = (n, size, size, channels) if channels > 1 else (n, size, size)
    return rng.randint(0, 256, size=shape).astype(np.uint8)


def _transform(**kw):
    return ImageTransform(kw.pop("image_size", (8, 8)), kw.pop("channels", 3),
                          kw.pop("normalize", "imagenet"), **kw)


def _per_item(ds, indices):
    return collate_batch([ds[i] for i in indices])


def _assert_same(a, b):
    (xa, ya), (xb, yb) = a, b
    assert list(xa) == list(xb)
    for k in xa:
        assert xa[k].dtype == xb[k].dtype
        torch.testing.assert_close(xa[k], xb[k], rtol=0, atol=0)
    assert ya.dtype == yb.dtype
    torch.testing.assert_close(ya, yb, rtol=0, atol=0)


@pytest.mark.parametrize("cells", ["stack", "list", "object"])
def test_batches_equal_the_per_item_batches(cells):
    images = _images()
    if cells == "list":
        images = list(images)
    elif cells == "object":
        images = np.array(list(images) + [None], dtype=object)[:-1]
    tab = np.random.RandomState(1).normal(size=(10, 3))
    ds = MultimodalDataset({"image": ImageSource(images, _transform()),
                            "tab": ArraySource(tab)},
                           y=np.arange(10) % 3, with_presence=True,
                           sample_weight=np.linspace(0.5, 2, 10))
    rows = [7, 2, 9, 2, 0]
    batch = ds.__getitems__(rows)
    assert isinstance(batch, StackedBatch)
    _assert_same(collate_batch(batch), _per_item(ds, rows))
    # as a list, it holds the items: any collate function gives the same batch
    _assert_same(torch.utils.data.default_collate(batch), _per_item(ds, rows))
    assert len(batch) == len(rows)


def test_missing_images_and_no_targets():
    images = list(_images(6, channels=1))
    images[2] = None
    images[4] = float("nan")
    src = ImageSource(np.array(images + [None], dtype=object)[:-1],
                      _transform(channels=1), allow_missing=True,
                      placeholder_shape=(1, 8, 8))
    tab = ArraySource(np.ones((6, 2)), present=[True, False, True, True, False, True])
    ds = MultimodalDataset({"img": src, "tab": tab}, with_presence=True)
    rows = list(range(6))
    batch = ds.__getitems__(rows)
    assert isinstance(batch, StackedBatch)
    _assert_same(collate_batch(batch), _per_item(ds, rows))
    x, y = collate_batch(batch)
    assert x["img_present"].tolist() == [True, True, False, True, False, True]
    assert y.dtype == torch.long and y.tolist() == [0] * 6


def test_rows_are_prepared_once(count_reads):
    ds = MultimodalDataset({"image": ImageSource(_images(), _transform())}, y=[0, 1] * 5)
    loader = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=collate_batch,
                        generator=torch.Generator().manual_seed(0))
    for _ in range(3):
        for _ in loader:
            pass
    assert count_reads.value == 10
    # single items come from the prepared tensor too, as copies
    item = ds.sources["image"][3]
    item.zero_()
    assert ds.sources["image"][3].abs().sum() > 0
    assert count_reads.value == 10


def test_augmented_rows_are_prepared_once_and_drawn_afresh(count_reads):
    images = list(_images(6, channels=1))
    images[4] = None

    def source():
        return ImageSource(np.array(images + [None], dtype=object)[:-1],
                           _transform(channels=1, augment=default_augmentation()),
                           allow_missing=True, placeholder_shape=(1, 8, 8))

    fast, slow = source(), source()
    slow._stackable = False
    rows = [5, 0, 4, 2]
    torch.manual_seed(0)
    a = fast.batch(rows)
    torch.manual_seed(0)
    b = torch.stack([slow[i] for i in rows])
    torch.testing.assert_close(a, b, rtol=0, atol=0)  # the same draws, in the same order
    assert torch.all(a[2] == 0)  # a missing row stays the zero placeholder
    reads = count_reads.value
    epochs = [fast.batch(rows) for _ in range(3)]
    assert count_reads.value == reads  # read once, augmented at every batch
    assert not torch.equal(epochs[0], epochs[1])
    # the prepared tensor holds the rows before augmentation and normalisation
    torch.testing.assert_close(fast._stack[0], fast.transform.prepare(images[0]))


def test_loader_batches_match_per_item_loading():
    images = _images(11)
    tab = np.arange(22.0).reshape(11, 2)

    def batches(fast):
        src = ImageSource(images, _transform())
        if not fast:
            src._stackable = False
        ds = MultimodalDataset({"image": src, "tab": ArraySource(tab)}, y=np.arange(11) % 2)
        loader = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=collate_batch,
                            generator=torch.Generator().manual_seed(0))
        return list(loader)

    fast, slow = batches(True), batches(False)
    assert len(fast) == len(slow) == 3
    for a, b in zip(fast, slow):
        _assert_same(a, b)


def test_the_prepared_tensor_is_neither_pickled_nor_shared():
    src = ImageSource(_images(), _transform())
    assert src.batch([0, 1]).shape == (2, 3, 8, 8)
    assert src._stack is not None
    assert pickle.loads(pickle.dumps(src))._stack is None
    sub = src.subset([3, 4])
    assert sub._stack is None
    torch.testing.assert_close(sub.batch([0, 1]), src.batch([3, 4]), rtol=0, atol=0)
    assert src.with_transform(_transform(image_size=(4, 4)))._stack is None
    ds = MultimodalDataset({"image": src, "tab": ArraySource(np.ones((10, 2)))})
    ds.clear_prepared()
    assert src._stack is None
    assert src.batch([0]).shape == (1, 3, 8, 8)  # prepared again


def _bag_source():
    bags = [[np.zeros((8, 8), np.uint8)] * 2, [np.ones((8, 8), np.uint8)]]
    return ImageBagSource(bags, _transform(channels=1), placeholder_shape=(1, 8, 8))


@pytest.mark.parametrize("case", ["paths", "callable", "sizes", "bags", "limit"])
def test_fallback_to_items(case, tmp_path, monkeypatch):
    from PIL import Image

    images = _images(4)
    sources = {}
    if case == "paths":
        cells = []
        for i, im in enumerate(images):
            cells.append(str(tmp_path / f"{i}.png"))
            Image.fromarray(im).save(cells[-1])
        sources["image"] = ImageSource(cells, _transform())
    elif case == "callable":
        sources["image"] = ImageSource(
            images, lambda a: torch.as_tensor(a, dtype=torch.float32).permute(2, 0, 1))
    elif case == "sizes":
        cells = np.array([images[0], images[1, :6, :6]] * 2 + [None], dtype=object)[:-1]
        sources["image"] = ImageSource(cells, _transform(image_size=None))
    elif case == "bags":
        sources["image"] = ImageSource(images[:2], _transform())
        sources["bag"] = _bag_source()
    else:
        monkeypatch.setattr(_dataset, "STACK_MAX_BYTES", 3 * 8 * 8 * 4 * 3)
        sources["image"] = ImageSource(images, _transform())
    n = len(next(iter(sources.values())))
    ds = MultimodalDataset(sources, y=np.arange(n) % 2)
    rows = list(range(n))
    batch = ds.__getitems__(rows)
    assert type(batch) is list
    if case == "sizes":
        with pytest.raises(ValueError, match="image_size=None every image must have"):
            collate_batch(batch)
    else:
        _assert_same(collate_batch(batch), _per_item(ds, rows))


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="forked DataLoader workers")
def test_workers_read_items(count_reads):
    ds = MultimodalDataset({"image": ImageSource(_images(8), _transform())}, y=[0, 1] * 4)
    loader = DataLoader(ds, batch_size=4, collate_fn=collate_batch, num_workers=2)
    got = list(loader)
    assert count_reads.value == 8  # each row once, by the workers
    assert ds.sources["image"]._stack is None  # nothing built in this process
    for start, batch in zip((0, 4), got):
        _assert_same(batch, _per_item(ds, range(start, start + 4)))
