"""Plots of SHAP explanations and of modality importances."""

import numpy as np

__all__ = ["plot_modality_importance", "plot_shap_bar", "plot_shap_summary"]


def _one_output(explanation, target):
    """The 2-D explanation of one output and a title naming it (or None).

    ``target`` is a label among ``explanation.output_names``.
    """
    values = np.asarray(explanation.values)
    if values.ndim == 2:
        if target is not None:
            raise ValueError(
                f"target={target!r} was given but the explanation has a single output."
            )
        return explanation, None
    if values.ndim != 3:
        raise ValueError(
            f"Expected SHAP values of shape (n_samples, n_features[, n_outputs]), got "
            f"{values.shape}."
        )
    names = explanation.output_names
    names = list(range(values.shape[2])) if names is None else list(names)
    if target is None:
        if len(names) != 2:
            raise ValueError(
                f"The explanation has {len(names)} outputs {names}; choose one with "
                "target=<class label>."
            )
        index = 1
    else:
        matches = [i for i, name in enumerate(names) if name == target]
        if not matches:
            raise ValueError(f"target={target!r} is not among the outputs {names}.")
        index = matches[0]
    return explanation[:, :, index], f"class {names[index]}"


def _shap_figure(explanation, target, max_display):
    """The one-output explanation, its title and a pyplot figure sized for it."""
    import matplotlib.pyplot as plt

    one, title = _one_output(explanation, target)
    n_shown = min(max_display, one.shape[1])
    return one, title, plt.figure(figsize=(8, 0.4 * n_shown + 1.5))


def _finish(fig, title, path):
    if title is not None:
        fig.axes[0].set_title(title)
    if path is not None:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    return fig


def plot_shap_summary(explanation, *, target=None, max_display=10, path=None):
    """Beeswarm summary of SHAP values (``shap.plots.beeswarm``).

    Each dot is one row's SHAP value for one feature, coloured by the
    feature's value; features are sorted by mean absolute SHAP value.

    Parameters
    ----------
    explanation : shap.Explanation
        E.g. from :func:`shap_values`.
    target : object, default=None
        Class label (one of ``explanation.output_names``) to show for an
        explanation with one output per class; None takes the second (positive)
        class of a two-class explanation and is an error for more classes.
    max_display : int, default=10
        Features shown; the others are summed into one line.
    path : str or path-like, default=None
        If given, the figure is also saved there (PNG).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    import shap

    one, title, fig = _shap_figure(explanation, target, max_display)
    shap.plots.beeswarm(one, max_display=max_display, show=False, plot_size=None)
    return _finish(fig, title, path)


def plot_shap_bar(explanation, *, target=None, max_display=10, path=None):
    """Bar plot of the mean absolute SHAP value of each feature (``shap.plots.bar``).

    Parameters
    ----------
    explanation : shap.Explanation
        E.g. from :func:`shap_values`.
    target : object, default=None
        Class label to show (see :func:`plot_shap_summary`).
    max_display : int, default=10
        Features shown; the others are summed into one bar.
    path : str or path-like, default=None
        If given, the figure is also saved there (PNG).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    import shap

    one, title, fig = _shap_figure(explanation, target, max_display)
    shap.plots.bar(one.abs.mean(0), max_display=max_display, show=False)
    return _finish(fig, title, path)


def plot_modality_importance(result, *, ax=None):
    """Box plot of the modality importances, one box per modality.

    Modalities are sorted by mean importance (largest on top); the repeats
    give the spread, the diamond marks the mean, and the dashed line is no
    importance (the baseline score).

    Parameters
    ----------
    result : Bunch
        The output of :func:`modality_importance`.
    ax : matplotlib Axes, default=None
        Axes to draw on; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    for key in ("importances", "importances_mean", "modalities"):
        if key not in result:
            raise ValueError(
                f"result has no {key!r}; pass the output of modality_importance."
            )
    importances = np.asarray(result["importances"])
    names = list(result["modalities"])
    order = np.argsort(result["importances_mean"])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.6 * len(names) + 1.5))
    positions = np.arange(1, len(names) + 1)
    boxes = [importances[i] for i in order]
    try:
        ax.boxplot(boxes, positions=positions, orientation="horizontal", widths=0.5)
    except TypeError:  # matplotlib < 3.10
        ax.boxplot(boxes, positions=positions, vert=False, widths=0.5)
    ax.plot(np.asarray(result["importances_mean"])[order], positions, "D",
            color="C3", label="mean")
    ax.set_yticks(positions, [names[i] for i in order])
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=1)
    strategy = result.get("strategy", "")
    repeats = importances.shape[1]
    ax.set_xlabel(f"drop of the score ({strategy}, {repeats} repeats)")
    baseline = result.get("baseline_score")
    if baseline is not None:
        ax.set_title(f"Modality importance (baseline score {baseline:.3f})")
    return ax
