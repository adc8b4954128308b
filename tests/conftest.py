"""Test setup: seeds everything, disables TF32, finds the shared MNIST, marks GPU and Keras tests."""

import os
import pathlib
import random

import numpy as np
import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
EMBEDDED_DATA = ROOT / "data"
# Tests read MNIST from ../shared/data when it is there (as CI has it), else the embedded copy.
os.environ.setdefault("STRIDED_DATA_DIR", str(SHARED_DATA if (SHARED_DATA / "mnist").is_dir() else EMBEDDED_DATA))
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("STRIDED_DEVICE", "cuda" if torch.cuda.is_available() else "cpu")

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def mnist_dir():
    return pathlib.Path(os.environ["STRIDED_DATA_DIR"]) / "mnist"


@pytest.fixture(scope="session")
def real_keras():
    """Real Keras 3 on the torch backend, the test oracle; skips the test when it is not installed."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("real Keras is not on the torch backend")
    return keras
