"""The package's import graph is layered.

``data``, ``nn``, ``datasets`` and ``metrics`` are the bottom layer: they
import nothing of skmultimodal outside themselves. ``utils`` holds generic
helpers (torch settings, discovery, the multimodal checks) and imports nothing
of the package either; ``utils.discovery`` finds the estimators by name at call
time, never through an import statement.
"""

import ast
from pathlib import Path

import pytest

import skmultimodal

PACKAGE = Path(skmultimodal.__file__).parent

# sub-package -> the sub-packages it may import
ALLOWED = {
    "data": set(),
    "nn": set(),
    "datasets": set(),
    "metrics": set(),
    "utils": set(),
    # a modality describes its encoder, and reads the stem its weights were trained with
    "modalities": {"data", "nn", "utils"},
}


def _module_parts(path):
    parts = ["skmultimodal", *path.relative_to(PACKAGE).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported_modules(path):
    """Absolute names of the modules (or module attributes) ``path`` imports."""
    parts = _module_parts(path)
    package = parts if path.name == "__init__.py" else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            if node.module is None:
                yield from (f"{module}.{alias.name}" for alias in node.names)
            else:
                yield module


def package_imports(subpackage):
    """{other sub-package of skmultimodal: [files importing it]} for ``subpackage``."""
    found = {}
    for path in sorted((PACKAGE / subpackage).rglob("*.py")):
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[0] == "skmultimodal" and len(parts) > 1 and parts[1] != subpackage:
                found.setdefault(parts[1], []).append(str(path.relative_to(PACKAGE)))
    return found


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_lower_layers_import_nothing_above(subpackage):
    imports = package_imports(subpackage)
    extra = {name: files for name, files in imports.items() if name not in ALLOWED[subpackage]}
    assert not extra, f"skmultimodal.{subpackage} imports {extra}"


def test_relative_imports_are_resolved():
    # the estimators import the lower layers, relatively: the reader sees them
    imports = package_imports("estimators")
    assert {"data", "nn", "utils"} <= set(imports)
    assert "estimators" not in imports
