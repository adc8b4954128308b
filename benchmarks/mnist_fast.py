"""MNIST to 99% in one epoch through strided's fit(), beside the plain-PyTorch recipe.

The network and schedule of ../shared/bench/fast_recipe_torch.py (2 conv layers, Adam betas (0.7, 0.9),
one-cycle lr peaking at 1e-2, batch 256, data resident on the device), written with the Keras API:
`Sequential`, `compile`, `fit(x, y, batch_size=256, epochs=1, shuffle=False)`. Both run in this
invocation (the baseline as a subprocess) after one untimed warm-up; the median training time of
5 seeded runs and the mean test accuracy are printed with the ratio.

    python benchmarks/mnist_fast.py --device cuda
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_BENCH = os.environ.get("STRIDED_SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench"))


def strided_runs(device, runs, jit):
    sys.path.insert(0, SHARED_BENCH)
    import torch

    import strided as keras
    from mnist_np import load
    from strided import layers, models, optimizers

    keras.config.set_device(device)
    (xtr, ytr), (xte, yte) = load()
    mean, std = 0.1307, 0.3081
    xtr = ((xtr.astype("float32") / 255 - mean) / std)[..., None]
    xte = ((xte.astype("float32") / 255 - mean) / std)[..., None]
    # Resident on the device once: fit() slices batches there without copies from the host.
    xtr_t, ytr_t = torch.from_numpy(xtr).to(device), torch.from_numpy(ytr.astype("int64")).to(device)
    xte_t = torch.from_numpy(xte).to(device)
    steps = math.ceil(len(xtr) / 256)

    class OneCycle(optimizers.schedules.LearningRateSchedule):
        """torch's OneCycleLR (cos annealing, 30% warm-up, div 25, final div 1e4) as a Keras schedule."""

        def __call__(self, step):
            step = float(step)
            up = 0.3 * steps - 1
            lo, hi, end = 1e-2 / 25, 1e-2, 1e-2 / 25 / 1e4
            if step <= up:
                return hi + (lo - hi) * (1 + math.cos(math.pi * step / up)) / 2
            t = (step - up) / (steps - 1 - up)
            return end + (hi - end) * (1 + math.cos(math.pi * t)) / 2

    def once(seed):
        keras.utils.set_random_seed(seed)
        model = models.Sequential(
            [
                layers.Input((28, 28, 1)),
                layers.Conv2D(24, 5),
                layers.MaxPooling2D(2),
                layers.ReLU(),
                layers.Conv2D(32, 3),
                layers.MaxPooling2D(2),
                layers.ReLU(),
                layers.Flatten(),
                layers.Dense(256, activation="relu"),
                layers.Dense(10),
            ]
        )
        model.compile(
            optimizer=optimizers.Adam(OneCycle(), beta_1=0.7, beta_2=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.fit(xtr_t, ytr_t, batch_size=256, epochs=1, shuffle=False, verbose=0)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        with torch.no_grad():
            acc = (model.predict(xte_t, batch_size=2048, verbose=0).argmax(-1) == yte).mean()
        return elapsed, float(acc)

    once(0)
    results = [once(s) for s in range(1, runs + 1)]
    times = sorted(r[0] for r in results)
    accs = [r[1] for r in results]
    print(
        f"RESULT strided-fast-{device}{'-jit' if jit else ''} median_train_s={statistics.median(times):.3f} "
        f"min={times[0]:.3f} acc_mean={sum(accs) / len(accs):.4f} accs={','.join(f'{a:.4f}' for a in accs)}"
    )
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jit", action="store_true")
    args = parser.parse_args()
    import torch

    print(
        f"torch {torch.__version__}, device {args.device}"
        + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else "")
    )
    ours = strided_runs(args.device, args.runs, args.jit)
    out = subprocess.run(
        [sys.executable, os.path.join(SHARED_BENCH, "fast_recipe_torch.py")],
        capture_output=True,
        text=True,
        env=dict(os.environ, MODE="eager"),
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    print(line or out.stderr[-2000:])
    if line:
        theirs = float(line.split("median_train_s=")[1].split()[0])
        print(f"RATIO strided/torch = {ours / theirs:.3f}")


if __name__ == "__main__":
    main()
