"""Classification networks: an encoder followed by a linear head."""

from torch import nn

from ._mlp import MLP
from ._registry import get_backbone


class ImageClassifierModule(nn.Module):
    """Image backbone, dropout and a linear classification head.

    Parameters
    ----------
    n_classes : int
    backbone, attention, weights, in_channels :
        Passed to :func:`get_backbone`.
    freeze_backbone : bool, default=False
        Keep the backbone's weights and batch-norm statistics fixed.
    dropout : float, default=0.0
        Dropout before the head.
    backbone_params : dict, default=None
        Further keyword arguments of :func:`get_backbone`.
    """

    def __init__(self, n_classes, backbone="resnet18", attention=None, weights=None,
                 in_channels=3, freeze_backbone=False, dropout=0.0, backbone_params=None):
        super().__init__()
        self.encoder = get_backbone(backbone, attention=attention, weights=weights,
                                    in_channels=in_channels, **(backbone_params or {}))
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            self.encoder.requires_grad_(False)
        self.head = nn.Sequential(nn.Dropout(dropout),
                                  nn.Linear(self.encoder.num_features, n_classes))

    def train(self, mode=True):
        """Set the training mode; a frozen backbone stays in evaluation mode."""
        super().train(mode)
        if self.freeze_backbone:
            self.encoder.eval()
        return self

    def forward(self, image):
        """Return the class logits ``(N, n_classes)`` of a batch of images."""
        return self.head(self.encoder(image))


class TabularClassifierModule(nn.Module):
    """MLP encoder on a preprocessed table followed by a linear head."""

    def __init__(self, n_classes, in_features, hidden_layer_sizes=(64,), dropout=0.0,
                 batch_norm=True, activation="relu"):
        super().__init__()
        self.encoder = MLP(in_features, hidden_layer_sizes=hidden_layer_sizes,
                           dropout=dropout, batch_norm=batch_norm, activation=activation)
        self.head = nn.Linear(self.encoder.num_features, n_classes)

    def forward(self, tabular):
        """Return the class logits ``(N, n_classes)`` of a batch of table rows."""
        return self.head(self.encoder(tabular))
