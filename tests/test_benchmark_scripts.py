"""Smoke runs of benchmark scripts that have no other test: they must run and print their ratio."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_distributed_step_runs_both_contenders_under_torchrun():
    env = dict(os.environ, STRIDED_SHARED_BENCH=os.path.join(ROOT, "no-shared-bench"))  # skip the anchor
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "distributed_step.py"), "--device", "cpu",
                          "--nproc", "2", "--limit", "256", "--epochs", "1"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "RESULT strided model=seed nproc=2 engine=DistributedDataParallel" in out.stdout, out.stdout
    assert "RESULT torch-ddp model=seed nproc=2" in out.stdout
    assert "RATIO" in out.stdout and "\n2 | " in out.stdout
