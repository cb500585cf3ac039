"""Memory of reading one very large greyscale image for a 224 px network.

An 8000x8000 greyscale PNG is read and prepared for a 3-channel input of
224x224 pixels, each way in a fresh process, and the growth of the process's
peak resident memory is printed:

- ``library``: ``ImageSource``'s path: the file is shrunk by an integer factor
  while it is decoded (PIL ``reduce``, JPEG ``draft``), then scaled to floats,
  resized and only then repeated to three channels;
- ``full-size``: the former order, for comparison: the whole image decoded,
  converted to float and to three channels at full size, then resized.

Usage::

    python benchmarks/bench_large_image.py [--size 8000] [--image-size 224]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

_MEASURE = """
import resource, sys
from torchvision.transforms.v2 import functional as F
from skmultimodal.data import ImageTransform, read_image
from skmultimodal.data._transforms import convert_channels, to_float_tensor

path, size, way = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if way == "library":
    out = ImageTransform((size, size), 3, "imagenet")(read_image(path, reduce_to=(size, size)))
else:
    arr = read_image(path)
    out = F.resize(convert_channels(to_float_tensor(arr), 3), [size, size], antialias=True)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) / 1024, tuple(out.shape))
"""


def _measure(path, image_size, way):
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(image_size), way],
                            check=True, capture_output=True, text=True)
    added, shape = result.stdout.split(" ", 1)
    return float(added), shape.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8000, help="side of the PNG")
    parser.add_argument("--image-size", type=int, default=224, help="network input side")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.png"
        # built from a small tile: the peak memory of this process (which its
        # children inherit as their starting peak on Linux) stays small
        tile = (np.arange(256)[:, None] ^ np.arange(256)[None, :]).astype(np.uint8)
        reps = -(-args.size // 256)
        Image.fromarray(np.tile(tile, (reps, reps))[:args.size, :args.size]).save(path)
        print(f"{args.size}x{args.size} greyscale PNG ({path.stat().st_size / 2**20:.1f} MiB "
              f"on disk) -> 3 x {args.image_size} x {args.image_size}")
        print(f"{'way':<10} {'peak RSS added (MiB)':>22}  output")
        for way in ("library", "full-size"):
            added, shape = _measure(path, args.image_size, way)
            print(f"{way:<10} {added:>22.0f}  {shape}")


if __name__ == "__main__":
    main()
