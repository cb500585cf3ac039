"""Synthetic image + tabular survival data with a known proportional hazard."""

import math

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from sklearn.utils import check_random_state
from sksurv.util import Surv

from ._base import _check_bool, _check_float, _check_int, _object_column
from ._synthetic import (
    _BACKGROUND,
    _BLOB_LEVEL,
    _BLOB_SCALE,
    _PIXEL_NOISE,
    _blob_profiles,
    _make_tabular,
)

# Monte Carlo draws (fixed seed) of the population's event times on which the
# censoring rate is calibrated: the rate depends on the arguments only, never
# on the drawn sample.
_N_CALIBRATION = 50_000
_CALIBRATION_SEED = 0


def _log_hazard(z_img, z_tab, image_effect, tabular_effect, interaction):
    """True log relative hazard of each row."""
    return image_effect * z_img + tabular_effect * z_tab + interaction * z_img * z_tab


def _event_times(eta, unit_exponential, time_scale, weibull_shape):
    """Weibull proportional-hazards times: H0(t) = (t / time_scale) ** shape."""
    return time_scale * (unit_exponential * np.exp(-eta)) ** (1.0 / weibull_shape)


def _censoring_rate(censoring, effects, time_scale, weibull_shape):
    """Rate of the exponential censoring times that censors ``censoring`` of the rows.

    The share censored at rate ``r`` is ``E[1 - exp(-r T)]``, increasing in
    ``r``; it is computed on a fixed Monte Carlo sample of the event times
    ``T`` and solved for ``r``.
    """
    if censoring == 0.0:
        return 0.0
    rng = np.random.RandomState(_CALIBRATION_SEED)
    z_img, z_tab = rng.normal(size=(2, _N_CALIBRATION))
    eta = _log_hazard(z_img, z_tab, *effects)
    times = _event_times(eta, rng.exponential(size=_N_CALIBRATION), time_scale,
                         weibull_shape)

    def excess(log_rate):
        return float(np.mean(-np.expm1(-np.exp(log_rate) * times))) - censoring

    median = float(np.median(times))
    low, high = math.log(1e-12 / median), math.log(1e12 / median)
    return math.exp(brentq(excess, low, high, xtol=1e-10))


def _make_float_images(z_img, image_size, noise, rng):
    """Grey float32 images in [0, 1], one central blob whose peak follows ``z_img``.

    As in :func:`make_multimodal_classification` with one latent component
    and ``class_sep=1``: peak grey level ``128 + 40 * u`` with ``u = (z_img +
    noise * e) / sqrt(1 + noise**2)`` on a background of 32, pixel noise of
    standard deviation ``16 * noise``; then divided by 255 and clipped.
    """
    n_samples = len(z_img)
    u = (z_img + noise * rng.normal(size=n_samples)) / math.sqrt(1.0 + noise**2)
    peaks = _BLOB_LEVEL + _BLOB_SCALE * u
    profile = _blob_profiles(image_size, 1)[0]
    field = _BACKGROUND + (peaks - _BACKGROUND)[:, None, None] * profile
    field = field + _PIXEL_NOISE * noise * rng.normal(size=field.shape)
    return np.clip(field / 255.0, 0.0, 1.0).astype(np.float32)


def make_multimodal_survival(
    n_samples=200,
    *,
    image_size=16,
    n_features=10,
    n_informative=3,
    image_effect=1.0,
    tabular_effect=1.0,
    interaction=0.0,
    noise=0.5,
    censoring=0.3,
    weibull_shape=1.0,
    time_scale=10.0,
    return_risk=False,
    random_state=None,
):
    """Generate image + tabular survival data with a known proportional hazard.

    Each row (one patient) has two latent variables, ``z_img`` and ``z_tab``,
    independent ``N(0, 1)``. The hazard is

    ``h(t | x) = h0(t) * exp(eta)``, with
    ``eta = image_effect * z_img + tabular_effect * z_tab
    + interaction * z_img * z_tab``

    and the Weibull baseline ``h0(t) = (k / s) * (t / s) ** (k - 1)``
    (``k = weibull_shape``, ``s = time_scale``; ``k = 1`` is the exponential
    model of constant hazard ``1 / s``). The event time is drawn as
    ``T = s * (E * exp(-eta)) ** (1 / k)`` with ``E ~ Exp(1)``. A higher
    ``eta`` means an earlier event: ``eta`` is the true risk score.

    * Image: a dark background with one Gaussian blob in the centre whose
      peak intensity is an affine function of ``z_img`` plus noise (as in
      :func:`make_multimodal_classification`): grey level ``128 + 40 * u``,
      ``u = (z_img + noise * e) / sqrt(1 + noise**2)``, background 32, pixel
      noise of standard deviation ``16 * noise``, all divided by 255 and
      clipped to [0, 1].
    * Tabular: ``n_features`` columns ``tab_0``, ``tab_1``, ... The first
      ``n_informative`` are ``z_tab * a_j + noise * e_j`` with fixed loadings
      ``a_j`` (the mixing of :func:`make_multimodal_classification`, not
      depending on ``random_state``); the others are noise of the same scale.

    Censoring is independent of everything else: exponential censoring times
    ``C`` whose rate is set so that the expected share of censored rows is
    ``censoring`` (calibrated on a fixed Monte Carlo sample of the
    population, so it depends on the arguments only). The observed time is
    ``min(T, C)`` and the event indicator ``T <= C``. The share censored in a
    draw varies around ``censoring`` by about ``sqrt(censoring * (1 -
    censoring) / n_samples)``.

    With the defaults, Harrell's concordance index of the true risk ``eta``
    is about 0.79; ``z_img`` or ``z_tab`` alone gives about 0.69 (each
    carries half of the variance of ``eta``), the noisy blob intensity or
    informative columns about 0.67-0.69. A model seeing both modalities can
    do better than one seeing either.

    Parameters
    ----------
    n_samples : int, default=200
        Number of rows (patients), at least 2.
    image_size : int, default=16
        Height and width of the images, at least 4.
    n_features : int, default=10
        Number of tabular columns, at least 1.
    n_informative : int, default=3
        Number of tabular columns carrying ``z_tab``, in ``[1, n_features]``.
    image_effect : float, default=1.0
        Log hazard ratio per standard deviation of ``z_img``.
    tabular_effect : float, default=1.0
        Log hazard ratio per standard deviation of ``z_tab``.
    interaction : float, default=0.0
        Coefficient of ``z_img * z_tab`` in the log hazard: a risk that no
        modality alone, nor an additive model of the two, fully explains.
    noise : float, default=0.5
        Standard deviation of the measurement noise added to the latents in
        both modalities, >= 0 (it also scales the pixel noise). With 0 the
        latents are read exactly from the blob peak and the informative
        columns.
    censoring : float, default=0.3
        Expected share of censored rows, in [0, 1). 0 gives no censoring.
    weibull_shape : float, default=1.0
        Shape ``k`` of the Weibull baseline hazard, > 0: 1 is constant
        (exponential times), > 1 increasing, < 1 decreasing.
    time_scale : float, default=10.0
        Scale ``s`` of the baseline, > 0: the event times at ``eta = 0`` have
        median ``s * log(2) ** (1 / k)``.
    return_risk : bool, default=False
        If True, also return the true log hazard ``eta`` of each row.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw. Pass an int for reproducible output.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_features + 2)
        Column ``patient_id`` (int, ``0 .. n_samples - 1``), column
        ``image`` (object dtype; each cell a float32 array of shape
        (image_size, image_size) with values in [0, 1]), then the float64
        columns ``tab_0`` ... ``tab_{n_features-1}``.
    y : structured ndarray of shape (n_samples,)
        Fields ``event`` (bool, True when the event was observed) and
        ``time`` (float64, > 0), as made by
        :meth:`sksurv.util.Surv.from_arrays`.
    risk : ndarray of shape (n_samples,)
        Only with ``return_risk=True``: the true log hazard ``eta``.

    See Also
    --------
    make_multimodal_classification : The classification counterpart.

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_survival
    >>> X, y, risk = make_multimodal_survival(300, return_risk=True, random_state=0)
    >>> list(X.columns[:4]), X["image"].iloc[0].shape, y.dtype.names
    (['patient_id', 'image', 'tab_0', 'tab_1'], (16, 16), ('event', 'time'))
    >>> from sksurv.metrics import concordance_index_censored
    >>> c_index = concordance_index_censored(y["event"], y["time"], risk)[0]
    >>> bool(c_index > 0.7)
    True
    """
    n_samples = _check_int(n_samples, "n_samples", min_value=2)
    image_size = _check_int(image_size, "image_size", min_value=4)
    n_features = _check_int(n_features, "n_features", min_value=1)
    n_informative = _check_int(
        n_informative, "n_informative", min_value=1, max_value=n_features
    )
    effects = (
        _check_float(image_effect, "image_effect"),
        _check_float(tabular_effect, "tabular_effect"),
        _check_float(interaction, "interaction"),
    )
    noise = _check_float(noise, "noise", low=0.0, closed="left")
    censoring = _check_float(censoring, "censoring", low=0.0, high=1.0, closed="left")
    weibull_shape = _check_float(
        weibull_shape, "weibull_shape", low=0.0, closed="neither"
    )
    time_scale = _check_float(time_scale, "time_scale", low=0.0, closed="neither")
    return_risk = _check_bool(return_risk, "return_risk")
    rate = _censoring_rate(censoring, effects, time_scale, weibull_shape)
    rng = check_random_state(random_state)

    z_img = rng.normal(size=n_samples)
    z_tab = rng.normal(size=n_samples)
    eta = _log_hazard(z_img, z_tab, *effects)
    event_time = _event_times(
        eta, rng.exponential(size=n_samples), time_scale, weibull_shape
    )
    if rate > 0.0:
        censoring_time = rng.exponential(scale=1.0 / rate, size=n_samples)
    else:
        censoring_time = np.full(n_samples, np.inf)
    observed = event_time <= censoring_time
    time = np.minimum(event_time, censoring_time)
    # a time that underflows to 0 (extreme risk) is kept positive
    time = np.maximum(time, np.finfo(np.float64).tiny)

    images = _make_float_images(z_img, image_size, noise, rng)
    tab = _make_tabular(z_tab[:, None], n_features, n_informative, 1.0, noise, None, rng)

    X = pd.DataFrame(tab, columns=[f"tab_{i}" for i in range(n_features)])
    X.insert(0, "image", pd.Series(_object_column(images), dtype=object))
    X.insert(0, "patient_id", np.arange(n_samples, dtype=np.int64))
    y = Surv.from_arrays(event=observed, time=time, name_event="event", name_time="time")
    if return_risk:
        return X, y, eta
    return X, y
