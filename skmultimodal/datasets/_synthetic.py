"""Synthetic image + tabular classification data with a controlled signal split."""

import math

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._base import _check_float, _check_int, _object_column

# Grey levels of the generated images.
_BACKGROUND = 32.0  # background level
_BLOB_LEVEL = 128.0  # blob peak for a latent value of 0
_BLOB_SCALE = 40.0  # blob peak change per standard deviation of the latent
_PIXEL_NOISE = 16.0  # pixel noise std per unit of ``noise`` (8 at the default)
# Patient structure (only with ``n_patients``).
_PATIENT_LATENT_SHARE = 0.9  # variance share of the latents common to a patient
_PATIENT_TAB_OFFSET = 0.5  # std of the patient offset, in feature standard deviations
_PATIENT_BRIGHTNESS = 12.0  # std of the patient background-level offset
_PATIENT_TEXTURE = 8.0  # amplitude of the patient-specific stripe texture
# Seed of everything that defines the distribution rather than the draw.
_LAYOUT_SEED = 0

_MODALITIES = ("image", "tabular")


def _blob_layout(image_size, n_classes):
    """Return the blob centres, shape (n_classes, 2) as (row, col), and sigma.

    The image is cut into a grid of ``ceil(sqrt(K))`` columns and
    ``ceil(K / columns)`` rows of cells; blob ``j`` sits at the centre of cell
    ``j`` (row-major order). Sigma is a sixth of the smaller cell side (at
    least half a pixel).
    """
    n_cols = math.ceil(math.sqrt(n_classes))
    n_rows = math.ceil(n_classes / n_cols)
    cell_h = image_size / n_rows
    cell_w = image_size / n_cols
    centers = np.array(
        [
            ((j // n_cols + 0.5) * cell_h - 0.5, (j % n_cols + 0.5) * cell_w - 0.5)
            for j in range(n_classes)
        ]
    )
    sigma = max(min(cell_h, cell_w) / 6.0, 0.5)
    return centers, sigma


def _blob_profiles(image_size, n_classes):
    """Return the Gaussian blob profiles, shape (n_classes, H, W), peak 1."""
    centers, sigma = _blob_layout(image_size, n_classes)
    rows, cols = np.mgrid[0:image_size, 0:image_size].astype(float)
    d2 = (rows[None] - centers[:, 0, None, None]) ** 2 + (
        cols[None] - centers[:, 1, None, None]
    ) ** 2
    return np.exp(-d2 / (2.0 * sigma**2))


def signal_mask(image_size, n_classes, *, per_component=False):
    """Return where :func:`make_multimodal_classification` puts the image signal.

    Latent component ``j`` of the image modality is drawn as a Gaussian blob
    centred in cell ``j`` (row-major) of a grid of ``ceil(sqrt(n_classes))``
    columns and ``ceil(n_classes / columns)`` rows covering the image, with a
    standard deviation ``sigma`` of a sixth of the smaller cell side. The mask
    of a blob is the disc of radius ``2 * sigma`` around its centre (the
    pixels where the blob profile is at least ``exp(-2)`` of its peak). Each
    disc stays inside its cell, so for cells of at least 4 pixels (e.g.
    ``image_size >= 8`` for two classes) the masks do not touch the border.

    Parameters
    ----------
    image_size : int
        Height and width of the images, >= 4.
    n_classes : int
        Number of classes (= number of latent components, = number of blobs),
        >= 2.
    per_component : bool, default=False
        If True, return one mask per blob.

    Returns
    -------
    mask : ndarray of bool, shape (image_size, image_size) or \
            (n_classes, image_size, image_size)
        The union of the blob masks, or the mask of each blob.

    Examples
    --------
    >>> from skmultimodal.datasets import signal_mask
    >>> mask = signal_mask(32, 2)
    >>> mask.shape, bool(mask[15, 8]), bool(mask[0, 0])
    ((32, 32), True, False)
    """
    image_size = _check_int(image_size, "image_size", min_value=4)
    n_classes = _check_int(n_classes, "n_classes", min_value=2)
    masks = _blob_profiles(image_size, n_classes) >= math.exp(-2.0)
    return masks if per_component else masks.any(axis=0)


def _tabular_mixing(n_classes, n_informative):
    """Fixed mixing matrix from the latents to the informative features.

    A block of a random orthogonal matrix (fixed seed), scaled so that the
    informative features have on average unit variance per unit latent
    variance. Its rows are orthonormal (up to the scale) when
    ``n_informative >= n_classes``, so every direction of the latent space is
    measured equally well.
    """
    size = max(n_classes, n_informative)
    rng = np.random.RandomState(_LAYOUT_SEED)
    q, r = np.linalg.qr(rng.normal(size=(size, size)))
    q *= np.sign(np.diag(r))
    return q[:n_classes, :n_informative] * math.sqrt(size / n_classes)


def _check_missing_rate(missing_rate, n_samples):
    """Validate ``missing_rate``; return the number of missing rows per modality."""
    if isinstance(missing_rate, dict):
        unknown = set(missing_rate) - set(_MODALITIES)
        if unknown:
            raise ValueError(
                f"missing_rate keys must be among {_MODALITIES}, got unknown "
                f"{sorted(map(str, unknown))}"
            )
        rates = {m: missing_rate.get(m, 0.0) for m in _MODALITIES}
    else:
        rates = {m: missing_rate for m in _MODALITIES}
    counts = {}
    for modality, rate in rates.items():
        rate = _check_float(
            rate, f"missing_rate[{modality!r}]", low=0.0, high=1.0, closed="left"
        )
        counts[modality] = int(round(rate * n_samples))
    if sum(counts.values()) > n_samples:
        raise ValueError(
            "missing rates must add up to at most 1: a row never has all its "
            f"modalities missing; got {rates}"
        )
    return counts


def _assign_patients(n_samples, n_patients, rng):
    """Patient index of each sample, sorted; every patient has >= 1 sample."""
    extra = rng.randint(n_patients, size=n_samples - n_patients)
    return np.sort(np.concatenate([np.arange(n_patients), extra]))


def _draw_latents(n_samples, n_classes, patient, rng):
    """Draw (z_img, z_tab), each N(0, I_K) marginally.

    With patients, a share ``_PATIENT_LATENT_SHARE`` of each latent's variance
    is common to the samples of a patient.
    """
    latents = []
    for _ in _MODALITIES:
        z = rng.normal(size=(n_samples, n_classes))
        if patient is not None:
            z_patient = rng.normal(size=(patient.max() + 1, n_classes))
            z = (
                math.sqrt(_PATIENT_LATENT_SHARE) * z_patient[patient]
                + math.sqrt(1.0 - _PATIENT_LATENT_SHARE) * z
            )
        latents.append(z)
    return latents


def _make_tabular(z_tab, n_features, n_informative, class_sep, noise, patient, rng):
    """Tabular block: noisy mixtures of ``z_tab`` then pure-noise columns."""
    n_samples, n_classes = z_tab.shape
    scale = math.sqrt(class_sep**2 + noise**2)
    informative = class_sep * z_tab @ _tabular_mixing(n_classes, n_informative)
    informative += noise * rng.normal(size=informative.shape)
    uninformative = scale * rng.normal(size=(n_samples, n_features - n_informative))
    tab = np.hstack([informative, uninformative])
    if patient is not None:
        offsets = rng.normal(size=(patient.max() + 1, n_features))
        tab += _PATIENT_TAB_OFFSET * scale * offsets[patient]
    return tab


def _patient_image_effects(n_patients, image_size, rng):
    """Per-patient background offset, shape (P,), and texture, shape (P, H, W)."""
    brightness = _PATIENT_BRIGHTNESS * rng.normal(size=n_patients)
    angle = rng.uniform(0.0, np.pi, size=n_patients)[:, None, None]
    cycles = rng.uniform(1.5, 4.0, size=n_patients)[:, None, None]
    phase = rng.uniform(0.0, 2.0 * np.pi, size=n_patients)[:, None, None]
    rows, cols = np.mgrid[0:image_size, 0:image_size] / image_size
    wave = cols[None] * np.cos(angle) + rows[None] * np.sin(angle)
    texture = _PATIENT_TEXTURE * np.sin(2.0 * np.pi * cycles * wave + phase)
    return brightness, texture


def _make_images(z_img, image_size, n_channels, class_sep, noise, patient, rng):
    """Images, uint8 of shape (n, H, W) or (n, H, W, C)."""
    n_samples, n_classes = z_img.shape
    u = class_sep * z_img + noise * rng.normal(size=z_img.shape)
    peaks = _BLOB_LEVEL + _BLOB_SCALE * u / math.sqrt(class_sep**2 + noise**2)
    background = np.full(n_samples, _BACKGROUND)
    texture = 0.0
    if patient is not None:
        brightness, textures = _patient_image_effects(
            patient.max() + 1, image_size, rng
        )
        background += brightness[patient]
        texture = textures[patient]
    profiles = _blob_profiles(image_size, n_classes)
    field = background[:, None, None] + np.einsum(
        "nk,khw->nhw", peaks - background[:, None], profiles
    )
    field = field + texture
    n_colour = min(n_channels, 3)
    pixel_noise = _PIXEL_NOISE * noise * rng.normal(
        size=(n_samples, image_size, image_size, n_colour)
    )
    images = np.clip(np.rint(field[..., None] + pixel_noise), 0, 255).astype(np.uint8)
    if n_channels == 1:
        return images[..., 0]
    if n_channels == 4:
        alpha = np.full(images.shape[:-1] + (1,), 255, dtype=np.uint8)
        images = np.concatenate([images, alpha], axis=-1)
    return images


def _check_arguments(
    n_samples,
    n_classes,
    image_size,
    n_channels,
    n_features,
    n_informative,
    image_share,
    class_sep,
    noise,
    n_patients,
    shuffle,
    interaction,
):
    if not isinstance(interaction, (bool, np.bool_)):
        raise ValueError(f"interaction must be a bool, got {interaction!r}")
    n_classes = _check_int(n_classes, "n_classes", min_value=2)
    if interaction and n_classes != 2:
        raise ValueError(
            f"interaction=True makes a binary problem: n_classes must be 2, got {n_classes}"
        )
    n_samples = _check_int(n_samples, "n_samples", min_value=2 * n_classes)
    image_size = _check_int(image_size, "image_size", min_value=4)
    n_channels = _check_int(n_channels, "n_channels")
    if n_channels not in (1, 3, 4):
        raise ValueError(
            f"n_channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got {n_channels}"
        )
    n_features = _check_int(n_features, "n_features", min_value=1)
    n_informative = _check_int(
        n_informative, "n_informative", min_value=1, max_value=n_features
    )
    image_share = _check_float(image_share, "image_share", low=0.0, high=1.0)
    class_sep = _check_float(class_sep, "class_sep", low=0.0, closed="neither")
    noise = _check_float(noise, "noise", low=0.0, closed="left")
    if n_patients is not None:
        n_patients = _check_int(
            n_patients, "n_patients", min_value=1, max_value=n_samples
        )
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"shuffle must be a bool, got {shuffle!r}")
    return (
        n_samples,
        n_classes,
        image_size,
        n_channels,
        n_features,
        n_informative,
        image_share,
        class_sep,
        noise,
        n_patients,
    )


def make_multimodal_classification(
    n_samples=200,
    *,
    n_classes=2,
    image_size=32,
    n_channels=1,
    n_features=10,
    n_informative=4,
    image_share=0.5,
    class_sep=2.0,
    noise=0.5,
    n_patients=None,
    missing_rate=0.0,
    shuffle=True,
    interaction=False,
    random_state=None,
):
    """Generate an image + tabular classification problem.

    The class signal is split between the two modalities so that neither
    alone suffices while both together do well. Each sample has two latent
    vectors, ``z_img`` and ``z_tab``, drawn from ``N(0, I_K)`` with
    ``K = n_classes``. The class scores are
    ``s = sqrt(image_share) * z_img + sqrt(1 - image_share) * z_tab`` and the
    label is ``y = argmax(s)`` (for two classes a linear split). By symmetry
    the classes are balanced in expectation.

    * Image: a dark background (grey level 32, pixel noise of standard
      deviation ``16 * noise``) with one Gaussian blob per latent component,
      at the fixed locations given by :func:`signal_mask`. The peak grey level
      of blob ``j`` is ``128 + 40 * u_j`` (clipped to 0..255) with
      ``u_j = (class_sep * z_img[j] + noise * e_j) / sqrt(class_sep**2 +
      noise**2)``, ``e_j ~ N(0, 1)``: an affine function of ``z_img[j]`` plus
      noise.
    * Tabular: ``n_features`` columns ``tab_0``, ``tab_1``, ... The first
      ``n_informative`` are ``class_sep * z_tab @ A + noise * e`` with a fixed
      mixing matrix ``A`` (a block of a random orthogonal matrix drawn with a
      fixed seed, so the distribution does not depend on ``random_state``).
      The others are pure noise of the same scale. With
      ``n_informative < n_classes`` part of ``z_tab`` is not observable.

    With the defaults (two classes, ``image_share=0.5``) a linear model on
    both modalities reaches about 0.9 accuracy and one on either modality
    alone about 0.75. ``image_share=1.0`` puts all the signal in the image,
    ``0.0`` all of it in the table.

    With ``interaction=True`` (two classes only) the label is instead the
    sign of the product of the first latent of each modality,
    ``y = int(z_img[0] * z_tab[0] > 0)`` (an XOR of their signs), and
    ``image_share`` is ignored. The images and the table are generated as
    above, so each modality alone says nothing about the class (any model
    on one modality is at chance, 0.5), while a model that combines them
    multiplicatively does well (a logistic regression on the two latents
    read off the data and their product: about 0.86 at the default noise,
    0.96 with ``noise=0.1``): the evidence is an interaction
    between the modalities, not a sum of per-modality evidence, so it tests
    whether a fusion model can learn cross-modal interactions (late fusion
    of per-modality predictions cannot).

    Parameters
    ----------
    n_samples : int, default=200
        Number of samples, at least ``2 * n_classes``.
    n_classes : int, default=2
        Number of classes, at least 2.
    image_size : int, default=32
        Height and width of the images, at least 4.
    n_channels : {1, 3, 4}, default=1
        1 gives grey images of shape (image_size, image_size); 3 gives RGB
        images of shape (image_size, image_size, 3) with the blobs in every
        channel and independent noise per channel; 4 gives RGBA images with
        an opaque alpha channel.
    n_features : int, default=10
        Number of tabular columns, at least 1.
    n_informative : int, default=4
        Number of tabular columns carrying the signal, in ``[1, n_features]``.
    image_share : float, default=0.5
        Share of the class-score variance carried by the image, in [0, 1].
    class_sep : float, default=2.0
        Scale of the latent signal in both modalities, > 0. What matters is
        its ratio to ``noise``.
    noise : float, default=0.5
        Standard deviation of the measurement noise added to the latents in
        both modalities, >= 0. It also scales the pixel noise.
    n_patients : int, default=None
        If given (in ``[1, n_samples]``), samples are grouped into that many
        patients, each with at least one sample, and ``X`` gets an int column
        ``patient_id`` in first position. 90% of the variance of each latent
        is shared by the samples of a patient, so the samples of a patient
        tend to have the same label; each patient also has its own offset on
        every tabular column and its own image brightness and stripe texture,
        which identify the patient without saying anything about the class.
        A random train/test split then leaks (a model can recognise the
        patient and recall the labels of that patient's other samples):
        evaluate with patient-grouped cross-validation (e.g.
        :class:`sklearn.model_selection.GroupKFold` on ``patient_id``).
    missing_rate : float or dict, default=0.0
        Fraction of rows where a modality is missing: the image cell is None,
        or all tabular columns are NaN. A float applies to each modality; a
        dict gives the rate per modality with keys ``"image"`` and
        ``"tabular"`` (absent keys mean 0). Rates are in [0, 1) and are met
        exactly up to rounding (``round(rate * n_samples)`` rows). A row never
        has all modalities missing, so the rates must add up to at most 1.
    shuffle : bool, default=True
        Whether to shuffle the rows. If False, the rows of a patient are
        contiguous and patients are in order of ``patient_id``.
    interaction : bool, default=False
        If True (requires ``n_classes=2``), the label is the interaction
        ``z_img[0] * z_tab[0] > 0`` of the two modalities rather than the sum
        of their evidence; see above. With False the output is the same as
        without the parameter for the same ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw. Pass an int for reproducible output. The blob
        locations and the mixing matrix never depend on it.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_features + 1 or + 2)
        Column ``patient_id`` (int, only with ``n_patients``), then column
        ``image`` (object dtype; each cell a uint8 array of shape
        (image_size, image_size) if ``n_channels == 1`` else
        (image_size, image_size, n_channels), or None when missing), then the
        float64 columns ``tab_0`` ... ``tab_{n_features-1}``.
    y : ndarray of int of shape (n_samples,)
        Labels in ``0 .. n_classes - 1``.

    See Also
    --------
    signal_mask : Where the image signal is.

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(100, random_state=0)
    >>> X.shape, X["image"].iloc[0].shape, X["image"].iloc[0].dtype
    ((100, 11), (32, 32), dtype('uint8'))
    """
    (
        n_samples,
        n_classes,
        image_size,
        n_channels,
        n_features,
        n_informative,
        image_share,
        class_sep,
        noise,
        n_patients,
    ) = _check_arguments(
        n_samples,
        n_classes,
        image_size,
        n_channels,
        n_features,
        n_informative,
        image_share,
        class_sep,
        noise,
        n_patients,
        shuffle,
        interaction,
    )
    n_missing = _check_missing_rate(missing_rate, n_samples)
    rng = check_random_state(random_state)

    patient = None
    if n_patients is not None:
        patient = _assign_patients(n_samples, n_patients, rng)
    z_img, z_tab = _draw_latents(n_samples, n_classes, patient, rng)
    if interaction:
        y = (z_img[:, 0] * z_tab[:, 0] > 0).astype(np.int64)
    else:
        scores = math.sqrt(image_share) * z_img + math.sqrt(1.0 - image_share) * z_tab
        y = np.argmax(scores, axis=1).astype(np.int64)

    images = _make_images(z_img, image_size, n_channels, class_sep, noise, patient, rng)
    tab = _make_tabular(
        z_tab, n_features, n_informative, class_sep, noise, patient, rng
    )

    # Missing rows: disjoint sets, so no row loses every modality.
    order = rng.permutation(n_samples)
    image_missing = order[: n_missing["image"]]
    tab[order[n_missing["image"] : n_missing["image"] + n_missing["tabular"]]] = np.nan
    image_column = _object_column(images)
    image_column[image_missing] = None

    X = pd.DataFrame(tab, columns=[f"tab_{i}" for i in range(n_features)])
    X.insert(0, "image", pd.Series(image_column, dtype=object))
    if patient is not None:
        X.insert(0, "patient_id", patient.astype(np.int64))

    if shuffle:
        rows = rng.permutation(n_samples)
        X = X.iloc[rows].reset_index(drop=True)
        y = y[rows]
    return X, y
