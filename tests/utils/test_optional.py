"""optional_import: one message for every optional dependency, naming the package and the extra that installs it."""

import pathlib
import sys
import tomllib

import pytest

import strided
from strided.utils.optional import PACKAGES, optional_import


def test_extras_named_exist_in_pyproject():
    pyproject = pathlib.Path(__file__).resolve().parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    for pip_name, extra in PACKAGES.values():
        assert pip_name in extras[extra], (pip_name, extra)


def test_returns_the_module():
    assert optional_import("json", "Testing", package="pandas") is sys.modules["json"]


@pytest.mark.parametrize(
    "module, package, pip_name, extra",
    [("PIL.Image", None, "pillow", "images"), ("torch.utils.tensorboard", "tensorboard", "tensorboard", "tensorboard")],
)
def test_missing_package_names_pip_name_and_extra(monkeypatch, module, package, pip_name, extra):
    monkeypatch.setitem(sys.modules, module, None)  # a None entry makes the import raise ImportError
    with pytest.raises(ImportError) as info:
        optional_import(module, "Doing X", package=package, alternative="Or do Y.")
    assert str(info.value) == (
        f"Doing X needs the `{pip_name}` package. Install it with `pip install strided[{extra}]` "
        f"(or `pip install {pip_name}`). Or do Y."
    )


def test_missing_h5py_when_saving_weights(monkeypatch, tmp_path):
    model = strided.Sequential([strided.layers.Dense(1, input_shape=(2,))])
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"needs the `h5py` package\. Install it with `pip install strided\[h5\]`"):
        model.save_weights(str(tmp_path / "w.weights.h5"))
