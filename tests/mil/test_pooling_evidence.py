"""On bags whose label rests on one or two key instances, learned attention
pooling beats mean pooling, which dilutes the key instances among the others."""

from sklearn.model_selection import StratifiedKFold

from skmultimodal.datasets import make_bag_classification
from skmultimodal.mil import ImageBagClassifier


def test_attention_pooling_beats_mean_pooling_on_key_instances():
    # 12-20 instances a bag, 1-2 of them carrying the signal in positive bags.
    # Measured (this split): gated attention 1.00, mean 0.91, max 1.00; with
    # random_state=1 for the data: 0.96 and 0.82.
    X, y = make_bag_classification(160, min_instances=12, max_instances=20, image_size=16,
                                   random_state=0)
    train, test = next(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    scores = {}
    for pooling in ("gated_attention", "mean"):
        clf = ImageBagClassifier(
            "bag", pooling=pooling, backbone="simple_cnn", image_size=16, channels=1,
            backbone_params={"channels": (8, 16)}, max_epochs=10, lr=3e-3,
            random_state=0, device="cpu",
        ).fit(X.iloc[train], y[train])
        scores[pooling] = clf.score(X.iloc[test], y[test])
    assert scores["gated_attention"] >= 0.9, scores
    assert scores["gated_attention"] - scores["mean"] >= 0.05, scores
