"""Self-supervised pretraining of image encoders on unlabelled images.

:class:`~skmultimodal.ContrastivePretrainer` learns an encoder by contrasting two random
views of each image (SimCLR's NT-Xent loss, :func:`nt_xent_loss`) and hands
it to any image modality or image estimator as ``weights=pretrainer`` or as
the state-dict file it saves; :func:`contrastive_views` draws the views.
"""

from ._contrastive import ContrastivePretrainer, nt_xent_loss
from ._views import contrastive_views

__all__ = ["ContrastivePretrainer", "contrastive_views", "nt_xent_loss"]
