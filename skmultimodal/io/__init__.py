"""Safe persistence of fitted models in the skops format.

pickle and joblib files run code when they are loaded: load them only from
sources you trust. :func:`dump` and :func:`load` save and load models with
:mod:`skops.io` instead, whose files create only objects of trusted types
(the library's own, :func:`trusted_types`, those skops trusts by default and
those the caller lists). See ``docs/persistence.md``.
"""

from ._skops import UntrustedTypesError, dump, load, trusted_types

__all__ = ["UntrustedTypesError", "dump", "load", "trusted_types"]
