"""Classification networks: an encoder followed by a linear head."""

from torch import nn

from ._fusion import ModalityEncoder
from ._mlp import MLP
from ._registry import build_backbone, train_keeping_frozen


class ImageClassifierModule(nn.Module):
    """Image backbone, dropout and a linear classification head.

    Parameters
    ----------
    n_classes : int
    encoder : dict, default=None
        Image encoder specification, as
        :meth:`skmultimodal.modalities.ImageModality.encoder_spec` gives it
        (``backbone``, ``attention``, ``weights``, ``in_channels``,
        ``freeze_backbone``, ``backbone_params``); None is a ResNet-18.
    dropout : float, default=0.0
        Dropout before the head.

    Attributes
    ----------
    encoder : torch.nn.Module
        The backbone (pooled features of width ``encoder.num_features``).
    """

    def __init__(self, n_classes, encoder=None, dropout=0.0):
        super().__init__()
        spec = {"kind": "image", **(encoder or {})}
        self.encoder = build_backbone(spec)
        self.freeze_backbone = bool(spec.get("freeze_backbone", False))
        self.head = nn.Sequential(nn.Dropout(dropout),
                                  nn.Linear(self.encoder.num_features, n_classes))

    def train(self, mode=True):
        """Set the training mode; a frozen backbone stays in evaluation mode."""
        return train_keeping_frozen(self, mode, self.encoder if self.freeze_backbone else None)

    def image_backbone(self, name="image"):
        """The backbone of the image input ``name`` (the only one: ``"image"``)."""
        if name != "image":
            raise KeyError(f"ImageClassifierModule has one image input, 'image'; got {name!r}.")
        return self.encoder

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


class ImageBagClassifierModule(nn.Module):
    """Bag encoder (instance backbone and pooling), dropout and a linear head.

    Parameters
    ----------
    n_classes : int
    encoder : dict
        Bag encoder specification, as
        :meth:`skmultimodal.modalities.ImageBagModality.encoder_spec` gives it.
    dropout : float, default=0.0
        Dropout before the head.

    Attributes
    ----------
    encoders : torch.nn.ModuleDict
        ``{"bag": ModalityEncoder}``, the bag encoder (``net`` the instance
        backbone, ``pool`` its pooling), named as in the fusion networks.
    """

    #: What a frozen instance encoder's precomputed outputs are.
    encoder_output = "pooled"

    def __init__(self, n_classes, encoder, dropout=0.0):
        super().__init__()
        self.encoders = nn.ModuleDict(
            {"bag": ModalityEncoder({**encoder, "kind": "image_bag"})})
        self.head = nn.Sequential(nn.Dropout(dropout),
                                  nn.Linear(self.encoders["bag"].num_features, n_classes))

    @property
    def encoder(self):
        """The bag encoder."""
        return self.encoders["bag"]

    def image_backbone(self, name="bag"):
        """The instance backbone of the bag input ``name`` (the only one: ``"bag"``)."""
        if name != "bag":
            raise KeyError(f"ImageBagClassifierModule has one bag input, 'bag'; got {name!r}.")
        return self.encoder.net

    def instance_weights(self, bag, bag_mask=None, **_):
        """Pooling weights ``(N, K)`` of the instances, as ``{"bag": weights}``."""
        return {"bag": self.encoder.forward_bag(bag, bag_mask)[1]}

    def forward(self, bag, bag_mask=None):
        """Return the class logits ``(N, n_classes)`` of a padded batch of bags."""
        return self.head(self.encoder(bag, bag_mask))
