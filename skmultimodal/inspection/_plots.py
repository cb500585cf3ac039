"""Plots of SHAP explanations and of modality importances."""

import numpy as np

__all__ = [
    "ModalityImportanceDisplay",
    "ShapBarDisplay",
    "ShapSummaryDisplay",
    "plot_modality_importance",
    "plot_shap_bar",
    "plot_shap_summary",
]


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


class _ShapDisplay:
    """One output of a SHAP explanation, drawn by a ``shap.plots`` function."""

    def __init__(self, explanation, *, title=None):
        self.explanation = explanation
        self.title = title

    @classmethod
    def from_explanation(cls, explanation, *, target=None):
        """The display of one output of a SHAP explanation.

        Parameters
        ----------
        explanation : shap.Explanation
            E.g. from :func:`shap_values`.
        target : object, default=None
            Class label (one of ``explanation.output_names``) to show for an
            explanation with one output per class; None takes the second
            (positive) class of a two-class explanation and is an error for
            more classes.

        Returns
        -------
        display
            Not yet drawn (call :meth:`plot`).
        """
        one, title = _one_output(explanation, target)
        return cls(one, title=title)

    @classmethod
    def from_estimator(cls, estimator, X, *, target=None, **kwargs):
        """Compute the SHAP values of a fitted classifier on ``X``.

        Parameters
        ----------
        estimator : fitted classifier
        X : DataFrame
        target : object, default=None
            Class label to show (see :meth:`from_explanation`).
        **kwargs
            Passed to :func:`shap_values` (``modality``, ``background``,
            ``n_samples``, ``random_state``, ...).

        Returns
        -------
        display
            Not yet drawn (call :meth:`plot`).
        """
        from ._shap import shap_values

        return cls.from_explanation(shap_values(estimator, X, **kwargs), target=target)

    def plot(self, ax=None, *, max_display=10):
        """Draw the explanation.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new pyplot figure sized for the
            features shown.
        max_display : int, default=10
            Features shown; the others are summed into one line.

        Returns
        -------
        self
            With ``ax_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        if ax is None:  # shap draws on the current axes and may resize the figure
            n_shown = min(max_display, self.explanation.shape[1])
            fig = plt.figure(figsize=(8, 0.4 * n_shown + 1.5))
            self._draw(None, max_display)
            ax = fig.axes[0]
        else:
            self._draw(ax, max_display)
        if self.title is not None:
            ax.set_title(self.title)
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ShapSummaryDisplay(_ShapDisplay):
    """Beeswarm summary of the SHAP values of one output (``shap.plots.beeswarm``).

    Each dot is one row's SHAP value for one feature, coloured by the
    feature's value; features are sorted by mean absolute SHAP value. Build
    it with :meth:`from_explanation` or :meth:`from_estimator`, then draw it
    with :meth:`plot`.

    Parameters
    ----------
    explanation : shap.Explanation
        SHAP values of one output, of shape (n_samples, n_features).
    title : str, default=None
        Title of the axes (e.g. the class shown).

    Attributes
    ----------
    explanation, title
        The parameters.
    ax_ : matplotlib Axes
        The axes drawn on (after :meth:`plot`).
    figure_ : matplotlib Figure

    See Also
    --------
    plot_shap_summary : The figure of ``from_explanation(...).plot()``.
    """

    def _draw(self, ax, max_display):
        import shap

        shap.plots.beeswarm(self.explanation, max_display=max_display, ax=ax,
                            show=False, plot_size=None)


class ShapBarDisplay(_ShapDisplay):
    """Bar plot of the mean absolute SHAP value of each feature (``shap.plots.bar``).

    Build it with :meth:`from_explanation` or :meth:`from_estimator`, then
    draw it with :meth:`plot`.

    Parameters
    ----------
    explanation : shap.Explanation
        SHAP values of one output, of shape (n_samples, n_features).
    title : str, default=None
        Title of the axes (e.g. the class shown).

    Attributes
    ----------
    explanation, title
        The parameters.
    ax_ : matplotlib Axes
        The axes drawn on (after :meth:`plot`).
    figure_ : matplotlib Figure

    See Also
    --------
    plot_shap_bar : The figure of ``from_explanation(...).plot()``.
    """

    def _draw(self, ax, max_display):
        import shap

        shap.plots.bar(self.explanation.abs.mean(0), max_display=max_display, ax=ax,
                       show=False)


def _save(display, path):
    if path is not None:
        display.figure_.savefig(path, dpi=150, bbox_inches="tight")
    return display.figure_


def plot_shap_summary(explanation, *, target=None, max_display=10, path=None):
    """Beeswarm summary of SHAP values (``shap.plots.beeswarm``).

    Each dot is one row's SHAP value for one feature, coloured by the
    feature's value; features are sorted by mean absolute SHAP value. The
    figure of :class:`ShapSummaryDisplay`.

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
    display = ShapSummaryDisplay.from_explanation(explanation, target=target)
    return _save(display.plot(max_display=max_display), path)


def plot_shap_bar(explanation, *, target=None, max_display=10, path=None):
    """Bar plot of the mean absolute SHAP value of each feature (``shap.plots.bar``).

    The figure of :class:`ShapBarDisplay`.

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
    display = ShapBarDisplay.from_explanation(explanation, target=target)
    return _save(display.plot(max_display=max_display), path)


class ModalityImportanceDisplay:
    """Box plot of modality importances, one box per modality.

    Follows scikit-learn's display pattern: build it with
    :meth:`from_estimator` (which runs :func:`modality_importance`) or
    :meth:`from_result` (its output), then draw it with :meth:`plot`.
    Modalities are sorted by mean importance (largest on top); the repeats
    give the spread, the diamond marks the mean, and the dashed line is no
    importance (the baseline score).

    Parameters
    ----------
    importances : ndarray of shape (n_modalities, n_repeats)
        Drop of the score at each repeat.
    modalities : list of str
        Name of each row of ``importances``.
    importances_mean : ndarray of shape (n_modalities,), default=None
        None takes the mean over the repeats.
    strategy : str, default=""
        How the modality was removed ("permute" or "mask"), for the axis label.
    baseline_score : float, default=None
        Score with every modality, for the title.

    Attributes
    ----------
    importances, modalities, importances_mean, strategy, baseline_score
        The parameters.
    ax_ : matplotlib Axes
        The axes drawn on (after :meth:`plot`).
    figure_ : matplotlib Figure

    See Also
    --------
    modality_importance : The importances drawn.
    plot_modality_importance : ``from_result(result).plot(ax=ax).ax_``.
    """

    def __init__(self, importances, modalities, *, importances_mean=None, strategy="",
                 baseline_score=None):
        self.importances = np.asarray(importances)
        self.modalities = list(modalities)
        self.importances_mean = (self.importances.mean(axis=1) if importances_mean is None
                                 else np.asarray(importances_mean))
        self.strategy = strategy
        self.baseline_score = baseline_score

    @classmethod
    def from_result(cls, result):
        """The display of an output of :func:`modality_importance`.

        Parameters
        ----------
        result : Bunch
            The output of :func:`modality_importance`.

        Returns
        -------
        display : ModalityImportanceDisplay
            Not yet drawn (call :meth:`plot`).
        """
        for key in ("importances", "importances_mean", "modalities"):
            if key not in result:
                raise ValueError(
                    f"result has no {key!r}; pass the output of modality_importance."
                )
        return cls(result["importances"], result["modalities"],
                   importances_mean=result["importances_mean"],
                   strategy=result.get("strategy", ""),
                   baseline_score=result.get("baseline_score"))

    @classmethod
    def from_estimator(cls, estimator, X, y, *, modalities=None, strategy="permute",
                       scoring=None, n_repeats=5, random_state=None):
        """Compute the modality importances of a fitted estimator on ``(X, y)``.

        Parameters
        ----------
        estimator, X, y, modalities, strategy, scoring, n_repeats, random_state
            As in :func:`modality_importance`.

        Returns
        -------
        display : ModalityImportanceDisplay
            Not yet drawn (call :meth:`plot`).
        """
        from ._modality_importance import modality_importance

        return cls.from_result(modality_importance(
            estimator, X, y, modalities=modalities, strategy=strategy, scoring=scoring,
            n_repeats=n_repeats, random_state=random_state))

    def plot(self, ax=None):
        """Draw one box per modality.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new pyplot figure.

        Returns
        -------
        self
            With ``ax_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt

        names = self.modalities
        order = np.argsort(self.importances_mean)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.6 * len(names) + 1.5))
        positions = np.arange(1, len(names) + 1)
        boxes = [self.importances[i] for i in order]
        try:
            ax.boxplot(boxes, positions=positions, orientation="horizontal", widths=0.5)
        except TypeError:  # matplotlib < 3.10
            ax.boxplot(boxes, positions=positions, vert=False, widths=0.5)
        ax.plot(self.importances_mean[order], positions, "D", color="C3", label="mean")
        ax.set_yticks(positions, [names[i] for i in order])
        ax.axvline(0.0, color="grey", linestyle="--", linewidth=1)
        repeats = self.importances.shape[1]
        ax.set_xlabel(f"drop of the score ({self.strategy}, {repeats} repeats)")
        if self.baseline_score is not None:
            ax.set_title(f"Modality importance (baseline score {self.baseline_score:.3f})")
        self.ax_, self.figure_ = ax, ax.figure
        return self


def plot_modality_importance(result, *, ax=None):
    """Box plot of the modality importances, one box per modality.

    Modalities are sorted by mean importance (largest on top); the repeats
    give the spread, the diamond marks the mean, and the dashed line is no
    importance (the baseline score). Draws a :class:`ModalityImportanceDisplay`.

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
    return ModalityImportanceDisplay.from_result(result).plot(ax=ax).ax_
