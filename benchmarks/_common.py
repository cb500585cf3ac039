"""Helpers shared by the throughput and memory benchmarks.

Machine description, peak-memory measurement without psutil, image files
written to a folder, medians and result files.
"""

import csv
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# -- machine --------------------------------------------------------------
def cpu_model():
    """CPU model name from /proc/cpuinfo ("unknown" elsewhere)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(threads=None):
    """Dict describing the machine, the library versions and the load."""
    import sklearn
    import skorch
    import torch

    info = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "sklearn": sklearn.__version__,
        "torch_threads": threads if threads is not None else torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        info["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    return info


# -- memory ---------------------------------------------------------------
def _status_kib(field):
    """Value in KiB of a field of /proc/self/status (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_mib():
    """Current resident set size in MiB (None where /proc is missing)."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark of this process; True on success.

    Writing "5" to /proc/self/clear_refs (Linux >= 4.0) sets VmHWM back to the
    current RSS, so the next :func:`peak_rss_mib` is the peak since this call.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib():
    """Peak RSS in MiB since the last :func:`reset_peak_rss` (or process start)."""
    kib = _status_kib("VmHWM")
    if kib is None:  # no /proc: fall back to the lifetime peak (KiB on Linux)
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


class PeakMemory:
    """Context manager measuring peak host RSS and, on CUDA, peak GPU memory.

    Attributes after the block: ``rss_start_mib``, ``peak_rss_mib``,
    ``rss_increase_mib`` (peak minus start) and ``peak_cuda_mib`` (None on CPU).
    """

    def __init__(self, device="cpu"):
        self.device = str(device)

    def __enter__(self):
        import torch

        self.cuda = self.device.startswith("cuda") and torch.cuda.is_available()
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.reset_ok = reset_peak_rss()
        self.rss_start_mib = rss_mib()
        return self

    def __exit__(self, *exc):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            self.peak_cuda_mib = torch.cuda.max_memory_allocated() / 2**20
        else:
            self.peak_cuda_mib = None
        self.peak_rss_mib = peak_rss_mib()
        start = self.rss_start_mib or 0.0
        self.rss_increase_mib = self.peak_rss_mib - start
        return False


def sync(device):
    """Wait for queued CUDA work so that wall times are complete."""
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


class Timer:
    """Wall-clock and process CPU time of a block; syncs CUDA on both ends.

    Attributes after the block: ``seconds`` (wall, ``time.perf_counter``) and
    ``cpu_seconds`` (``time.process_time``: CPU time of all threads of this
    process). On a machine shared with other busy processes the wall time
    includes waiting for a core, the CPU time does not, so with one torch
    thread and no loader workers the CPU time measures the work itself.
    """

    def __init__(self, device="cpu"):
        self.device = device

    def __enter__(self):
        sync(self.device)
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        return self

    def __exit__(self, *exc):
        sync(self.device)
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = time.process_time() - self.cpu_start
        return False


# -- image data -----------------------------------------------------------
def synthetic_images(n, size, channels=3, seed=0):
    """``n`` uint8 images (n, size, size, channels): smooth blobs plus noise.

    Smooth content compresses like real images (PNG files of pure noise
    would be unrealistically large and slow to decode).
    """
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    images = np.empty((n, size, size, channels), dtype=np.uint8)
    for i in range(n):
        cy, cx = rng.uniform(0.2, 0.8, size=2)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 0.15**2))
        for c in range(channels):
            level = 40 + 160 * blob * rng.uniform(0.5, 1.0)
            images[i, :, :, c] = np.clip(level + rng.normal(0, 8, level.shape), 0, 255)
    return images if channels > 1 else images[..., 0]


def write_images(images, folder, fmt="png", prefix="img"):
    """Write each image of a stack to ``folder`` and return the list of paths."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"png": ".png", "jpeg": ".jpg"}[fmt]
    paths = []
    for i, img in enumerate(images):
        path = folder / f"{prefix}_{i:06d}{suffix}"
        if fmt == "jpeg":
            Image.fromarray(img).save(path, quality=90)
        else:
            Image.fromarray(img).save(path)
        paths.append(str(path))
    return paths


# -- statistics and files -------------------------------------------------
def median(values):
    """Median of the non-None values (None if there are none)."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def write_csv(rows, path):
    """Write a list of dicts (same keys) as CSV; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(obj, path):
    """Write ``obj`` as indented JSON; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=2, default=float)
    return path


def fmt(value, digits=1):
    """Format a number for a Markdown table ("-" for None)."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}"


def markdown_table(rows, columns):
    """Markdown table of ``rows`` (dicts) over ``columns`` ((key, header, digits))."""
    lines = ["| " + " | ".join(h for _, h, _ in columns) + " |",
             "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for key, _, digits in columns:
            value = row.get(key)
            cells.append(fmt(value, digits) if isinstance(value, (int, float))
                         or value is None else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
