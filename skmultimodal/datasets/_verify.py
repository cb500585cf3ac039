"""Checks that the files a loader reads are complete and are the data set.

Each loader describes a file it reads with a :class:`_DataFile`: its path, a
name for the messages, where to obtain the file again and, when the loader
knows the published file exactly, its SHA-256. A file with a known checksum
is trusted as is. Any other copy (another valid version of the data set, or a
damaged one) is checked for its structure instead: every row has the fields
of the header, the last line is complete, the expected columns, rows and
value ranges are there. Whatever goes wrong while reading (a truncated gzip
stream, an empty CSV, a broken zip archive...) becomes a
:class:`DataFileError` naming the file, what was expected and how to obtain
the file again.
"""

import bz2
import csv
import gzip
import hashlib
import lzma
import os
import zipfile
import zlib
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

_CHUNK_SIZE = 1 << 20
_SHOW = 3  # offending values or names quoted in a message
# Compressions that pandas infers from the suffix and the field scan can open;
# files with other compression suffixes are left to pandas alone.
_TEXT_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_UNSCANNED_SUFFIXES = (".zip", ".zst", ".tar")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"  # type and CRC of the IEND chunk closing a PNG
_PNG_TAIL = 64  # bytes at the end of a PNG searched for the IEND chunk
# What reading a damaged file raises, besides the extra types a reader adds.
_READ_ERRORS = (
    EOFError,
    OSError,  # gzip.BadGzipFile, bz2 and PIL errors, short reads
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    UnicodeDecodeError,
    pd.errors.EmptyDataError,
    pd.errors.ParserError,
    Image.DecompressionBombError,
)
# OSErrors that say nothing about the file's content: raised unchanged.
_NOT_DAMAGE = (FileNotFoundError, PermissionError, IsADirectoryError)


class DataFileError(ValueError):
    """A data-set file is empty, truncated, corrupt or not the expected file.

    The message names the file, what was expected and how to obtain the file
    again.
    """


@lru_cache(maxsize=32)
def _sha256(path, size, mtime_ns):
    """SHA-256 of a file; ``size`` and ``mtime_ns`` key the cache."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _quote(values):
    """The first few values, and how many there are in all."""
    values = list(values)
    shown = ", ".join(repr(_plain(v)) for v in values[:_SHOW])
    return shown + (f" ... ({len(values)} in all)" if len(values) > _SHOW else "")


def _plain(value):
    """A numpy scalar as the Python value it holds (for its repr)."""
    return value.item() if isinstance(value, np.generic) else value


def _open_text(path):
    """Text handle on a possibly compressed file, as pandas infers it."""
    opener = _TEXT_OPENERS.get(path.suffix.lower(), open)
    return opener(path, "rt", encoding="utf-8", newline="")


def _lines(handle, last):
    """Yield the lines of ``handle``, keeping the latest one in ``last[0]``."""
    for line in handle:
        last[0] = line
        yield line


class _DataFile:
    """A file a loader reads, and the checks and errors about it.

    Parameters
    ----------
    path : path-like
        The file.
    name : str
        What the file is, for the messages, e.g. ``"METABRIC file"``.
    how_to_get : str, default=None
        Where and how to obtain the file, appended to the messages.
    sha256 : str or sequence of str, default=()
        Checksums of the published versions known to the loader. A file
        with one of them skips the structural scan of :meth:`check_fields`.
    """

    def __init__(self, path, name, how_to_get=None, *, sha256=()):
        self.path = Path(path)
        self.name = name
        self.how_to_get = how_to_get
        self.sha256 = (sha256,) if isinstance(sha256, str) else tuple(sha256)

    def error(self, problem):
        """A :class:`DataFileError` saying ``problem`` about the file, and the fix.

        ``problem`` continues the sentence "The <name> '<path>' ...".
        """
        message = (
            f"The {self.name} '{self.path}' {problem}. Replace it with a complete, "
            f"unmodified copy."
        )
        if self.how_to_get:
            message += f" {self.how_to_get}"
        return DataFileError(message)

    def is_known(self):
        """Whether the file is byte for byte a published version the loader knows."""
        if not self.sha256:
            return False
        stat = self.path.stat()
        return _sha256(str(self.path), stat.st_size, stat.st_mtime_ns) in self.sha256

    @contextmanager
    def reading(self, *errors):
        """Turn what reading a damaged file raises into a :class:`DataFileError`.

        Parameters
        ----------
        *errors : exception types
            Further types the reader raises on a damaged file (e.g.
            ``KeyError`` for a member missing from an archive).
        """
        try:
            yield
        except DataFileError:
            raise
        except _NOT_DAMAGE:
            raise
        except (*_READ_ERRORS, *errors) as exc:
            raise self.error(self._damage(exc)) from exc

    def _damage(self, exc):
        """What an exception raised while reading says about the file."""
        if os.path.getsize(self.path) == 0:
            return "is empty (0 bytes)"
        if isinstance(exc, pd.errors.EmptyDataError):
            return "holds no data (not even a header line)"
        if isinstance(exc, Image.DecompressionBombError):
            return (
                f"is an image larger than PIL's limit of {Image.MAX_IMAGE_PIXELS:,} "
                f"pixels, the size of a decompression bomb ({exc}). If you trust the "
                f"file, raise PIL.Image.MAX_IMAGE_PIXELS; otherwise it is corrupt"
            )
        reason = str(exc) or "no further detail"
        return (
            f"could not be read; it is truncated, corrupt or not the expected "
            f"file ({type(exc).__name__}: {reason})"
        )

    def check_fields(self, sep=",", *, expected=None):
        """Refuse a delimited text file with a row cut short or a last line cut.

        Every non-blank line must have as many fields as the first one (quoted
        fields are parsed as pandas does) and the file must end with a line
        break. Skipped for a file of known checksum and for compressions
        other than gzip, bz2 and xz.

        Parameters
        ----------
        sep : str, default=","
            The field delimiter.
        expected : str, default=None
            What the file should hold (e.g. ``"1,904 rows"``), quoted in the
            message.
        """
        if self.path.suffix.lower() in _UNSCANNED_SUFFIXES or self.is_known():
            return
        expected = f" (expected {expected})" if expected else ""
        last = [""]
        with self.reading(csv.Error), _open_text(self.path) as handle:
            reader = csv.reader(_lines(handle, last), delimiter=sep)
            n_fields = None
            for row in reader:
                if not row:  # a blank line, skipped by pandas
                    continue
                if n_fields is None:
                    n_fields = len(row)
                elif len(row) != n_fields:
                    raise self.error(
                        f"looks truncated or damaged: line {reader.line_num:,} has "
                        f"{len(row):,} of the {n_fields:,} fields of its first "
                        f"line{expected}"
                    )
        if last[0] and not last[0].endswith(("\n", "\r")):
            raise self.error(
                f"looks truncated: its last line ({reader.line_num:,}) ends without "
                f"a line break{expected}"
            )

    def check_columns(self, columns, required, *, expected):
        """Refuse a table that lacks any of the ``required`` columns.

        ``expected`` describes the file, e.g. ``"the METABRIC_RNA_Mutation
        table"``.
        """
        missing = [c for c in required if c not in set(columns)]
        if missing:
            raise self.error(
                f"does not have the expected layout: it lacks the columns "
                f"{_quote(missing)}; is it {expected}?"
            )

    def check_count(self, n, minimum, unit="rows"):
        """Refuse a file holding fewer than ``minimum`` rows (or other units)."""
        if n < minimum:
            raise self.error(
                f"holds {n:,} {unit}, expected at least {minimum:,}: it looks "
                f"truncated"
            )

    def numeric(self, frame, what, *, allow_missing=True, integer=False):
        """The columns of ``frame`` as float64, refusing values that are not numbers.

        Parameters
        ----------
        frame : DataFrame
            The columns to convert.
        what : str
            What the columns hold, for the message (e.g. ``"gene z-scores"``).
        allow_missing : bool, default=True
            Whether empty cells (NaN) are accepted.
        integer : bool, default=False
            Whether the values must be whole numbers.

        Returns
        -------
        values : DataFrame of float64
        """
        values = frame.apply(pd.to_numeric, errors="coerce").astype(np.float64)
        array = values.to_numpy()
        missing = np.isnan(array)
        bad = (missing & frame.notna().to_numpy()) | np.isinf(array)
        problem = "values that are not finite numbers"
        if not allow_missing:
            bad |= missing
            problem = "empty cells or " + problem
        if integer:
            bad |= ~missing & np.isfinite(array) & (array != np.round(array))
            problem += " or not whole numbers"
        if bad.any():
            rows, cols = np.nonzero(bad)
            cells = [
                f"{frame.columns[c]!r}={_plain(frame.iat[r, c])!r}"
                for r, c in zip(rows[:_SHOW], cols[:_SHOW])
            ]
            raise self.error(
                f"holds {problem} among its {what}: {', '.join(cells)} "
                f"({int(bad.sum()):,} cells in all)"
            )
        return values

    def check_values(self, values, allowed, what):
        """Refuse values (NaN excepted) outside ``allowed``."""
        values = pd.Series(values)
        unknown = sorted(set(values.dropna()) - set(allowed), key=str)
        if unknown:
            raise self.error(
                f"holds unexpected {what} {_quote(unknown)}; expected "
                f"{', '.join(repr(v) for v in allowed)}"
            )

    def check_png(self):
        """Refuse a file that is not a complete PNG (signature and IEND chunk)."""
        with self.reading(), open(self.path, "rb") as f:
            head = f.read(len(_PNG_SIGNATURE))
            f.seek(max(0, os.fstat(f.fileno()).st_size - _PNG_TAIL))
            tail = f.read()
        if head != _PNG_SIGNATURE:
            problem = "is empty (0 bytes)" if not head else "is not a PNG file"
            raise self.error(problem)
        if _PNG_END not in tail:
            raise self.error("is a PNG file cut short: it lacks its final IEND chunk")

    def read_rgb(self):
        """The image as an (height, width, 3) uint8 array."""
        with self.reading(SyntaxError), Image.open(self.path) as image:
            return np.asarray(image.convert("RGB"))


def _check_png_files(paths, name, how_to_get=None):
    """Refuse any of ``paths`` that is not a complete PNG file."""
    for path in paths:
        _DataFile(path, name, how_to_get).check_png()
