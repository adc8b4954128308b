"""Smoke runs of benchmark scripts that have no other test: they must run and print their ratio."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_distributed_step_runs_both_contenders_under_torchrun():
    env = dict(os.environ, STRIDED_SHARED_BENCH=os.path.join(ROOT, "no-shared-bench"))  # skip the anchor
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "benchmarks", "distributed_step.py"),
            "--device",
            "cpu",
            "--nproc",
            "2",
            "--limit",
            "256",
            "--epochs",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "RESULT strided model=seed nproc=2 engine=DistributedDataParallel" in out.stdout, out.stdout
    assert "RESULT torch-ddp model=seed nproc=2" in out.stdout
    assert "RATIO" in out.stdout and "\n2 | " in out.stdout


@pytest.mark.slow
def test_overhead_benchmark_smoke_prints_ratios_and_counts():
    shared = os.environ.get("STRIDED_SHARED_BENCH", os.path.join(ROOT, "..", "shared", "bench"))
    if not os.path.exists(os.path.join(shared, "cnn_shapes_torch.py")):
        pytest.skip("the baseline ../shared/bench/cnn_shapes_torch.py is not available")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "overhead.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "RATIO overhead strided/best = " in out.stdout, out.stdout
    assert "COUNTS overhead strided python_calls_per_step=" in out.stdout
    assert "RATIO overhead ops strided/torch = " in out.stdout
