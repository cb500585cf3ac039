"""Sphinx configuration of the skmultimodal documentation.

Build the site from the repository root::

    SKMULTIMODAL_EXAMPLES_QUICK=1 sphinx-build -W --keep-going -b html docs docs/_build/html

``SKMULTIMODAL_EXAMPLES_QUICK=1`` runs the gallery examples on small data;
without it they run in full. ``SKMULTIMODAL_DOCS_NO_GALLERY=1`` does not run
the examples at all (pages without their figures, for quick iteration only).
"""

import importlib
import os
import warnings

import matplotlib

matplotlib.use("Agg")

import skmultimodal  # noqa: E402

# -- Project ------------------------------------------------------------------

project = "skmultimodal"
author = "the skmultimodal developers"
copyright = "the skmultimodal developers"
version = release = skmultimodal.__version__

# -- General ------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "_intersphinx",
    "Thumbs.db",
    ".DS_Store",
]
default_role = "literal"

# The examples write "mean |SHAP|" for the mean absolute SHAP value: in
# reStructuredText that is a substitution, defined here to print as written.
rst_prolog = """
.. |SHAP| replace:: \\|SHAP\\|
"""

# -- Markdown pages (MyST) ----------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
# "[text](page.md#a-section)" links reach the sections of the Markdown pages
myst_heading_anchors = 3

# -- API reference: autosummary, autodoc, numpydoc ----------------------------

autosummary_generate = True
autodoc_typehints = "none"
# one object per page, under the shortest public path it is importable from
add_module_names = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

#: Modules whose ``__all__`` the API reference lists (tests/test_api_reference.py).
PUBLIC_MODULES = (
    "skmultimodal",
    "skmultimodal.data",
    "skmultimodal.datasets",
    "skmultimodal.estimators",
    "skmultimodal.fusion",
    "skmultimodal.inspection",
    "skmultimodal.io",
    "skmultimodal.metrics",
    "skmultimodal.modalities",
    "skmultimodal.model_selection",
    "skmultimodal.nn",
    "skmultimodal.mil",
    "skmultimodal.pretraining",
    "skmultimodal.survival",
)


def _public_aliases():
    """Map every public path of an object to the one its page is under.

    ``skmultimodal.estimators.ImageClassifier`` is documented once, as
    ``skmultimodal.ImageClassifier`` (the shortest path, the one sphinx-gallery
    uses for its back references); references through the longer path and
    through the defining private module still land on that page.
    """
    canonical = {}
    for module_name in PUBLIC_MODULES:  # shortest first
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj):
                continue
            canonical.setdefault(id(obj), (f"{module_name}.{name}", obj))
    aliases = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj):
                continue
            target, _ = canonical[id(obj)]
            for alias in (f"{module_name}.{name}",
                          f"{obj.__module__}.{getattr(obj, '__qualname__', name)}"):
                if alias != target:
                    aliases[alias] = target
    return aliases


PUBLIC_ALIASES = _public_aliases()


def _resolve_alias(app, env, node, contnode):
    """Resolve a Python reference through a longer public path of the object."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    candidates = [target]
    for context in (node.get("py:class"), node.get("py:module")):
        if context:
            candidates.append(f"{context}.{target}")
    domain = env.get_domain("py")
    for candidate in candidates:
        for alias, canonical in PUBLIC_ALIASES.items():
            if candidate == alias or candidate.startswith(alias + "."):
                new_target = canonical + candidate[len(alias):]
                resolved = domain.resolve_xref(env, node.get("refdoc"), app.builder,
                                               node.get("reftype"), new_target, node,
                                               contnode)
                if resolved is not None:
                    return resolved
    return None


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document the methods skmultimodal defines, not those of skorch, torch, sklearn."""
    if skip or what != "class":
        return None
    if name.startswith("_") and name != "__call__":
        return True
    func = obj.fget if isinstance(obj, property) else obj
    module = getattr(func, "__module__", None)
    if module is None:
        return None
    return not module.startswith("skmultimodal")


def _data_docstring(app, what, name, obj, options, lines):
    """Give a public constant the ``#:`` comment above its definition.

    A constant is documented where it is imported from (``skmultimodal.nn``)
    but defined in a private module (``skmultimodal.nn._registry``), whose
    ``#:`` comment autodoc does not read; without one, the docstring of the
    value's type (``tuple``) is not shown either.
    """
    if what != "data":
        return
    import pkgutil

    from sphinx.pycode import ModuleAnalyzer

    package_name, attr = name.rsplit(".", 1)
    package = importlib.import_module(package_name)
    modules = [package_name]
    if hasattr(package, "__path__"):
        modules += [info.name for info in
                    pkgutil.iter_modules(package.__path__, package_name + ".")]
    for module_name in modules:
        module = importlib.import_module(module_name)
        if getattr(module, attr, None) is not obj:
            continue
        try:
            comment = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", attr))
        except Exception:
            continue
        if comment:
            lines[:] = list(comment)
            return
    if "\n".join(lines).strip() == (type(obj).__doc__ or "").strip():
        lines[:] = []


def _code_link_targets():
    """``{text: target}`` of the inline code the Markdown pages link to the API.

    Every public name of skmultimodal, by its short name (``ImageClassifier``)
    and each of its public paths (``skmultimodal.fusion.LateFusionClassifier``),
    and the short names of scikit-learn's public classes and functions that are
    unique there (``Pipeline``, ``GridSearchCV``, ``cross_validate``).
    """
    targets = {}
    try:
        import sphobjinv

        inventory = sphobjinv.Inventory(
            os.path.join(os.path.dirname(__file__), "_intersphinx", "sklearn.inv"))
        counts = {}
        for item in inventory.objects:
            if item.domain == "py" and item.role in ("class", "function"):
                short = item.name.rsplit(".", 1)[-1]
                counts.setdefault(short, []).append(item.name)
        targets.update({short: names[0] for short, names in counts.items()
                        if len(names) == 1 and not short.startswith("_")})
    except Exception:  # no inventory: the library's names only
        pass
    short_names = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            full = f"{module_name}.{name}"
            target = PUBLIC_ALIASES.get(full, full)
            targets[full] = target
            short_names.setdefault(name, set()).add(target)
    targets.update({short: next(iter(found)) for short, found in short_names.items()
                    if len(found) == 1 and not short.startswith("_")})
    return targets


CODE_LINK_TARGETS = _code_link_targets()


def _link_inline_code(app, doctree):
    """Make inline code naming a public object in a Markdown page a link to its page.

    ``ImageClassifier`` or ``make_cv()`` in the user guide then links to the
    API reference (and ``GridSearchCV`` to scikit-learn's), as the reST pages'
    roles do. Code that names nothing known stays plain code.
    """
    from docutils import nodes
    from sphinx.addnodes import pending_xref

    docname = app.env.docname
    if not str(app.env.doc2path(docname)).endswith(".md"):
        return
    for node in list(doctree.findall(nodes.literal)):
        if isinstance(node.parent, (pending_xref, nodes.reference, nodes.literal_block)):
            continue
        text = node.astext().strip()
        target = CODE_LINK_TARGETS.get(text[:-2] if text.endswith("()") else text)
        if target is None:
            continue
        ref = pending_xref("", refdomain="py", reftype="obj", reftarget=target,
                           refdoc=docname, refexplicit=True, refwarn=False)
        ref += node.deepcopy()
        node.replace_self(ref)


def setup(app):
    app.connect("doctree-read", _link_inline_code)
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-docstring", _data_docstring)
    app.connect("autodoc-skip-member", _skip_foreign_members)


# -- Links to other projects --------------------------------------------------
# No network at build time: the inventories are generated from the installed
# packages by _intersphinx/make_inventories.py (see its docstring).

intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_intersphinx/sklearn.inv"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", "_intersphinx/skorch.inv"),
    "torch": ("https://docs.pytorch.org/docs/stable/", "_intersphinx/torch.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "_intersphinx/numpy.inv"),
    "pandas": ("https://pandas.pydata.org/docs/", "_intersphinx/pandas.inv"),
}
intersphinx_timeout = 1

# Every reference must resolve (the build runs with -W), except those into
# projects without a local inventory here: they stay code, without a link.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(sksurv|shap|joblib|skops|xgboost|accelerate|lightly)(\..*)?"),
]

# -- Gallery ------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skmultimodal",),
    "reference_url": {"skmultimodal": None},
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
}
if os.environ.get("SKMULTIMODAL_DOCS_NO_GALLERY") == "1":
    # quick iteration only: example pages without running the code
    sphinx_gallery_conf["plot_gallery"] = "False"

# the examples' own progress output is not a documentation problem
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")

# -- HTML ---------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skmultimodal {version}"
html_theme_options = {
    "navbar_align": "left",
    # every page of the landing page's table of contents in the top bar
    "header_links_before_dropdown": 11,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "changelog": []}
html_static_path = []
html_show_sourcelink = True
