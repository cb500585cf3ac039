"""Tests of get_data_home and the shared loader helpers."""
from pathlib import Path

import numpy as np
import pytest

from skmultimodal.datasets import get_data_home
from skmultimodal.datasets._base import (
    _check_float,
    _check_int,
    _object_column,
    _require_files,
)


def test_get_data_home_argument_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SKMULTIMODAL_DATA", "/somewhere/else")
    assert get_data_home(tmp_path) == tmp_path
    assert get_data_home(str(tmp_path)) == tmp_path


def test_get_data_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKMULTIMODAL_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == tmp_path / "from_env"


@pytest.mark.parametrize("value", [None, ""])
def test_get_data_home_default(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("SKMULTIMODAL_DATA", raising=False)
    else:
        monkeypatch.setenv("SKMULTIMODAL_DATA", value)
    home = get_data_home()
    assert isinstance(home, Path)
    assert home == Path.home() / "skmultimodal_data"


def test_get_data_home_expands_user_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    home = get_data_home("~/nested/data")
    assert home == tmp_path / "nested" / "data"
    assert not (tmp_path / "nested").exists()


def test_get_data_home_rejects_non_paths():
    with pytest.raises(ValueError, match="data_home"):
        get_data_home(3)


def test_require_files_returns_paths_in_order(tmp_path):
    for name in ("b.csv", "a.npz"):
        (tmp_path / name).write_text("x")
    assert _require_files(tmp_path, ["b.csv", "a.npz"], "Demo") == [
        tmp_path / "b.csv",
        tmp_path / "a.npz",
    ]


def test_require_files_names_every_missing_file_and_the_folder(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "present.txt").write_text("x")
    with pytest.raises(FileNotFoundError) as info:
        _require_files(folder, ["present.txt", "one.npz", "two.csv"], "Demo set")
    message = str(info.value)
    assert "'one.npz'" in message and "'two.csv'" in message
    assert "present.txt" not in message
    assert str(folder) in message
    assert "Demo set" in message
    assert "SKMULTIMODAL_DATA" in message and "data_home" in message


def test_require_files_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent"):
        _require_files(tmp_path / "absent", ["f.npz"], "Demo")


def test_object_column_keeps_one_array_per_cell():
    import numpy as np

    arrays = [np.zeros((2, 2)), None, np.ones((2, 2))]
    column = _object_column(arrays)
    assert column.shape == (3,) and column.dtype == object
    assert column[0] is arrays[0] and column[1] is None


@pytest.mark.parametrize("value", [1.5, "3", True, None])
def test_check_int_rejects_non_ints(value):
    with pytest.raises(ValueError, match="n_things must be an int"):
        _check_int(value, "n_things")


def test_check_int_and_float_bounds():
    assert _check_int(3, "n", min_value=1, max_value=3) == 3
    with pytest.raises(ValueError, match=r"n must be >= 4, got 3"):
        _check_int(3, "n", min_value=4)
    assert _check_float(0, "r", low=0.0, high=1.0, closed="left") == 0.0
    with pytest.raises(ValueError, match=r"r must be in \[0.0, 1.0\), got 1.0"):
        _check_float(1.0, "r", low=0.0, high=1.0, closed="left")
    with pytest.raises(ValueError, match="finite"):
        _check_float(float("nan"), "r")


def test_require_files_lists_ten_names_then_counts(tmp_path):
    names = [f"images/case{i:03d}.png" for i in range(25)]
    with pytest.raises(FileNotFoundError) as info:
        _require_files(tmp_path, names, "Demo")
    message = str(info.value)
    assert "'images/case009.png'" in message and "case010" not in message
    assert "and 15 more" in message


def test_require_files_how_to_get_and_plain_folders(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        _require_files(
            tmp_path, ["x.csv"], "Demo", how_to_get="Get it at https://example.org.",
            from_data_home=False,
        )
    message = str(info.value)
    assert message.endswith("Get it at https://example.org.")
    assert "SKMULTIMODAL_DATA" not in message
    assert "not available yet" not in message


def test_check_bool_and_names():
    from skmultimodal.datasets._base import _check_bool, _check_names

    assert _check_bool(np.bool_(True), "flag") is True
    with pytest.raises(ValueError, match="flag must be a bool"):
        _check_bool(1, "flag")
    assert _check_names("a", "names", ("a", "b")) == ("a",)
    assert _check_names(["b", "a"], "names", ("a", "b")) == ("b", "a")
    with pytest.raises(ValueError, match="at least 1"):
        _check_names([], "names", ("a", "b"))
    with pytest.raises(ValueError, match="repeat"):
        _check_names(["a", "a"], "names", ("a", "b"))
    with pytest.raises(ValueError, match="each of names must be one of"):
        _check_names(["c"], "names", ("a", "b"))
    with pytest.raises(ValueError, match="sequence of names"):
        _check_names(3, "names", ("a", "b"))
