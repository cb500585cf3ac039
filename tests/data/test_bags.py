"""Bag sources and the padding of bags into batches."""

import numpy as np
import torch

from skmultimodal.data import ImageTransform
from skmultimodal.data._bags import (
    ArrayBagSource,
    ImageBagSource,
    InstanceBag,
    bag_instances,
    bag_is_missing,
    pad_bags,
)
from skmultimodal.data._dataset import MultimodalDataset, collate_batch


def _transform():
    return ImageTransform((8, 8), 1, None, None, intensity_range=None)


def test_bag_cells():
    a = np.zeros((8, 8), dtype=np.float32)
    assert len(bag_instances([a, a, a])) == 3
    assert len(bag_instances(np.zeros((4, 8, 8)))) == 4
    assert bag_instances(None) == [] and bag_instances([]) == []
    for missing in (None, float("nan"), [], (), np.zeros((0, 8, 8))):
        assert bag_is_missing(missing)
    assert not bag_is_missing(["a.png"])


def test_pad_bags():
    bags = [InstanceBag(torch.ones(3, 1, 2, 2)), InstanceBag(torch.ones(0, 1, 2, 2)),
            InstanceBag(torch.ones(1, 1, 2, 2))]
    x, mask = pad_bags(bags)
    assert x.shape == (3, 3, 1, 2, 2)
    assert mask.tolist() == [[True] * 3, [False] * 3, [True, False, False]]
    assert (x[~mask] == 0).all()


def test_collate_pads_per_batch_and_adds_the_mask():
    rng = np.random.default_rng(0)
    cells = [list(rng.random((k, 8, 8), dtype=np.float32)) for k in (2, 5, 3)]
    src = ImageBagSource(cells, _transform(), placeholder_shape=(1, 8, 8))
    ds = MultimodalDataset({"tiles": src}, y=[0, 1, 0])
    x, y = collate_batch([ds[0], ds[2]])
    assert x["tiles"].shape == (2, 3, 1, 8, 8)  # the longest bag of this batch
    assert x["tiles_mask"].sum(dim=1).tolist() == [2, 3]
    x, _ = collate_batch([ds[i] for i in range(3)])
    assert x["tiles"].shape[1] == 5 and y.tolist() == [0, 0]


def test_max_instances_samples_in_training_only():
    cells = [list(np.random.default_rng(0).random((10, 8, 8), dtype=np.float32))]
    src = ImageBagSource(cells, _transform(), placeholder_shape=(1, 8, 8), max_instances=4,
                         train=True)
    torch.manual_seed(0)
    first = src[0].instances
    assert first.shape[0] == 4
    torch.manual_seed(0)
    torch.testing.assert_close(src[0].instances, first)  # seeded
    draws = {tuple(src[0].instances[:, 0, 0, 0].tolist()) for _ in range(5)}
    assert len(draws) > 1  # a new subset at each read (each epoch)
    full = ImageBagSource(cells, _transform(), placeholder_shape=(1, 8, 8), max_instances=4)
    assert full[0].instances.shape[0] == 10


def test_array_bag_source():
    src = ArrayBagSource([np.ones((3, 4)), np.zeros((0, 4))], 4)
    assert src.present(0) and not src.present(1)
    assert src[1].instances.shape == (0, 4)
    assert len(src.subset([1, 0])[1]) == 3
