"""Study 3's two-stage model: attention CNN features, then a stacking ensemble."""

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..estimators import DeepFeatureExtractor


def make_stacking_ensemble(modalities, *, max_epochs=10, batch_size=32, lr=1e-3, cv=5,
                           final_estimator=None, n_jobs=None, device="auto",
                           random_state=None):
    """Build study 3's two-stage model as a scikit-learn Pipeline.

    Stage 1 is a :class:`DeepFeatureExtractor`: one attention CNN per image
    column (e.g. ECA for ultrasound, CBAM for mammography) trained on the
    labels, whose pooled deep features are concatenated (fused). After
    standardisation, stage 2 is a
    :class:`~sklearn.ensemble.StackingClassifier` with logistic regression,
    SVM (with Platt-scaled probabilities, ``CalibratedClassifierCV(SVC(),
    ensemble=False)``), random forest and Extra-Trees as base learners and an MLP
    meta-learner, trained on out-of-fold base-learner probabilities
    (``cv`` folds).

    Stage-1 CNN training sees all training rows of the (outer) fold; the
    stacking is out-of-fold within those rows only, so the meta-learner is
    fitted on features the CNNs have seen in training (slightly optimistic
    base-learner inputs). Evaluate the whole pipeline with an outer
    cross-validation (``cross_validate(pipe, X, y, cv=StratifiedGroupKFold(5),
    groups=...)``) so the test rows never reach either stage in fit.

    Parameters
    ----------
    modalities : list of (str, ImageModality) tuples
        One attention CNN per image modality, e.g.
        ``[("us", ImageModality("us_path", attention="eca")),
        ("mammo", ImageModality("mammo_path", attention="cbam"))]``; see
        :class:`~skmultimodal.DeepFeatureExtractor`.
    max_epochs : int, default=10
        Training epochs of each CNN.
    batch_size : int, default=32
    lr : float, default=1e-3
    cv : int or cross-validation generator, default=5
        Folds of the stacking's out-of-fold predictions.
    final_estimator : classifier, default=None
        Meta-learner; None gives ``MLPClassifier(hidden_layer_sizes=(32,),
        max_iter=1000)``.
    n_jobs : int, default=None
        Jobs of the StackingClassifier.
    device : str, default="auto"
    random_state : int or None, default=None
        Seeds the CNNs, the SVM, the forests and the MLP.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"features"`` (DeepFeatureExtractor), ``"scale"``
        (StandardScaler) and ``"stacking"`` (StackingClassifier). Further
        parameters of the CNNs are set on the pipeline, e.g.
        ``pipe.set_params(features__us__image_size=128,
        features__early_stopping=True)``.

    Notes
    -----
    The ensemble is not made to learn interactions between modalities. Each
    CNN of stage 1 is trained on its image modality alone to predict the
    label, so when the label depends on how the modalities combine rather
    than on the sum of their separate evidence (e.g. the sign of the product
    of a feature of each, as in
    ``make_multimodal_classification(interaction=True)``), no CNN gets a
    training signal and its features say little about the label; stage 2
    then has nothing to combine, and its base learners' probabilities are
    stacked, not multiplied. Use
    :class:`~skmultimodal.fusion.IntermediateFusionClassifier` or
    :class:`~skmultimodal.fusion.CrossAttentionFusionClassifier`, trained end
    to end on all modalities, when such interactions are plausible.

    Examples
    --------
    >>> from skmultimodal import ImageModality
    >>> from skmultimodal.datasets import make_multimodal_classification
    >>> from skmultimodal.fusion import make_stacking_ensemble
    >>> X, y = make_multimodal_classification(60, image_size=16, image_share=1.0,
    ...                                       random_state=0)
    >>> X["image2"] = X["image"]
    >>> cnn = dict(backbone="simple_cnn", image_size=16, channels=1)
    >>> pipe = make_stacking_ensemble(
    ...     [("us", ImageModality("image", attention="eca", **cnn)),
    ...      ("mammo", ImageModality("image2", attention="cbam", **cnn))],
    ...     max_epochs=1, cv=3, random_state=0)
    >>> pipe.fit(X, y).predict_proba(X).shape
    (60, 2)
    """
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(0, 2**31 - 1))
    features = DeepFeatureExtractor(
        modalities, max_epochs=max_epochs, batch_size=batch_size, lr=lr, device=device,
        random_state=random_state,
    )
    base = [
        ("lr", LogisticRegression(max_iter=1000)),
        # Platt-scaled SVM probabilities (what SVC(probability=True) gave before
        # its deprecation in scikit-learn 1.9).
        ("svm", CalibratedClassifierCV(SVC(random_state=random_state), ensemble=False,
                                       cv=cv)),
        ("rf", RandomForestClassifier(random_state=random_state)),
        ("et", ExtraTreesClassifier(random_state=random_state)),
    ]
    if final_estimator is None:
        final_estimator = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000,
                                        random_state=random_state)
    stacking = StackingClassifier(base, final_estimator=final_estimator, cv=cv,
                                  n_jobs=n_jobs)
    return Pipeline([("features", features), ("scale", StandardScaler()),
                     ("stacking", stacking)])
