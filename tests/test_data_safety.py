"""Files and data are safe (issue 16): killed saves, permissions, Lambda functions, hostile and bomb files.

The SIGKILL tests fork the test process (POSIX only): the child saves in a loop and the parent kills it at a
random moment, or at the one moment between a finished temporary and its rename.
"""

import os
import pickle
import random
import signal
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import strided as keras
from strided import callbacks, layers

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs fork/SIGKILL")


def make_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([layers.Input((64,)), layers.Dense(512), layers.Dense(512), layers.Dense(10)])
    return model  # ~1.3 MB of weights: a save takes long enough to be killed in the middle


def partials(directory, name):
    return sorted(n for n in os.listdir(directory) if n.startswith(name + ".partial-save-"))


def save(model, path):
    if path.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)


def load_into(path):
    """Loads ``path`` (raises if it is not a complete, valid file); returns the weights."""
    if path.endswith(".weights.h5"):
        model = make_model(1)
        model.load_weights(path)
        return model.get_weights()
    return keras.models.load_model(path).get_weights()


def fork_saver(path, model, pause_before_rename=False):
    """Forks a child that saves ``model`` to ``path`` over and over; returns (pid, read end).

    The model is built before the fork: the child runs no torch computation (torch's thread pools do not
    survive a fork), only the save.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            os.close(read_end)
            if pause_before_rename:
                real_replace = os.replace

                def replace_then_wait(src, dst):
                    if os.path.basename(src).startswith(os.path.basename(dst) + ".partial-save-"):
                        os.write(write_end, b"r")  # the temporary is complete and not yet renamed
                        time.sleep(60)
                    return real_replace(src, dst)

                os.replace = replace_then_wait
            os.write(write_end, b"s")
            while True:
                save(model, path)
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, read_end


def kill(pid):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.mark.parametrize("name", ["model.keras", "model.weights.h5"])
def test_repeated_sigkill_during_save_leaves_the_old_file_loadable(tmp_path, name):
    path = str(tmp_path / name)
    model = make_model(0)
    save(model, path)
    valid = [w for w in model.get_weights()]
    rng = random.Random(16)
    other = make_model(1)
    other_weights = other.get_weights()
    for i in range(6):
        pid, read_end = fork_saver(path, other if i % 2 else model)
        os.read(read_end, 1)  # the child started saving
        time.sleep(rng.uniform(0.0, 0.15))
        kill(pid)
        os.close(read_end)
        weights = load_into(path)  # the file is always a complete save: the first one or one of the child's
        assert any(all(np.array_equal(a, b) for a, b in zip(weights, ref)) for ref in (valid, other_weights))
    # one kill exactly between a finished temporary and its rename leaves a stale temporary behind
    pid, read_end = fork_saver(path, other, pause_before_rename=True)
    assert os.read(read_end, 1) == b"s" and os.read(read_end, 1) == b"r"
    kill(pid)
    os.close(read_end)
    stale = partials(tmp_path, name)
    assert stale, os.listdir(tmp_path)
    assert all(not s.startswith(".") for s in stale)  # visible, and named after the file it was saving
    load_into(path)
    # the next save of the same file removes the stale temporaries and leaves only the file
    save(model, path)
    assert partials(tmp_path, name) == []
    assert sorted(os.listdir(tmp_path)) == [name]
    for got, want in zip(load_into(path), valid):
        np.testing.assert_array_equal(got, want)


def test_a_save_in_progress_in_a_live_process_is_not_cleaned(tmp_path):
    path = str(tmp_path / "m.keras")
    live = tmp_path / f"m.keras.partial-save-{os.getppid()}-abc.tmp"  # a live process (pytest's parent)
    live.write_bytes(b"partial")
    make_model().save(path)
    assert live.exists()


@pytest.mark.parametrize("name", ["m.keras", "m.weights.h5", "m.h5"])
def test_permissions_follow_the_umask_and_overwrites_keep_the_mode(tmp_path, name):
    path = str(tmp_path / name)
    model = make_model()
    old = os.umask(0o027)
    try:
        save(model, path)
    finally:
        os.umask(old)
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)
    os.chmod(path, 0o604)
    save(model, path)
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o604)


def test_backup_and_restore_files_are_written_safely(tmp_path):
    model = make_model()
    model.compile("sgd", "mse")
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"), delete_checkpoint=False)
    model.fit(np.zeros((4, 64)), np.zeros((4, 10)), epochs=1, verbose=0, callbacks=[backup])
    names = os.listdir(tmp_path / "backup")
    assert names == ["latest.pt"]


def test_lambda_model_round_trips_only_with_safe_mode_false(tmp_path):
    def make_fn():
        scale = 3.0
        return lambda x, shift=1.0: x * scale + shift  # a closure and a default, as users write them

    model = keras.Sequential([layers.Input((4,)), layers.Lambda(make_fn()), layers.Dense(2)])
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with zipfile.ZipFile(path) as z:
        config = z.read("config.json").decode()
    assert '"__lambda__"' in config and '"code"' in config  # the function itself, as Keras writes it


@pytest.mark.keras
def test_lambda_file_loads_in_keras_with_safe_mode_false(tmp_path):
    real = pytest.importorskip("keras")
    model = keras.Sequential([layers.Input((4,)), layers.Lambda(lambda x: x * 2.0 + 1.0), layers.Dense(2)])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    x = np.random.default_rng(1).random((3, 4)).astype("float32")
    theirs = real.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=1e-5)


def test_compression_bomb_is_refused_without_inflating_it(tmp_path):
    path = str(tmp_path / "bomb.keras")
    make_model().save(path)
    with zipfile.ZipFile(path) as z:
        config, metadata = z.read("config.json"), z.read("metadata.json")
    bomb = str(tmp_path / "bomb2.keras")
    size = 128 * 2**20
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("config.json", config)
        z.writestr("metadata.json", metadata)
        with z.open("model.weights.h5", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    assert os.path.getsize(bomb) < size / 500
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="compression bomb") as info:
            keras.models.load_model(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "model.weights.h5" in str(info.value) and "Nothing was inflated" in str(info.value)
    assert peak < 16 * 2**20, peak  # the 128 MiB member was never inflated


class _Hostile:
    def __reduce__(self):
        return (os.system, ("touch HACKED",))


@pytest.mark.parametrize("content", ["hostile", "foreign_torch", "garbage"])
def test_backup_dir_with_a_foreign_or_hostile_file_raises_a_named_error(tmp_path, monkeypatch, content):
    import torch

    monkeypatch.chdir(tmp_path)
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    target = backup_dir / "latest.pt"
    if content == "hostile":
        target.write_bytes(pickle.dumps(_Hostile()))
    elif content == "foreign_torch":
        torch.save({"model": [torch.zeros(3)], "step": 7}, str(target))
    else:
        target.write_bytes(b"\x00not a backup at all")
    model = make_model()
    model.compile("sgd", "mse")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="not a strided backup") as info:
        model.fit(
            np.zeros((4, 64)),
            np.zeros((4, 10)),
            epochs=1,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(str(backup_dir))],
        )
    assert "Nothing was loaded" in str(info.value)
    assert not (tmp_path / "HACKED").exists()  # no code from the file ran
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)  # and nothing was assigned
