"""The API reference (docs/api.rst) lists every public name, each on one page.

The file is parsed, not built: each ``.. currentmodule::`` opens the section
of a module and the ``.. autosummary::`` entries below it are the names that
section lists. A name added to a module's ``__all__`` must be added there.
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API = Path(__file__).parents[1] / "docs" / "api.rst"

# every module whose ``__all__`` is public API (tests/utils/test_docstrings.py)
PUBLIC_MODULES = ("skmultimodal", "skmultimodal.data", "skmultimodal.datasets",
                  "skmultimodal.estimators", "skmultimodal.fusion",
                  "skmultimodal.inspection", "skmultimodal.io", "skmultimodal.metrics",
                  "skmultimodal.mil", "skmultimodal.pretraining", "skmultimodal.survival",
                  "skmultimodal.modalities", "skmultimodal.model_selection",
                  "skmultimodal.nn")
# public modules without ``__all__``: every public function they define is listed
MODULES_WITHOUT_ALL = ("skmultimodal.utils.discovery", "skmultimodal.utils.estimator_checks")


def _parse(text):
    """Return ``[(currentmodule, entry, has_page), ...]`` for every autosummary entry."""
    entries = []
    module = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if match := re.match(r"\.\. currentmodule:: (\S+)\s*$", line):
            module = match.group(1)
        elif re.match(r"\.\. autosummary::\s*$", line):
            has_page = False
            i += 1
            # options, then a blank line, then one indented entry a line
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
                item = lines[i].strip()
                if item.startswith(":toctree:"):
                    has_page = True
                elif item and not item.startswith(":"):
                    entries.append((module, item, has_page))
                i += 1
            continue
        i += 1
    return entries


ENTRIES = _parse(API.read_text(encoding="utf-8"))


def _full_name(module, entry):
    name = entry.lstrip("~")
    return name if name.startswith("skmultimodal.") else f"{module}.{name}"


def _resolve(full_name):
    """Import the object a dotted name points to."""
    parts = full_name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(full_name)


def _listed(module_name):
    """Names the section of ``module_name`` lists, as they are imported from it."""
    names = []
    for module, entry, _ in ENTRIES:
        name = _full_name(module, entry)
        if entry.startswith("~"):
            if module == module_name:
                names.append(name.rsplit(".", 1)[1])
        elif name.startswith(module_name + ".") and "." not in name[len(module_name) + 1:]:
            names.append(name[len(module_name) + 1:])
    return names


def test_test_docstrings_checks_the_same_modules():
    import importlib.util

    path = Path(__file__).parent / "utils" / "test_docstrings.py"
    spec = importlib.util.spec_from_file_location("_test_docstrings", path)
    test_docstrings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(test_docstrings)
    CHECKED = test_docstrings.PUBLIC_MODULES
    assert {"skmultimodal" + suffix for suffix in CHECKED} == set(PUBLIC_MODULES)


def test_every_subpackage_with_all_is_listed():
    import pkgutil

    import skmultimodal

    for info in pkgutil.iter_modules(skmultimodal.__path__, "skmultimodal."):
        if info.name.rsplit(".", 1)[1].startswith("_") or not info.ispkg:
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            assert info.name in PUBLIC_MODULES


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_lists_exactly_the_public_names(module_name):
    module = importlib.import_module(module_name)
    listed = _listed(module_name)
    assert len(listed) == len(set(listed)), f"{module_name}: a name is listed twice"
    missing = sorted(set(module.__all__) - set(listed))
    extra = sorted(set(listed) - set(module.__all__))
    assert not missing, f"{module_name}.__all__ names missing from docs/api.rst: {missing}"
    assert not extra, f"docs/api.rst lists names not in {module_name}.__all__: {extra}"


@pytest.mark.parametrize("module_name", MODULES_WITHOUT_ALL)
def test_lists_the_public_functions_of_modules_without_all(module_name):
    module = importlib.import_module(module_name)
    assert not hasattr(module, "__all__")
    public = {name for name, obj in vars(module).items()
              if not name.startswith("_") and callable(obj)
              and getattr(obj, "__module__", None) == module_name}
    listed = _listed(module_name)
    assert sorted(listed) == sorted(public)


@pytest.mark.parametrize("module_name, entry, has_page", ENTRIES,
                         ids=[_full_name(m, e) for m, e, _ in ENTRIES])
def test_entries_point_to_the_public_objects(module_name, entry, has_page):
    obj = _resolve(_full_name(module_name, entry))
    if entry.startswith("~"):
        # a re-export, listed in its module's section and linked to one page
        name = entry.rsplit(".", 1)[1]
        assert getattr(importlib.import_module(module_name), name) is obj
        assert not has_page


def test_every_object_has_one_page_under_its_shortest_path():
    pages = {}
    for module, entry, has_page in ENTRIES:
        if has_page:
            name = _full_name(module, entry)
            obj = _resolve(name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert id(obj) not in pages, f"{name} and {pages[id(obj)]} are one object"
                pages[id(obj)] = name
    for module, entry, _ in ENTRIES:
        obj = _resolve(_full_name(module, entry))
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert id(obj) in pages, f"{_full_name(module, entry)} has no page"
            # the path sphinx-gallery names in "Examples using ..." (its shortest one)
            page = pages[id(obj)]
            shortest = min((m for m in PUBLIC_MODULES
                            if getattr(importlib.import_module(m), obj.__name__, None) is obj),
                           key=len, default=page.rsplit(".", 1)[0])
            assert page == f"{shortest}.{obj.__name__}"
