"""Shared fixtures.

Real-data tests read the public data sets from the folder named by the
environment variable ``SKMULTIMODAL_DATA``. When that variable is set the data
must be there: a missing file is a failure, never a skip. When it is not set
the tests skip with a message saying how to get the data.
"""
import os
from pathlib import Path

import numpy as np
import pytest

DATA_ENV = "SKMULTIMODAL_DATA"
HOW_TO_GET = (
    "real-data test skipped: set SKMULTIMODAL_DATA to a folder holding the public "
    "data sets (metabric/, breastmnist/, breast_lesions_usg/, busi_256/, "
    "tcga_brca_pam50genes/) as described in docs/datasets.md"
)


@pytest.fixture(scope="session")
def data_home():
    """Folder of the public data sets; skips when SKMULTIMODAL_DATA is unset."""
    value = os.environ.get(DATA_ENV)
    if not value:
        pytest.skip(HOW_TO_GET)
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"{DATA_ENV}={value!r} is not a folder")
    return path


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Run torch on one thread in tests.

    The tests train tiny networks, for which extra threads bring nothing, and
    OpenMP threads spinning against other busy processes can slow torch down
    many times over.
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def encoded(monkeypatch):
    """Count the images run through any image backbone (its ``forward_features``)."""
    from skmultimodal.nn import ResNetBackbone, SimpleCNN

    counts = {"images": 0}
    for cls in (SimpleCNN, ResNetBackbone):
        original = cls.forward_features

        def counting(self, x, _original=original):
            counts["images"] += x.shape[0]
            return _original(self, x)

        monkeypatch.setattr(cls, "forward_features", counting)
    return counts


@pytest.fixture
def cli_error(capsys):
    """Read the single line the command line printed on stderr (no traceback)."""

    def read():
        err = capsys.readouterr().err
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("skmultimodal: error: "), lines[0]
        return lines[0]

    return read


@pytest.fixture
def count_reads(monkeypatch):
    """Count image reads, in this process and in forked DataLoader workers."""
    import multiprocessing

    from skmultimodal.data import _dataset

    counter = multiprocessing.Value("i", 0)
    read = _dataset.read_image

    def counting_read(cell, row=None, **kwargs):
        with counter.get_lock():
            counter.value += 1
        return read(cell, row=row, **kwargs)

    monkeypatch.setattr(_dataset, "read_image", counting_read)
    return counter


@pytest.fixture(scope="module")
def multimodal_table():
    """48 rows of a generated image + table problem, with a bag column and patients.

    ``(X, y, groups)``: an image column "image", table columns "tab_0" to
    "tab_3", a column "bag" holding one or two images per row (for the bag
    estimators), and the patient of each row as groups.
    """
    from skmultimodal.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(48, image_size=16, n_features=4, n_informative=2,
                                          n_patients=16, random_state=0)
    X["bag"] = [[image, np.flipud(image)][:1 + i % 2] for i, image in enumerate(X["image"])]
    return X, y, X["patient_id"]


@pytest.fixture(scope="module")
def survival_table(multimodal_table):
    """The same table with a survival target: time to event, a third censored."""
    from sksurv.util import Surv

    X, y, groups = multimodal_table
    rng = np.random.default_rng(0)
    time = rng.exponential(np.exp(-1.5 * (y - 0.5))) * 10
    event = rng.random(len(y)) > 1 / 3
    return X, Surv.from_arrays(event, time), groups
