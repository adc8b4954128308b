"""Shared plumbing of the example scripts: command line, output folder, checks, data subsets.

Each example runs as ``python examples/<name>.py`` (full run, the seed's numbers) or with ``--quick``
(a small subset and one epoch, what the tests run). Figures go to ``runs/examples/<name>/`` unless
``--out`` says otherwise.
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")  # examples write PNGs; they never open windows

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))


def parse_args(name, description, argv=None, extra=None):
    """``--quick``, ``--out``, ``--seed`` (and whatever ``extra(parser)`` adds); creates the out folder."""
    parser = argparse.ArgumentParser(prog=f"examples/{name}.py", description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small data subset and one epoch (seconds, for tests); the seed's targets are not checked",
    )
    parser.add_argument(
        "--out",
        default=str(pathlib.Path("runs") / "examples" / name),
        help="folder for figures and logs (default runs/examples/%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.out = pathlib.Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    import strided

    strided.set_random_seed(args.seed)
    print(f"== {name}: {'quick' if args.quick else 'full'} run, figures in {args.out}")
    return args


class Checks:
    """Collects "the seed says X, we got Y" lines; ``expect`` raises AssertionError on a miss."""

    def __init__(self):
        self.lines = []
        self.start = time.perf_counter()

    def expect(self, what, got, ok, seed_value=None):
        line = f"[{'ok' if ok else 'FAIL'}] {what}: {got}" + (
            f" (seed: {seed_value})" if seed_value is not None else ""
        )
        print(line)
        self.lines.append(line)
        if not ok:
            raise AssertionError(line)

    def equal(self, what, got, expected):
        import numpy as np

        got, expected = np.asarray(got), np.asarray(expected)
        ok = got.shape == expected.shape and np.array_equal(got, expected)
        shown = got.tolist() if got.size < 30 else f"array {got.shape}"
        self.expect(what + (f" (expected {expected.tolist()})" if expected.size < 30 else ""), shown, ok)

    def close(self, what, got, expected, atol=1e-5):
        import numpy as np

        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        ok = got.shape == expected.shape and np.allclose(got, expected, atol=atol)
        diff = np.max(np.abs(got - expected)) if got.shape == expected.shape else float("inf")
        self.expect(what, f"max |diff| = {diff:.2e}", ok)

    def at_least(self, what, got, threshold, seed_value=None):
        self.expect(f"{what} >= {threshold}", f"{got:.4f}", got >= threshold, seed_value)

    def write(self, out):
        elapsed = time.perf_counter() - self.start
        (out / "checks.txt").write_text("\n".join(self.lines) + f"\n({len(self.lines)} checks, {elapsed:.1f} s)\n")
        print(f"== all {len(self.lines)} checks passed in {elapsed:.1f} s")


def load_mnist():
    """MNIST as Keras gives it, from strided.datasets (local files first, see its docstring)."""
    import strided

    return strided.datasets.mnist.load_data()


def subset(x, y, n, seed=0):
    """The first ``n`` samples of a fixed random permutation (classes stay mixed)."""
    import numpy as np

    if n is None or n >= len(x):
        return x, y
    idx = np.random.default_rng(seed).permutation(len(x))[:n]
    return x[idx], y[idx]


def save(fig, out, name):
    """Writes ``fig`` as ``out/name`` and closes it."""
    import matplotlib.pyplot as plt

    path = out / name
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"   wrote {path}")
    return path
