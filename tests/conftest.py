"""Shared fixtures.

Real-data tests read the public data sets from the folder named by the
environment variable ``SKMULTIMODAL_DATA``. When that variable is set the data
must be there: a missing file is a failure, never a skip. When it is not set
the tests skip with a message saying how to get the data.
"""
import os
from pathlib import Path

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


@pytest.fixture(autouse=True)
def _few_threads():
    """Keep torch to the machine's cores so parallel tests do not oversubscribe."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(min(n, max(os.cpu_count() or 1, 1)))
    yield
    torch.set_num_threads(n)
