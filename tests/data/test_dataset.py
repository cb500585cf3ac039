"""Datasets over rows: lazy reading, presence flags, subsets."""

import numpy as np
import pytest
import torch

from skmultimodal.data import ArraySource, ImageSource, ImageTransform, MultimodalDataset


class _Counting:
    def __init__(self, transform):
        self.transform, self.calls = transform, 0

    def __call__(self, arr):
        self.calls += 1
        return self.transform(arr)


def test_images_are_read_one_item_at_a_time():
    cells = np.zeros((5, 4, 4), dtype=np.uint8)
    transform = _Counting(ImageTransform(None, 1, None))
    ds = MultimodalDataset({"image": ImageSource(cells, transform)}, y=[0, 1, 0, 1, 0])
    x, y = ds[2]
    assert transform.calls == 1 and x["image"].shape == (1, 4, 4) and int(y) == 0


def test_presence_flags_and_placeholders():
    cells = np.array([np.ones((4, 4)), None], dtype=object)
    src = ImageSource(cells, ImageTransform(None, 1, None), allow_missing=True,
                      placeholder_shape=(1, 4, 4))
    tab = ArraySource(np.ones((2, 3)), present=[False, True])
    ds = MultimodalDataset({"img": src, "tab": tab}, with_presence=True)
    x0, _ = ds[0]
    x1, _ = ds[1]
    assert bool(x0["img_present"]) and not bool(x0["tab_present"])
    assert not bool(x1["img_present"]) and torch.count_nonzero(x1["img"]) == 0


def test_subset_and_length_checks():
    ds = MultimodalDataset({"tab": ArraySource(np.arange(8.0).reshape(4, 2))}, y=[0, 1, 2, 3])
    sub = ds.subset([3, 1])
    assert len(sub) == 2 and int(sub[0][1]) == 3
    torch.testing.assert_close(sub[1][0]["tab"], torch.tensor([2.0, 3.0]))
    with pytest.raises(ValueError, match="different numbers of rows"):
        MultimodalDataset({"a": ArraySource(np.ones((2, 1))), "b": ArraySource(np.ones((3, 1)))})
    with pytest.raises(ValueError, match="y has 2"):
        MultimodalDataset({"a": ArraySource(np.ones((3, 1)))}, y=[0, 1])


def test_images_of_different_sizes_without_image_size_say_so():
    from skmultimodal import ImageClassifier

    cells = [np.zeros((16, 16), np.uint8)] * 6 + [np.zeros((20, 24), np.uint8)] * 6
    y = np.array([0, 1] * 6)
    clf = ImageClassifier(backbone="simple_cnn", image_size=None, max_epochs=1,
                          batch_size=12, random_state=0, device="cpu")
    with pytest.raises(ValueError, match=r"'image' have different sizes \(16x16, 20x24\); "
                                         r"with image_size=None.*Set image_size"):
        clf.fit(cells, y)


def test_sample_weights_travel_with_their_rows():
    from skmultimodal.data._dataset import SAMPLE_WEIGHT_KEY

    ds = MultimodalDataset({"t": ArraySource(np.arange(8.0).reshape(4, 2))},
                           y=[0, 1, 0, 1], sample_weight=[1.0, 2.0, 3.0, 4.0])
    x, target = ds.subset([3, 1])[0]
    assert float(x[SAMPLE_WEIGHT_KEY]) == 4.0 and int(target) == 1
