"""Cost of the embedding cache's image key: path + size + mtime vs a hash of the bytes.

The embedding cache (``memory=``) keys an image file by its content: a
SHA-256 hash of its bytes (``skmultimodal.estimators._cache.image_key``). Until
then it used the resolved path, the size and the modification time, which
serves a stale embedding for a same-size rewrite that keeps its mtime
(``cp -p``, ``rsync -t``, ``tar -x``). This script measures what the content
key costs: it writes ``--n-images`` PNG files of random greyscale noise
(incompressible: the largest files of that size) and times, for all of them,

- ``path+size+mtime``: the former key (``os.path.realpath``, ``os.stat``, a
  blake2b of those fields);
- ``content sha256``: the key of the library, no memo (every file opened and
  read, as in a new process);
- ``content blake2b``: the same with blake2b, for comparison;
- ``content sha256, memo hit``: the key of the library for a file already
  hashed by the process and unchanged since (the per-process memo, checked
  with one ``fstat``);

each with the files' pages evicted from the page cache (``cold``:
``posix_fadvise(POSIX_FADV_DONTNEED)`` on every file before the pass, checked
with ``fincore`` when present) and resident (``warm``: after a pass reading
them). For scale, it also times reading one stored embedding (``np.load`` of
a 512-float entry: the rest of a cache hit) and decoding one of the PNG files
with Pillow (the first step of a cache miss, before the encoder).

Every pass is repeated ``--repeats`` times (variants interleaved); the
median, minimum and maximum pass times and the median per image are printed
and written to ``benchmarks/results/cache_key.csv`` and ``cache_key.md``.

Run from the repository root::

    python benchmarks/bench_cache_key.py
    python benchmarks/bench_cache_key.py --n-images 100 --repeats 3   # smoke run
"""

import argparse
import csv
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, machine_info

from skmultimodal.estimators import _cache


# -- the keys -------------------------------------------------------------------------
def path_size_mtime_key(path):
    """The former key of a file: resolved path, size and mtime (ns)."""
    path = os.path.realpath(path)
    st = os.stat(path)
    return _cache._hash("file", path, st.st_size, st.st_mtime_ns)


def content_library(path):
    """The library's key, memo off: the file is opened and hashed (SHA-256)."""
    return _cache.image_key(path)


def content_blake2b(path):
    """The same with blake2b (128-bit digest), for comparison."""
    h = hashlib.blake2b(b"file\0", digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(_cache._CHUNK):
            h.update(chunk)
    return h.hexdigest()


def content_memo_hit(path):
    """The library's key, memo on and filled: one open and fstat per file."""
    return _cache.image_key(path)


VARIANTS = {
    "path+size+mtime (former key)": (path_size_mtime_key, False),
    "content sha256 (library key)": (content_library, False),
    "content blake2b": (content_blake2b, False),
    "content sha256, memo hit": (content_memo_hit, True),
}


# -- page cache -----------------------------------------------------------------------
def evict(paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def resident_fraction(paths):
    """Fraction of the pages of ``paths`` in the page cache (``fincore``), or None."""
    fincore = shutil.which("fincore")
    if fincore is None:
        return None
    out = subprocess.run([fincore, "--noheadings", "--raw", "--output", "PAGES",
                          *map(str, paths)], capture_output=True, text=True, check=False)
    page = os.sysconf("SC_PAGE_SIZE")
    resident = [int(v) for v in out.stdout.split()]
    if out.returncode or len(resident) != len(paths):
        return None
    total = sum(-(-os.path.getsize(p) // page) for p in paths)
    return sum(resident) / total if total else None


def read_all(paths):
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass


# -- run ------------------------------------------------------------------------------
def write_pngs(folder, n, size, seed=0):
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        path = folder / f"img_{i:05d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def time_pass(key, paths):
    start = time.perf_counter()
    for path in paths:
        key(path)
    return time.perf_counter() - start


def time_each(fn, items):
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=256, help="image side (pixels)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--tmp-dir", default=None,
                        help="where the PNG files are written (default: the system's "
                             "temporary folder)")
    parser.add_argument("--output-dir", default=str(RESULTS_DIR))
    parser.add_argument("--name", default="cache_key")
    args = parser.parse_args(argv)

    info = machine_info()
    folder = Path(tempfile.mkdtemp(prefix="bench_cache_key_", dir=args.tmp_dir))
    try:
        paths = write_pngs(folder, args.n_images, args.size)
        os.sync()  # dirty pages cannot be evicted
        sizes = [os.path.getsize(p) for p in paths]
        fstype = subprocess.run(["df", "--output=fstype", str(folder)],
                                capture_output=True, text=True,
                                check=False).stdout.split()[-1:] or ["unknown"]
        # the memo keeps files changed more than _cache._RACY_NS before hashing
        time.sleep(_cache._RACY_NS / 1e9 + 0.2)
        assert ([content_library(p) for p in paths[:5]]
                != [path_size_mtime_key(p) for p in paths[:5]])

        times = {(name, cache): [] for name in VARIANTS for cache in ("cold", "warm")}
        resident = {"cold": [], "warm": []}
        order = list(VARIANTS)
        for r in range(args.repeats):
            for name in order[r % len(order):] + order[:r % len(order)]:
                key, memo = VARIANTS[name]
                _cache._MEMO = memo
                _cache._CONTENT_KEYS.clear()
                if memo:
                    for p in paths:  # fill the memo (not timed)
                        _cache.image_key(p)
                for cache in ("cold", "warm"):
                    if cache == "cold":
                        evict(paths)
                    else:
                        read_all(paths)
                    if name == order[0]:
                        resident[cache].append(resident_fraction(paths[:50]))
                    times[(name, cache)].append(time_pass(key, paths))
        _cache._MEMO = os.name == "posix"
        _cache._CONTENT_KEYS.clear()

        # scale: a cache hit's np.load, a cache miss's PNG decode
        entry_dir = folder / "entries"
        entry_dir.mkdir()
        rng = np.random.default_rng(1)
        entries = []
        for i in range(200):
            entries.append(entry_dir / f"{i}.npy")
            np.save(entries[-1], rng.normal(size=512).astype(np.float32))
        read_all(entries)
        load_s = statistics.median(time_each(np.load, entries) for _ in range(5))

        def decode(path):
            with Image.open(path) as im:
                im.load()

        read_all(paths[:200])
        decode_s = statistics.median(time_each(decode, paths[:200]) for _ in range(5))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    n = args.n_images
    rows = []
    for (name, cache), values in times.items():
        rows.append({
            "key": name, "page_cache": cache, "n_images": n, "repeats": len(values),
            "median_ms": 1e3 * statistics.median(values), "min_ms": 1e3 * min(values),
            "max_ms": 1e3 * max(values),
            "per_image_us": 1e6 * statistics.median(values) / n,
        })
    baseline = {c: next(r["median_ms"] for r in rows
                        if r["key"] == order[0] and r["page_cache"] == c)
                for c in ("cold", "warm")}
    for row in rows:
        row["vs_former_key"] = row["median_ms"] / baseline[row["page_cache"]]
    rows.sort(key=lambda r: (r["page_cache"], list(VARIANTS).index(r["key"])))

    command = "python benchmarks/bench_cache_key.py" + (
        " " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    res = {c: [v for v in resident[c] if v is not None] for c in resident}
    cold_note = (f" (fincore: {100 * max(res['cold']):.0f}% of the pages of 50 files "
                 "resident at most)" if res["cold"] else "")
    warm_note = (f" ({100 * min(res['warm']):.0f}% resident at least)"
                 if res["warm"] else "")
    lines = [
        f"# Embedding cache: cost of the image key ({n} PNG files)",
        "",
        f"Command: `{command}`  ",
        (f"{n} PNG files, {args.size}x{args.size} greyscale random noise, "
         f"{statistics.mean(sizes) / 1024:.1f} KiB each on average "
         f"({sum(sizes) / 2**20:.1f} MiB in all), on {fstype[0]}; "
         f"{args.repeats} passes over all files per cell (variants interleaved).  "),
        (f"cold: pages evicted with posix_fadvise(DONTNEED) before the pass{cold_note}; "
         f"warm: after a pass reading every file{warm_note}.  "),
        (f"Machine: {info['cpu']}, {info['cpu_count']} cores (shared; load average "
         f"{info.get('load_average')}), {info['platform']}, Python {info['python']}."),
        "",
        ("| key | page cache | median pass (ms) | min | max | per image (µs) | "
         "vs former key |"),
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['key']} | {row['page_cache']} | {row['median_ms']:.1f} | "
            f"{row['min_ms']:.1f} | {row['max_ms']:.1f} | {row['per_image_us']:.1f} | "
            f"x{row['vs_former_key']:.1f} |")
    lines += [
        "",
        (f"For scale, per image (warm, median of 5 passes over 200 files): reading a "
         f"stored 512-float embedding with `np.load` {1e6 * load_s:.0f} µs (the rest "
         f"of a cache hit); decoding one of these PNG files with Pillow "
         f"{1e6 * decode_s:.0f} µs (the first step of a cache miss, before the "
         "encoder)."),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{args.name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v)
                             for k, v in row.items()})
    (out / f"{args.name}.md").write_text(text, encoding="utf-8")
    print(f"Wrote {out / (args.name + '.csv')} and {out / (args.name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
