"""Write the intersphinx inventories of scikit-learn, skorch, torch, numpy and pandas.

The documentation links to these projects through :mod:`sphinx.ext.intersphinx`,
which normally downloads each project's ``objects.inv``. So that the build
never needs the network, ``docs/conf.py`` reads local inventories from this
folder instead. This script writes them from the installed packages: it walks
their public names (modules, classes, functions, exceptions, and the methods
of classes where that is cheap) and gives each the address it has on the
project's site, following each site's URL scheme::

    sklearn  https://scikit-learn.org/stable/modules/generated/sklearn.linear_model.LogisticRegression.html#sklearn.linear_model.LogisticRegression
    numpy    https://numpy.org/doc/stable/reference/generated/numpy.X.html#numpy.X
    pandas   https://pandas.pydata.org/docs/reference/api/pandas.X.html#pandas.X
    torch    https://docs.pytorch.org/docs/stable/generated/torch.X.html#torch.X
    skorch   https://skorch.readthedocs.io/en/stable/<module page>.html#<full name>

The addresses are built, not read from the sites, so a few may point to a
page that does not exist (an object the project does not document on a page
of its own). With internet access the projects' real inventories can replace
these files, for instance::

    curl -o docs/_intersphinx/sklearn.inv https://scikit-learn.org/stable/objects.inv
    curl -o docs/_intersphinx/skorch.inv https://skorch.readthedocs.io/en/stable/objects.inv
    curl -o docs/_intersphinx/torch.inv https://docs.pytorch.org/docs/stable/objects.inv
    curl -o docs/_intersphinx/numpy.inv https://numpy.org/doc/stable/objects.inv
    curl -o docs/_intersphinx/pandas.inv https://pandas.pydata.org/docs/objects.inv

or ``intersphinx_mapping`` in ``docs/conf.py`` can name ``None`` instead of
the local file. Regenerate the files after upgrading one of the packages::

    python docs/_intersphinx/make_inventories.py
"""

import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import sphobjinv as soi

HERE = Path(__file__).resolve().parent


def _public(names):
    return sorted(n for n in names if not n.startswith("_"))


def _module_names(module, within=None):
    """Public names of a module: its ``__all__``, else what it defines.

    Without ``__all__``, ``within`` (a package name) also accepts the names the
    module imports from that package (``torch.nn`` imports its classes).
    """
    names = getattr(module, "__all__", None)
    if names is None:
        prefix = within or module.__name__
        names = [n for n, v in vars(module).items()
                 if (getattr(v, "__module__", None) or "").startswith(prefix)
                 and not inspect.ismodule(v)]
    return _public(names)


def _role(obj):
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj):
        return "function"
    return "data"


def _methods(cls):
    """Public methods and properties a class defines or inherits within its project."""
    root = cls.__module__.split(".")[0]
    found = []
    for name in _public(dir(cls)):
        try:
            value = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(value, property):
            found.append((name, "attribute"))
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if not callable(value):
            continue
        owner = getattr(value, "__module__", None) or ""
        if owner.split(".")[0] in (root, "builtins", "") or inspect.ismethoddescriptor(value):
            found.append((name, "method"))
    return found


class Inventory:
    """Entries of one project's ``objects.inv``."""

    def __init__(self, project, version):
        self.inv = soi.Inventory()
        self.inv.project = project
        self.inv.version = version
        self.seen = set()

    def add(self, name, role, uri):
        if (name, role) in self.seen:
            return
        self.seen.add((name, role))
        self.inv.objects.append(soi.DataObjStr(
            name=name, domain="py", role=role, priority="1", uri=uri, dispname="-"))

    def write(self, filename):
        path = HERE / filename
        self.inv.objects.sort(key=lambda o: (o.name, o.role))
        soi.writebytes(path, soi.compress(self.inv.data_file(contract=True)))
        print(f"{path.name}: {len(self.inv.objects)} objects")


def _import(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except Exception:  # optional dependencies of some submodules
            return None


def _walk(package, skip=("tests", "externals", "conftest")):
    """The package and its public submodules (no private parts, no tests)."""
    yield package
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        parts = info.name.split(".")
        if any(p.startswith("_") or p in skip for p in parts):
            continue
        module = _import(info.name)
        if module is not None:
            yield module


def sklearn_inventory():
    import sklearn

    inv = Inventory("scikit-learn", sklearn.__version__)
    for module in _walk(sklearn):
        name = module.__name__
        inv.add(name, "module", f"api/{name}.html#module-{name}")
        for attr in _module_names(module):
            obj = getattr(module, attr, None)
            if obj is None or inspect.ismodule(obj):
                continue
            role = _role(obj)
            if role == "data":
                continue
            full = f"{name}.{attr}"
            page = f"modules/generated/{full}.html"
            inv.add(full, role, f"{page}#{full}")
            if inspect.isclass(obj):
                for meth, mrole in _methods(obj):
                    inv.add(f"{full}.{meth}", mrole, f"{page}#{full}.{meth}")
    inv.write("sklearn.inv")


def numpy_inventory():
    import numpy as np

    inv = Inventory("NumPy", np.__version__)
    inv.add("numpy", "module", "reference/index.html#module-numpy")
    for attr in _public(dir(np)):
        obj = getattr(np, attr, None)
        if obj is None or inspect.ismodule(obj):
            continue
        role = _role(obj)
        if role == "data":
            continue
        full = f"numpy.{attr}"
        inv.add(full, role, f"reference/generated/{full}.html#{full}")
    for cls in ("ndarray", "dtype", "generic"):
        for meth, role in _methods(getattr(np, cls)):
            full = f"numpy.{cls}.{meth}"
            inv.add(full, role, f"reference/generated/{full}.html#{full}")
    for sub in ("linalg", "fft", "testing", "lib.stride_tricks"):
        module = _import(f"numpy.{sub}")
        for attr in _public(getattr(module, "__all__", [])):
            obj = getattr(module, attr, None)
            if obj is None or _role(obj) == "data" or inspect.ismodule(obj):
                continue
            full = f"numpy.{sub}.{attr}"
            inv.add(full, _role(obj), f"reference/generated/{full}.html#{full}")
    random = _import("numpy.random")
    inv.add("numpy.random", "module", "reference/random/index.html#module-numpy.random")
    pages = {"Generator": "generator", "default_rng": "generator", "RandomState": "legacy",
             "SeedSequence": "bit_generators/generated/numpy.random.SeedSequence",
             "BitGenerator": "bit_generators/generated/numpy.random.BitGenerator"}
    for attr, page in pages.items():
        full = f"numpy.random.{attr}"
        inv.add(full, _role(getattr(random, attr)), f"reference/random/{page}.html#{full}")
    for meth, role in _methods(random.Generator):
        full = f"numpy.random.Generator.{meth}"
        inv.add(full, role, f"reference/random/generated/{full}.html#{full}")
    for meth, role in _methods(random.RandomState):
        full = f"numpy.random.RandomState.{meth}"
        inv.add(full, role, f"reference/random/generated/{full}.html#{full}")
    inv.write("numpy.inv")


def pandas_inventory():
    import pandas as pd

    inv = Inventory("pandas", pd.__version__)
    inv.add("pandas", "module", "reference/index.html#module-pandas")
    for attr in _public(dir(pd)):
        obj = getattr(pd, attr, None)
        if obj is None or inspect.ismodule(obj):
            continue
        role = _role(obj)
        if role == "data":
            continue
        full = f"pandas.{attr}"
        inv.add(full, role, f"reference/api/{full}.html#{full}")
    for cls in ("DataFrame", "Series", "Index", "Categorical", "MultiIndex"):
        for meth, role in _methods(getattr(pd, cls)):
            full = f"pandas.{cls}.{meth}"
            inv.add(full, role, f"reference/api/{full}.html#{full}")
    for sub in ("api.types", "errors", "testing"):
        module = _import(f"pandas.{sub}")
        for attr in _module_names(module):
            obj = getattr(module, attr, None)
            if obj is None or _role(obj) in ("data", "module"):
                continue
            full = f"pandas.{sub}.{attr}"
            inv.add(full, _role(obj), f"reference/api/{full}.html#{full}")
    inv.write("pandas.inv")


def torch_inventory():
    import torch

    inv = Inventory("PyTorch", torch.__version__.split("+")[0])

    def generated(full, obj, methods=True):
        page = f"generated/{full}.html"
        inv.add(full, _role(obj), f"{page}#{full}")
        if methods and inspect.isclass(obj):
            for meth, role in _methods(obj):
                inv.add(f"{full}.{meth}", role, f"{page}#{full}.{meth}")

    # pages that are not under generated/
    on_page = {
        "torch.Tensor": "tensors", "torch.device": "tensor_attributes",
        "torch.dtype": "tensor_attributes", "torch.layout": "tensor_attributes",
        "torch.memory_format": "tensor_attributes", "torch.Generator": "generated/torch.Generator",
        "torch.autocast": "amp",
    }
    inv.add("torch", "module", "torch.html#module-torch")
    for attr in _public(getattr(torch, "__all__", dir(torch))):
        obj = getattr(torch, attr, None)
        if obj is None or inspect.ismodule(obj) or _role(obj) == "data":
            continue
        full = f"torch.{attr}"
        if full in on_page:
            inv.add(full, _role(obj), f"{on_page[full]}.html#{full}")
        else:
            generated(full, obj, methods=False)
    for meth, role in _methods(torch.Tensor):
        full = f"torch.Tensor.{meth}"
        inv.add(full, role, f"generated/{full}.html#{full}")
    # modules documented with one generated page per object
    for sub in ("torch.nn", "torch.nn.functional", "torch.nn.init", "torch.optim",
                "torch.optim.lr_scheduler", "torch.amp", "torch.autograd", "torch.cuda",
                "torch.backends.cudnn"):
        module = _import(sub)
        if module is None:
            continue
        inv.add(sub, "module", f"{sub.removeprefix('torch.')}.html#module-{sub}")
        for attr in _module_names(module, within=sub):
            obj = getattr(module, attr, None)
            if obj is None or inspect.ismodule(obj) or _role(obj) == "data":
                continue
            generated(f"{sub}.{attr}", obj, methods=sub != "torch.nn.functional")
    # modules documented on one page
    for sub, page in (("torch.utils.data", "data"), ("torch.hub", "hub"),
                      ("torch.utils.checkpoint", "checkpoint")):
        module = _import(sub)
        if module is None:
            continue
        inv.add(sub, "module", f"{page}.html#module-{sub}")
        for attr in _module_names(module, within=sub):
            obj = getattr(module, attr, None)
            if obj is None or inspect.ismodule(obj) or _role(obj) == "data":
                continue
            full = f"{sub}.{attr}"
            inv.add(full, _role(obj), f"{page}.html#{full}")
            if inspect.isclass(obj):
                for meth, role in _methods(obj):
                    inv.add(f"{full}.{meth}", role, f"{page}.html#{full}.{meth}")
    inv.write("torch.inv")


def skorch_inventory():
    import skorch

    inv = Inventory("skorch", skorch.__version__)
    # one page per top-level module (skorch.net -> net.html), documenting its
    # ``__all__`` (or what it defines) under the module's name
    for info in pkgutil.iter_modules(skorch.__path__, "skorch."):
        name = info.name
        if name.split(".")[1].startswith("_") or name in ("skorch.tests", "skorch.cli"):
            continue
        module = _import(name)
        if module is None:
            continue
        page = name.split(".")[1] + ".html"
        inv.add(name, "module", f"{page}#module-{name}")
        for attr in _module_names(module):
            obj = getattr(module, attr, None)
            if obj is None or inspect.ismodule(obj) or _role(obj) == "data":
                continue
            full = f"{name}.{attr}"
            inv.add(full, _role(obj), f"{page}#{full}")
            if inspect.isclass(obj):
                for meth, role in _methods(obj):
                    inv.add(f"{full}.{meth}", role, f"{page}#{full}.{meth}")
    # the names skorch re-exports at the top level
    for attr in _public(getattr(skorch, "__all__", [])):
        obj = getattr(skorch, attr)
        if inspect.isclass(obj):
            module = obj.__module__.split(".")[1]
            full = f"skorch.{module}.{obj.__qualname__}"
            inv.add(f"skorch.{attr}", "class", f"{module}.html#{full}")
            for meth, role in _methods(obj):
                inv.add(f"skorch.{attr}.{meth}", role, f"{module}.html#{full}.{meth}")
    inv.write("skorch.inv")


def main():
    sklearn_inventory()
    skorch_inventory()
    torch_inventory()
    numpy_inventory()
    pandas_inventory()


if __name__ == "__main__":
    main()
