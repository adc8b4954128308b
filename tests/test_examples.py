"""Every example script runs in --quick mode, meets its checks and writes its figures."""

import os
import pathlib
import runpy
import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

# name -> (figures the quick run must write, minimum number of checks)
CASES = {
    "convolutions_numpy": (["conv2d_loop_vs_layer.png"], 15),
    "mnist_kernel_matching": (
        [
            "kernel_and_response.png",
            "history.png",
            "confusion_matrix.png",
            "filters.png",
            "feature_maps.png",
            "predictions.png",
        ],
        10,
    ),
    "malaria_cnn": (["history.png", "confusion_matrix.png", "filters.png", "feature_maps.png", "cell.png"], 6),
    "lenet_alexnet_resnet": ([], 5),
    "chollet_mnist_convnet": (
        ["history.png", "confusion_matrix.png", "filters.png", "feature_maps.png", "grad_cam.png"],
        8,
    ),
    "beyond_convolutions": ([], 7),
}


def _run(name, argv):
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")
        return module["main"](argv)
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_quick_run(name, tmp_path):
    figures, min_checks = CASES[name]
    check = _run(name, ["--quick", "--out", str(tmp_path)])
    assert len(check.lines) >= min_checks
    assert all(line.startswith("[ok]") for line in check.lines)
    assert (tmp_path / "checks.txt").read_text().count("[ok]") == len(check.lines)
    for fig in figures:
        with open(tmp_path / fig, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n", fig


def test_malaria_synthetic_stand_in_is_learnable_signal():
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = runpy.run_path(str(EXAMPLES / "malaria_cnn.py"), run_name="example_malaria")
    finally:
        sys.path.remove(str(EXAMPLES))
    x, y = module["synthetic_cells"](40, seed=1)
    assert x.shape == (40, 100, 100, 3) and x.dtype.name == "float32" and 0 <= x.min() and x.max() <= 1
    assert sorted(set(y.tolist())) == [0, 1]
    # parasitized cells (label 0) carry dark purple dots: far more dark-green pixels than uninfected ones
    dark = (x[..., 1] < 0.3).mean(axis=(1, 2))
    assert dark[y == 0].min() > dark[y == 1].max()


def test_example_scripts_have_a_command_line():
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "chollet_mnist_convnet.py"), "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "--quick" in out.stdout and "--out" in out.stdout
