"""Data parallelism on 2 CPU processes (Gloo): same result as one process, global logs, rank-0 files."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(__file__), "_dist_worker.py")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(out_dir, world, mode="train", timeout=120, **extra_env):
    port = _free_port()
    procs = []
    for rank in range(world):
        env = dict(os.environ, STRIDED_DEVICE="cpu", OMP_NUM_THREADS="1", STRIDED_DIST_TIMEOUT="15")
        env.update(extra_env)
        if world > 1:
            env.update(
                RANK=str(rank),
                LOCAL_RANK=str(rank),
                WORLD_SIZE=str(world),
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=str(port),
            )
        else:
            env.pop("WORLD_SIZE", None)
        procs.append(
            subprocess.Popen(
                [sys.executable, WORKER, str(out_dir), mode],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    start = time.time()
    results = [p.communicate(timeout=timeout) for p in procs]
    return [p.returncode for p in procs], results, time.time() - start


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    single.mkdir(), double.mkdir()
    codes, results, _ = _launch(single, 1)
    assert codes == [0], results[0][1][-3000:]
    codes, results, _ = _launch(double, 2)
    assert codes == [0, 0], "\n".join(r[1][-3000:] for r in results)

    ref = _weights(single / "weights_rank0.npz")
    for rank in (0, 1):
        got = _weights(double / f"weights_rank{rank}.npz")
        for a, b in zip(ref, got):
            np.testing.assert_allclose(b, a, atol=1e-5, rtol=1e-5)
    h_single = json.loads((single / "history_rank0.json").read_text())
    h0 = json.loads((double / "history_rank0.json").read_text())
    h1 = json.loads((double / "history_rank1.json").read_text())
    assert h0["world"] == 2 and h_single["world"] == 1
    # The step ran inside torch's own DistributedDataParallel, not a hand-made reduction.
    assert h0["engine"] == h1["engine"] == "DistributedDataParallel" and h_single["engine"] is None
    # Every rank logs the global metrics, equal to the single-process ones.
    for key, values in h_single["history"].items():
        np.testing.assert_allclose(h0["history"][key], values, atol=1e-5, err_msg=key)
        np.testing.assert_allclose(h1["history"][key], values, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(h0["evaluate"], h_single["evaluate"], atol=1e-5)
    # predict is sharded too, and every rank returns all the rows in input order.
    p_single = np.load(single / "predict_rank0.npy")
    assert p_single.shape == (96, 2)
    assert h_single["predict_rows"] == 96 and h0["predict_rows"] + h1["predict_rows"] == 96
    for rank in (0, 1):
        np.testing.assert_allclose(np.load(double / f"predict_rank{rank}.npy"), p_single, atol=1e-5)
    # Only rank 0 writes files through callbacks.
    assert (double / "log_rank0.csv").exists() and not (double / "log_rank1.csv").exists()
    # A checkpoint written during distributed training loads in a single process.
    from strided import models

    restored = models.load_model(str(double / "checkpoint.keras"))
    for a, b in zip(restored.get_weights(), _weights(double / "weights_rank0.npz")):
        np.testing.assert_allclose(a, b, atol=1e-6)


def _assert_two_processes_match_one(tmp_path, mode):
    """Runs the worker in ``mode`` on 1 and on 2 processes: same final weights on every rank, same logs."""
    single, double = tmp_path / "single", tmp_path / "double"
    single.mkdir(), double.mkdir()
    codes, results, _ = _launch(single, 1, mode=mode)
    assert codes == [0], results[0][1][-3000:]
    codes, results, _ = _launch(double, 2, mode=mode)
    assert codes == [0, 0], "\n".join(r[1][-3000:] for r in results)
    ref = _weights(single / "weights_rank0.npz")
    for rank in (0, 1):
        for a, b in zip(ref, _weights(double / f"weights_rank{rank}.npz")):
            np.testing.assert_allclose(b, a, atol=1e-5, rtol=1e-5)
    h_single = json.loads((single / "history_rank0.json").read_text())["history"]
    h1 = json.loads((double / "history_rank1.json").read_text())["history"]
    for key, values in h_single.items():
        np.testing.assert_allclose(h1[key], values, atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_lazily_built_model_with_uneven_shares_matches_one_process(tmp_path):
    # Each rank initialises its unbuilt model from a different seed: wrapping the step in DDP after the
    # first batch builds it must start all ranks from rank 0's weights. Batch 11 splits 6 + 5, so the
    # ranks' gradients must be weighted by their share of the global batch.
    _assert_two_processes_match_one(tmp_path, "lazy")


@pytest.mark.slow
def test_custom_train_step_gradients_are_averaged_over_ranks(tmp_path):
    # The step calls loss.backward() and optimizer.apply itself (no DDP): the optimizer averages the
    # gradients over the ranks, so 2 ranks still follow the 1-process run (equal shares here).
    _assert_two_processes_match_one(tmp_path, "custom")


@pytest.mark.slow
def test_backup_and_restore_resumes_all_ranks(tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    single.mkdir(), double.mkdir()
    codes, results, _ = _launch(single, 1, mode="resume")
    assert codes == [0], results[0][1][-3000:]
    codes, results, _ = _launch(double, 2, mode="resume", STRIDED_TEST_CRASH="1")
    assert all(c != 0 for c in codes) and "simulated crash" in results[0][1]
    assert (double / "backup").is_dir()
    codes, results, _ = _launch(double, 2, mode="resume")
    assert codes == [0, 0], "\n".join(r[1][-3000:] for r in results)
    history = json.loads((double / "history_rank0.json").read_text())["history"]
    assert len(history["loss"]) == 1  # only epoch 3 ran after the restart
    for a, b in zip(_weights(single / "weights_rank0.npz"), _weights(double / "weights_rank1.npz")):
        np.testing.assert_allclose(b, a, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_killed_rank_fails_the_others_instead_of_hanging(tmp_path):
    codes, results, elapsed = _launch(tmp_path, 2, mode="die", timeout=90)
    assert codes[1] == 3
    assert codes[0] != 0, "rank 0 should fail when its peer dies"
    assert elapsed < 60
    assert "`fit()` on rank 0 of 2 lost contact with the other ranks" in results[0][1]


@pytest.mark.slow
def test_collective_call_on_one_rank_fails_clearly(tmp_path):
    codes, results, elapsed = _launch(tmp_path, 2, mode="rank0_predict", timeout=90, STRIDED_DIST_TIMEOUT="5")
    assert codes[1] == 0 and codes[0] not in (0, None)
    assert "`predict()` on rank 0 of 2 lost contact" in results[0][1]
    assert "if rank == 0:" in results[0][1]
    assert elapsed < 60


@pytest.mark.slow
def test_synchronized_batch_norm_equals_one_process(tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    single.mkdir(), double.mkdir()
    codes, results, _ = _launch(single, 1, mode="syncbn")
    assert codes == [0], results[0][1][-3000:]
    codes, results, _ = _launch(double, 2, mode="syncbn")
    assert codes == [0, 0], "\n".join(r[1][-3000:] for r in results)
    # Batch statistics over both ranks = the statistics of the one-process batch: same weights,
    # moving mean and moving variance included.
    ref = _weights(single / "weights_rank0.npz")
    for rank in (0, 1):
        for a, b in zip(ref, _weights(double / f"weights_rank{rank}.npz")):
            np.testing.assert_allclose(b, a, atol=1e-5, rtol=1e-5)


def test_data_parallel_strategy_checks_its_devices(monkeypatch):
    import strided as keras

    for var in ("WORLD_SIZE", "LOCAL_WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="was not started by torchrun.*torchrun --nproc_per_node 2"):
        keras.distribution.DataParallel(devices=["cpu", "cpu"])
    with pytest.raises(ValueError, match="non-empty list of device strings"):
        keras.distribution.DataParallel(devices="cuda:0")
    with pytest.raises(ValueError, match="Invalid device 'tpu:9'"):
        keras.distribution.DataParallel(devices=["tpu:9"])
    with pytest.raises(TypeError, match="DataParallel or None"):
        keras.distribution.set_distribution("data_parallel")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="torchrun started 2 processes on this machine"):
        keras.distribution.DataParallel(devices=["cpu"] * 3)
    assert keras.distribution.list_devices("cpu") == ["cpu:0"]
