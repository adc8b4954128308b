"""Every lesson notebook in notebooks/ runs in a real Jupyter kernel in quick mode (STRIDED_QUICK=1)."""

import os
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def run_notebook(path, timeout=300, **client_options):
    """Executes ``path`` in a fresh python3 kernel (import path: this checkout); returns the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ["STRIDED_QUICK"] = "1"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env_before.get("PYTHONPATH")] if p])
    os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend must draw the figures
    try:
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            **client_options,
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return nb


def test_there_is_one_notebook_per_seed_lesson():
    assert len(NOTEBOOKS) == 5, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path):
    stored = nbformat.read(path, as_version=4)
    assert all(
        not c.get("outputs") and c.get("execution_count") is None for c in stored.cells if c.cell_type == "code"
    ), "notebooks are stored without outputs"
    start = time.perf_counter()
    nb = run_notebook(path)  # raises CellExecutionError on any error
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s in quick mode")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the lesson's figures are drawn inline"
