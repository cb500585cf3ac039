"""Synthetic multiple-instance (bag) classification data with known key instances."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._base import _check_bool, _check_float, _check_int, _object_column

# Grey levels of the generated instances.
_BACKGROUND = 64.0  # mean background level of an instance
_INSTANCE_BRIGHTNESS = 12.0  # std of the background level of each instance
_INSTANCE_TEXTURE = 10.0  # amplitude of the stripe texture of each instance
_PATIENT_BRIGHTNESS = 8.0  # std of the background offset common to a patient
_PIXEL_NOISE = 10.0  # pixel noise std per unit of ``noise``
_KEY_AMPLITUDE = 128.0  # key blob peak above the background per unit of class_sep
# Tabular columns.
_TAB_SHIFT = 0.5  # class mean difference of an informative column per class_sep
_PATIENT_TAB_OFFSET = 0.5  # std of the per-patient offset of every column


def _key_sigma(image_size):
    """Standard deviation in pixels of the key blob."""
    return max(image_size / 12.0, 0.75)


def _check_key_range(n_key_instances, min_instances):
    """Validate ``n_key_instances`` (int or (low, high)); return (low, high)."""
    if isinstance(n_key_instances, numbers.Integral) and not isinstance(
        n_key_instances, bool
    ):
        low = high = int(n_key_instances)
    else:
        try:
            low, high = n_key_instances
        except (TypeError, ValueError):
            raise ValueError(
                "n_key_instances must be an int or a pair (low, high) of ints, got "
                f"{n_key_instances!r}"
            ) from None
        low = _check_int(low, "n_key_instances[0]")
        high = _check_int(high, "n_key_instances[1]")
    if not 1 <= low <= high:
        raise ValueError(
            f"n_key_instances must satisfy 1 <= low <= high, got ({low}, {high})"
        )
    if high > min_instances:
        raise ValueError(
            f"n_key_instances allows up to {high} key instances, more than "
            f"min_instances={min_instances}: every positive bag must be able to "
            "hold its key instances"
        )
    return low, high


def _assign_patients(n_samples, n_patients, rng):
    """Patient index of each sample; every patient has >= 1 sample."""
    extra = rng.randint(n_patients, size=n_samples - n_patients)
    return rng.permutation(np.concatenate([np.arange(n_patients), extra]))


def _instances(n_instances, image_size, background, noise, rng):
    """Key-free instances, float of shape (n_instances, H, W).

    Each has its own background level and stripe texture (the same
    distribution in both classes) plus pixel noise.
    """
    rows, cols = np.mgrid[0:image_size, 0:image_size] / image_size
    angle = rng.uniform(0.0, np.pi, size=n_instances)[:, None, None]
    cycles = rng.uniform(1.0, 3.0, size=n_instances)[:, None, None]
    phase = rng.uniform(0.0, 2.0 * np.pi, size=n_instances)[:, None, None]
    wave = cols[None] * np.cos(angle) + rows[None] * np.sin(angle)
    texture = _INSTANCE_TEXTURE * np.sin(2.0 * np.pi * cycles * wave + phase)
    level = background + _INSTANCE_BRIGHTNESS * rng.normal(size=n_instances)
    pixel_noise = _PIXEL_NOISE * noise * rng.normal(
        size=(n_instances, image_size, image_size)
    )
    return level[:, None, None] + texture + pixel_noise


def _key_blobs(n_keys, image_size, amplitude, rng):
    """Gaussian blobs at random positions, float of shape (n_keys, H, W)."""
    sigma = _key_sigma(image_size)
    margin = min(2.0 * sigma, (image_size - 1) / 2.0)
    centres = rng.uniform(margin, image_size - 1 - margin, size=(n_keys, 2))
    rows, cols = np.mgrid[0:image_size, 0:image_size].astype(float)
    d2 = (rows[None] - centres[:, 0, None, None]) ** 2 + (
        cols[None] - centres[:, 1, None, None]
    ) ** 2
    return amplitude * np.exp(-d2 / (2.0 * sigma**2))


def make_bag_classification(
    n_samples=200,
    *,
    min_instances=8,
    max_instances=16,
    n_key_instances=(1, 2),
    image_size=16,
    n_tabular=5,
    n_informative=2,
    class_sep=1.0,
    noise=1.0,
    missing_rate=0.0,
    n_patients=None,
    random_state=None,
    return_key_instances=False,
):
    """Generate a multiple-instance (bag of images) classification problem.

    Each row holds a bag of small grey images (the instances) and a few
    tabular columns. The label is binary and follows the standard
    multiple-instance assumption: a bag is positive if and only if at least
    one of its instances is a key instance.

    * Instances: a background whose grey level is drawn per instance
      (mean 64, standard deviation 12), a random stripe texture of amplitude
      10 and pixel noise of standard deviation ``10 * noise``; they have the
      same distribution in both classes. A key instance also carries a bright
      Gaussian blob (peak ``128 * class_sep`` above its background, standard
      deviation ``max(image_size / 12, 0.75)`` pixels) at a random position
      at least two standard deviations from the border. Grey levels are
      rounded and clipped to 0..255.
    * Bags: the number of instances is drawn uniformly in
      ``[min_instances, max_instances]`` independently of the label. A
      positive bag has between ``n_key_instances[0]`` and
      ``n_key_instances[1]`` key instances (uniformly) at random positions;
      a negative bag has none.
    * Labels: balanced, ``n_samples // 2`` negatives and the rest positives
      (in random order).

    The label can be read off the key instances only: the brightest pixel of
    a bag separates the classes almost perfectly, while the mean grey level
    of a bag changes little with the label (the blob covers a few pixels of
    one or two instances, and the instance backgrounds vary), and less as
    bags grow. Max or attention pooling over instances therefore beats mean
    pooling.

    * Tabular: ``n_tabular`` float columns ``tab_0``, ``tab_1``, ...,
      standard normal noise times ``noise``; the first ``n_informative``
      have their mean shifted by ``+-class_sep / 4`` with the label (a weak
      signal, a mean difference of ``class_sep / 2``).

    Parameters
    ----------
    n_samples : int, default=200
        Number of bags (rows), at least 2.
    min_instances : int, default=8
        Smallest number of instances in a bag, at least 1.
    max_instances : int, default=16
        Largest number of instances in a bag, at least ``min_instances``.
    n_key_instances : int or tuple of (int, int), default=(1, 2)
        Number of key instances of a positive bag: an int, or the inclusive
        range ``(low, high)`` it is drawn from uniformly;
        ``1 <= low <= high <= min_instances``.
    image_size : int, default=16
        Height and width of the instances, at least 4.
    n_tabular : int, default=5
        Number of tabular columns, at least 0.
    n_informative : int, default=2
        Number of tabular columns shifted with the label, in
        ``[0, n_tabular]``.
    class_sep : float, default=1.0
        Scale of the signal, > 0: the blob peak is ``128 * class_sep`` grey
        levels above the background and the informative tabular columns
        differ by ``class_sep / 2`` between the classes.
    noise : float, default=1.0
        Scale of the noise, >= 0: pixel noise of standard deviation
        ``10 * noise`` and tabular noise of standard deviation ``noise``.
        The instance backgrounds and textures vary even with ``noise=0``.
    missing_rate : float, default=0.0
        Fraction of rows whose bag is missing (the cell is None), in [0, 1);
        ``round(missing_rate * n_samples)`` rows. The tabular columns are
        never missing.
    n_patients : int, default=None
        If given (in ``[1, n_samples]``), rows are grouped into that many
        patients, each with at least one row. The instances of a patient
        share a background offset (standard deviation 8 grey levels) and the
        rows of a patient an offset on every tabular column (standard
        deviation ``noise / 2``); both identify the patient without saying
        anything about the label, which is drawn independently of the
        patient. If None, each row is its own patient.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw. Pass an int for reproducible output.
    return_key_instances : bool, default=False
        If True, also return the positions of the key instances.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_tabular + 2)
        Column ``bag`` (object dtype; each cell a list of uint8 arrays of
        shape (image_size, image_size), or None when missing), then the
        float64 columns ``tab_0`` ... ``tab_{n_tabular-1}``, then the int
        column ``patient_id``.
    y : ndarray of int of shape (n_samples,)
        Labels, 1 for a bag with key instances, 0 otherwise.
    key_instances : list of ndarray of int
        Only if ``return_key_instances``: for each row, the sorted positions
        in its bag of the key instances (empty for a negative bag), or None
        when the bag is missing.

    See Also
    --------
    make_multimodal_classification : One image per row instead of a bag.

    Examples
    --------
    >>> from skmultimodal.datasets import make_bag_classification
    >>> X, y, keys = make_bag_classification(
    ...     20, image_size=8, random_state=0, return_key_instances=True)
    >>> list(X.columns)
    ['bag', 'tab_0', 'tab_1', 'tab_2', 'tab_3', 'tab_4', 'patient_id']
    >>> bag = X["bag"].iloc[0]
    >>> 8 <= len(bag) <= 16, bag[0].shape, bag[0].dtype
    (True, (8, 8), dtype('uint8'))
    >>> all((len(k) > 0) == bool(label) for k, label in zip(keys, y))
    True
    """
    n_samples = _check_int(n_samples, "n_samples", min_value=2)
    min_instances = _check_int(min_instances, "min_instances", min_value=1)
    max_instances = _check_int(max_instances, "max_instances", min_value=1)
    if min_instances > max_instances:
        raise ValueError(
            f"min_instances must be <= max_instances, got min_instances="
            f"{min_instances} and max_instances={max_instances}"
        )
    key_low, key_high = _check_key_range(n_key_instances, min_instances)
    image_size = _check_int(image_size, "image_size", min_value=4)
    n_tabular = _check_int(n_tabular, "n_tabular", min_value=0)
    n_informative = _check_int(n_informative, "n_informative", min_value=0)
    if n_informative > n_tabular:
        raise ValueError(
            f"n_informative must be <= n_tabular, got n_informative={n_informative} "
            f"and n_tabular={n_tabular}"
        )
    class_sep = _check_float(class_sep, "class_sep", low=0.0, closed="neither")
    noise = _check_float(noise, "noise", low=0.0, closed="left")
    missing_rate = _check_float(
        missing_rate, "missing_rate", low=0.0, high=1.0, closed="left"
    )
    if n_patients is not None:
        n_patients = _check_int(
            n_patients, "n_patients", min_value=1, max_value=n_samples
        )
    return_key_instances = _check_bool(return_key_instances, "return_key_instances")
    rng = check_random_state(random_state)

    y = rng.permutation(np.arange(n_samples) % 2).astype(np.int64)
    if n_patients is None:
        patient = np.arange(n_samples)
        patient_offset = np.zeros(n_samples)
        tab_offset = np.zeros((n_samples, n_tabular))
    else:
        patient = _assign_patients(n_samples, n_patients, rng)
        patient_offset = _PATIENT_BRIGHTNESS * rng.normal(size=n_patients)[patient]
        tab_offset = _PATIENT_TAB_OFFSET * noise * rng.normal(
            size=(n_patients, n_tabular)
        )[patient]

    # Bags: sizes, key positions, then all instances at once.
    sizes = rng.randint(min_instances, max_instances + 1, size=n_samples)
    keys = []
    for size, label in zip(sizes, y):
        n_keys = rng.randint(key_low, key_high + 1) if label else 0
        keys.append(np.sort(rng.choice(size, n_keys, replace=False)).astype(np.intp))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(n_samples), sizes)
    pixels = _instances(
        int(sizes.sum()), image_size, _BACKGROUND + patient_offset[owner], noise, rng
    )
    key_index = np.concatenate([start + k for start, k in zip(starts, keys)])
    pixels[key_index] += _key_blobs(
        len(key_index), image_size, _KEY_AMPLITUDE * class_sep, rng
    )
    pixels = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    bags = [list(pixels[start : start + size]) for start, size in zip(starts, sizes)]

    tab = noise * rng.normal(size=(n_samples, n_tabular)) + tab_offset
    tab[:, :n_informative] += (_TAB_SHIFT * class_sep * (y - 0.5))[:, None]

    n_missing = int(round(missing_rate * n_samples))
    missing = rng.permutation(n_samples)[:n_missing]
    bag_column = _object_column(bags)
    bag_column[missing] = None
    for i in missing:
        keys[i] = None

    X = pd.DataFrame({"bag": pd.Series(bag_column, dtype=object)})
    for j in range(n_tabular):
        X[f"tab_{j}"] = tab[:, j]
    X["patient_id"] = patient.astype(np.int64)
    if return_key_instances:
        return X, y, keys
    return X, y
