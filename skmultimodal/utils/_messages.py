"""Pieces of error and warning messages shared across the package."""


def shown(items, limit=10):
    """The first ``limit`` items as a list, then how many more.

    Parameters
    ----------
    items : iterable
        Row labels, column names, file names...
    limit : int, default=10
        How many to list.

    Returns
    -------
    text : str
        E.g. ``"[3, 7, 9] and 12 more"``.

    Examples
    --------
    >>> shown(range(12), limit=3)
    '[0, 1, 2] and 9 more'
    """
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{items[:limit]}{more}"
