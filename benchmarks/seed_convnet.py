"""Seed-004 convnet (93,322 params, RMSprop, batch 64): strided's fit() vs hand-written PyTorch vs Keras[torch].

Runs, in one invocation and on the same data: ../shared/bench/seed_convnet_torch.py (the careful
hand-written loop), ../shared/bench/seed_convnet_keras.py with KERAS_BACKEND=torch (when keras is
installed), and the same network through strided's public API. Each runs in its own process, one
after the other, `--repeats` times alternating; the steady-state ms/step of the last epoch is
compared and the median ratio printed.

    python benchmarks/seed_convnet.py                  # CPU, first 6,400 images, 2 epochs
    python benchmarks/seed_convnet.py --device cuda --limit 60000 --epochs 2

Results are in benchmarks/README.md with the date, hardware and torch version.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.environ.get("STRIDED_SHARED_BENCH", os.path.join(ROOT, "..", "shared", "bench"))
sys.path.insert(0, ROOT)  # this checkout's strided, not another installed copy


def worker(epochs, limit, device, jit):
    """The strided side: the seed-004 code with strided imports, timed per epoch like the baselines."""
    sys.path.insert(0, SHARED_BENCH)

    import strided as keras
    from mnist_np import load
    from strided import layers, models

    keras.config.set_device(device)
    keras.utils.set_random_seed(0)
    (xtr, ytr), (xte, yte) = load()
    xtr = xtr[:limit].reshape(-1, 28, 28, 1).astype("float32") / 255
    xte = xte.reshape(-1, 28, 28, 1).astype("float32") / 255
    ytr = keras.utils.to_categorical(ytr[:limit], 10)
    yte = keras.utils.to_categorical(yte, 10)
    model = models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    t0 = time.perf_counter()
    model.fit(xtr, ytr, epochs=epochs, batch_size=64, verbose=0, callbacks=[Timer()])
    train_s = time.perf_counter() - t0
    _, acc = model.evaluate(xte, yte, batch_size=256, verbose=0)
    steps = -(-limit // 64)
    print(
        f"RESULT strided-{device}{'-jit' if jit else ''} epochs={epochs} n={limit} train_s={train_s:.2f} "
        f"epoch_s={','.join(f'{t:.2f}' for t in times)} ms_per_step_last={times[-1] / steps * 1000:.2f} "
        f"test_acc={acc:.4f}"
    )


def run(cmd, env):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        print(f"[failed] {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
        return None, None
    ms = float(re.search(r"ms_per_step_last=([\d.]+)", line).group(1))
    return ms, line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=6400)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.epochs, args.limit, args.device, args.jit)
        return
    import torch

    env = dict(
        os.environ,
        EPOCHS=str(args.epochs),
        LIMIT=str(args.limit),
        DEVICE=args.device,
        KERAS_BACKEND="torch",
        STRIDED_DEVICE=args.device,
    )
    ours = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        "--epochs",
        str(args.epochs),
        "--limit",
        str(args.limit),
        "--device",
        args.device,
    ] + (["--jit"] if args.jit else [])
    contenders = {"strided": ours, "torch": [sys.executable, os.path.join(SHARED_BENCH, "seed_convnet_torch.py")]}
    try:
        import importlib.util

        if not args.no_keras and importlib.util.find_spec("keras") is not None:
            contenders["keras[torch]"] = [sys.executable, os.path.join(SHARED_BENCH, "seed_convnet_keras.py")]
    except ImportError:
        pass
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"{os.cpu_count()} CPUs, epochs {args.epochs}, images {args.limit}, repeats {args.repeats}"
    )
    results = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, cmd in contenders.items():
            ms, line = run(cmd, env)
            if line:
                print(line)
                results[name].append(ms)
    med = {k: statistics.median(v) for k, v in results.items() if v}
    for name, value in med.items():
        print(f"{name:14s} {value:8.2f} ms/step (median of {len(results[name])})")
    if "strided" in med:
        for other in med:
            if other != "strided":
                print(f"RATIO strided/{other} = {med['strided'] / med[other]:.3f}")


if __name__ == "__main__":
    main()
