"""Check a built wheel from a clean environment: its files, an import, a small fit.

Run with the interpreter of a fresh virtual environment in which the wheel is
installed, from a folder outside the checkout, so that ``import
skmultimodal`` finds the installed package:

    python check_wheel.py dist/skmultimodal-*.whl
"""

import sys
import zipfile
from pathlib import Path

wheel = Path(sys.argv[1])
names = zipfile.ZipFile(wheel).namelist()
licences = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")
            or n.endswith(".dist-info/LICENSE")]
assert licences, f"{wheel.name} ships no LICENSE file"
assert not [n for n in names if n.startswith("tests/")], "the wheel ships the tests"
for package in ("", "mil/", "survival/", "inspection/", "datasets/"):
    assert f"skmultimodal/{package}__init__.py" in names, f"{package or 'the package'} not shipped"

import skmultimodal  # noqa: E402
from skmultimodal import ImageModality, IntermediateFusionClassifier, TabularModality  # noqa: E402
from skmultimodal.datasets import make_multimodal_classification  # noqa: E402

installed = Path(skmultimodal.__file__).resolve()
assert Path(sys.prefix).resolve() in installed.parents, (
    f"skmultimodal was imported from {installed}, not from the wheel installed in "
    f"{sys.prefix}")
X, y = make_multimodal_classification(40, image_size=16, random_state=0)
clf = IntermediateFusionClassifier(
    [("image", ImageModality("image", backbone="simple_cnn", image_size=16, channels=1)),
     ("tab", TabularModality([c for c in X.columns if c.startswith("tab_")]))],
    embed_dim=8, max_epochs=2, random_state=0, device="cpu",
).fit(X, y)
proba = clf.predict_proba(X)
assert proba.shape == (40, 2)
print(f"{wheel.name}: {len(names)} files, licence {licences[0]}; "
      f"skmultimodal {skmultimodal.__version__} from {Path(skmultimodal.__file__).parent}; "
      f"a fit and predict_proba on 40 rows work")
