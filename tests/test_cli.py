"""The `strided` command on a tiny slice of the shipped MNIST."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from strided import cli


def run_cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "strided", *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ, STRIDED_DEVICE="cpu"),
    )


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = cli.main(
        [
            "train",
            "--model",
            "seed-convnet",
            "--dataset",
            "mnist",
            "--epochs",
            "1",
            "--limit",
            "1200",
            "--batch-size",
            "64",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--verbose",
            "2",
        ]
    )
    assert code == 0
    return out


def test_train_writes_run_directory(trained_run, capsys):
    for name in ("model.keras", "history.csv", "report.md", "run.json"):
        assert (trained_run / name).is_file(), name
    meta = json.loads((trained_run / "run.json").read_text())
    # 1,200 images for one epoch: far above chance (10%), far below a full run.
    assert 0.5 < meta["test_accuracy"] <= 1.0
    rows = (trained_run / "confusion.csv").read_text().splitlines()[1:]
    matrix = np.array([[int(v) for v in row.split(",")[1:]] for row in rows])
    assert matrix.shape == (10, 10) and matrix.sum() == 200
    assert np.trace(matrix) / matrix.sum() == pytest.approx(meta["test_accuracy"], abs=1e-6)
    header = (trained_run / "history.csv").read_text().splitlines()[0]
    assert header.split(",")[:3] == ["epoch", "loss", "accuracy"]


def test_evaluate_and_predict(trained_run, tmp_path):
    result = run_cli("evaluate", str(trained_run), "--verbose", "0")
    assert result.returncode == 0, result.stderr
    assert "Test accuracy:" in result.stdout
    from PIL import Image
    from strided.datasets import mnist

    (_, _), (x_test, y_test) = mnist.load_data()
    Image.fromarray(x_test[0]).save(tmp_path / "digit.png")
    result = run_cli("predict", str(trained_run), str(tmp_path / "digit.png"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(tmp_path / "digit.png"))


def test_export_command_writes_an_artifact_equal_to_the_run(trained_run, tmp_path):
    import torch
    from strided import models

    result = run_cli("export", str(trained_run), "--format", "torch", "--out", str(tmp_path / "digits.pt2"))
    assert result.returncode == 0, result.stderr
    assert "Saved torch artifact" in result.stdout
    model = models.load_model(str(trained_run / "model.keras"))
    x = torch.rand(3, 28, 28, 1)
    torch.testing.assert_close(torch.export.load(str(tmp_path / "digits.pt2")).module()(x), model(x, training=False))
    assert cli.main(["export", str(trained_run), "--format", "torch", "--out", str(tmp_path / "digits.pt")]) == 2


def test_summary_command():
    result = run_cli("summary", "seed-convnet")
    assert result.returncode == 0, result.stderr
    assert "Total params: 93,322" in result.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--dataset", "imagenet22k"], "invalid --dataset"),
        (["train", "--epochs", "0"], "must be positive"),
        (["evaluate", "/nonexistent/run"], "not a run directory"),
        (["summary", "resnet9000"], "invalid model"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


@pytest.mark.slow
def test_train_with_two_processes(tmp_path):
    result = run_cli(
        "train",
        "--model",
        "mnist-mlp",
        "--dataset",
        "mnist",
        "--epochs",
        "1",
        "--limit",
        "600",
        "--device",
        "cpu",
        "--nproc",
        "2",
        "--out",
        str(tmp_path),
        "--verbose",
        "2",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("Total params") == 1  # only rank 0 prints
    assert json.loads((tmp_path / "run.json").read_text())["test_accuracy"] > 0.5
