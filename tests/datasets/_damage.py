"""Helpers of the dataset tests: small valid files and damaged copies of files."""
import gzip
import io

import numpy as np
from PIL import Image


def png_bytes(size=(4, 3)):
    """A small but complete PNG file."""
    buffer = io.BytesIO()
    Image.fromarray(np.zeros(size[::-1], dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png(path, size=(4, 3)):
    path.write_bytes(png_bytes(size))
    return path


def contents(path):
    """The text of a possibly gzipped file."""
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode()
    return path.read_text()


def write_text(path, content):
    """Write ``content``, gzipped if ``path`` ends in .gz."""
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(content.encode()))
    else:
        path.write_text(content)
    return path


def cut_mid_line(path, line, keep=0.5):
    """Keep the lines before ``line`` (1-based) and ``keep`` of that line."""
    lines = contents(path).splitlines(keepends=True)
    partial = lines[line - 1][: int(len(lines[line - 1]) * keep)]
    return write_text(path, "".join(lines[: line - 1]) + partial)


def keep_lines(path, n):
    """Keep the first ``n`` lines, complete."""
    lines = contents(path).splitlines(keepends=True)
    return write_text(path, "".join(lines[:n]))


def truncate_bytes(path, fraction=0.5):
    """Keep the first ``fraction`` of the bytes (a download cut short)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path
