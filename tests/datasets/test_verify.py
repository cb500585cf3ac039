"""Tests of the checks shared by the loaders (skmultimodal.datasets._verify)."""
import bz2
import gzip
import hashlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skmultimodal.datasets._verify import DataFileError, _check_png_files, _DataFile

from ._damage import png_bytes, truncate_bytes, write_png

HOW = "Get it from https://example.org/data."


def _source(path, **kwargs):
    return _DataFile(path, "test file", HOW, **kwargs)


def _refused(call, path, match):
    with pytest.raises(DataFileError, match=match) as info:
        call()
    message = str(info.value)
    assert f"The test file '{path}'" in message and message.endswith(HOW)
    return message


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
def test_fields_of_a_complete_file_pass(tmp_path, suffix):
    content = 'a,b,c\n1,"x, with comma",3\n\n4,"two\nlines",6\r\n'
    path = tmp_path / f"t.csv{suffix}"
    opener = {"": open, ".gz": gzip.open, ".bz2": bz2.open}[suffix]
    with opener(path, "wt", newline="") as f:
        f.write(content)
    _source(path).check_fields()
    assert pd.read_csv(path).shape == (2, 3)


@pytest.mark.parametrize(
    "content, match",
    [
        ("a,b,c\n1,2,3\n4,5\n", "line 3 has 2 of the 3 fields"),
        ("a,b,c\n1,2\n4,5,6\n", "line 2 has 2 of the 3 fields"),
        ("a,b,c\n1,2,3\n4,5,6", r"last line \(3\) ends without a line break"),
        ('a,b,c\n1,"2,3\n', "line 2 has 2 of the 3 fields"),  # quote not closed
    ],
)
def test_fields_of_a_damaged_file_are_refused(tmp_path, content, match):
    path = tmp_path / "t.csv"
    path.write_text(content)
    message = _refused(lambda: _source(path).check_fields(expected="9 rows"),
                       path, match)
    if "line" in match:
        assert "(expected 9 rows)" in message


def test_tab_separated_fields(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\t2\n3\n")
    _refused(lambda: _source(path).check_fields(sep="\t"), path,
             "line 3 has 1 of the 2 fields")


def test_known_checksum_skips_the_scan(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1\n")  # damaged, but "published" this way
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert _source(path, sha256=digest).is_known()
    _source(path, sha256=digest).check_fields()
    assert not _source(path, sha256="0" * 64).is_known()
    assert not _source(path).is_known()
    with pytest.raises(DataFileError):
        _source(path, sha256="0" * 64).check_fields()


def test_compressed_file_cut_short(tmp_path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 10_000))
    truncate_bytes(path)
    _refused(lambda: _source(path).check_fields(), path,
             "could not be read; it is truncated, corrupt .*EOFError")


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"\n\n", "holds no data"),
        (b"a,b\n\xe9,1\n", "UnicodeDecodeError"),
        (b"a,b\n1,2\n1,2,3\n", "ParserError"),
    ],
)
def test_reading_errors_name_the_file(tmp_path, content, match):
    path = tmp_path / "t.csv"
    path.write_bytes(content)

    def read():
        with _source(path).reading():
            pd.read_csv(path)

    _refused(read, path, match)


def test_reading_lets_other_errors_through(tmp_path):
    source = _source(tmp_path / "absent.csv")
    with pytest.raises(FileNotFoundError):
        with source.reading():
            pd.read_csv(source.path)
    with pytest.raises(KeyError):  # not a read error unless the reader says so
        with source.reading():
            raise KeyError("x")
    error = source.error("is odd")
    with pytest.raises(DataFileError) as info:
        with source.reading(ValueError):
            raise error
    assert info.value is error  # not wrapped again


def test_rows_columns_and_values(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x")
    source = _source(path)
    _refused(lambda: source.check_count(3, 5), path,
             "holds 3 rows, expected at least 5: it looks truncated")
    source.check_count(5, 5)
    _refused(lambda: source.check_columns(["a"], ["a", "b"], expected="the table"),
             path, "expected layout: it lacks the columns 'b'; is it the table")
    _refused(lambda: source.check_values(["A", "C", None], ["A", "B"], "classes"),
             path, "unexpected classes 'C'; expected 'A', 'B'")
    frame = pd.DataFrame({"a": ["1", "2.5", None], "b": [1.0, np.inf, 3.0]})
    _refused(lambda: source.numeric(frame, "values"), path,
             r"not finite numbers among its values: 'b'=inf \(1 cells in all\)")
    ok = source.numeric(frame[["a"]], "values")
    assert ok["a"].dtype == np.float64 and np.isnan(ok["a"].iloc[2])
    _refused(lambda: source.numeric(frame[["a"]], "ids", allow_missing=False),
             path, "empty cells")
    _refused(lambda: source.numeric(frame[["a"]], "ids", integer=True),
             path, "not whole numbers among its ids: 'a'='2.5'")


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"GIF89a....", "is not a PNG file"),
        (png_bytes((64, 64))[:-20], "cut short: it lacks its final IEND chunk"),
    ],
)
def test_png_files(tmp_path, content, match):
    good = write_png(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    _check_png_files([good], "test file", HOW)
    _refused(lambda: _check_png_files([good, bad], "test file", HOW), bad, match)


def test_images(tmp_path, monkeypatch):
    path = tmp_path / "x.tif"
    Image.fromarray(np.zeros((30, 40, 3), dtype=np.uint8)).save(path)
    assert _source(path).read_rgb().shape == (30, 40, 3)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    _refused(lambda: _source(path).read_rgb(), path,
             "larger than PIL's limit of 100 pixels.*raise PIL.Image.MAX_IMAGE_PIXELS")
    monkeypatch.undo()
    truncate_bytes(path)
    _refused(lambda: _source(path).read_rgb(), path, "OSError: image file is truncated")
    path.write_bytes(b"not an image")
    _refused(lambda: _source(path).read_rgb(), path, "UnidentifiedImageError")
