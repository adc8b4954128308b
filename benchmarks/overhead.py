"""Per-layer host cost: strided's `fit` against the hand-written loops of ../shared/bench/cnn_shapes_torch.py.

Two shapes, CPU, one thread (OMP_NUM_THREADS=1 and torch.set_num_threads(1) in every process):

- `overhead`: 12 blocks Conv2D(16, 3, 'same', no bias) + BatchNormalization + ReLU on 8x8x16, then Flatten +
  Dense(10), batch 8. The work per layer is tiny, so what a framework adds per layer call dominates: the CPU
  stand-in for the host-bound GPU regime.
- `resnet`: ResNet-20 (CIFAR layout, 1x1 projection shortcuts) on 32x32x3, batch 128.

Contenders, each in its own process, alternating, `--repeats` times (median reported): the baseline script with
`torch` (NCHW) and `torch_cl` (channels_last), and the same network through strided's public API (`fit`, SGD
momentum 0.9, sparse cross-entropy from logits, BatchNormalization with Keras's defaults). Every contender times
like the baseline: one warm-up epoch, then the median of 3 epochs, in ms per training step. Ratios are against
the best (fastest) hand-written loop of the same run.

Then, in this process, the same contenders epoch by epoch (a strided epoch inside one `fit`, then one epoch of
each hand-written loop), wall and CPU time per step: on a shared machine a process's CPU time moves much less
than its wall time (INPROCESS lines). Then, per training step of one epoch: Python function calls (cProfile) and dispatched torch
ops (a TorchDispatchMode counter, autograd's backward included), for strided's `fit` and for the baseline's
`epoch()` (the baseline script executed in-process up to its timing call).

    python benchmarks/overhead.py                          # both shapes, 3 repeats
    python benchmarks/overhead.py --shapes overhead --repeats 5
    python benchmarks/overhead.py --smoke                  # a few seconds: one repeat, fewer steps, overhead only
    python benchmarks/overhead.py --instructions --shapes overhead   # also CPU instructions per step (valgrind)

`--instructions` counts the CPU instructions each contender executes per training step, with valgrind's callgrind
(each contender run for 1 and for 3 epochs; the difference over the steps in between, so that start-up and
import cost cancel). A count of instructions is the same however busy the machine is, where times on a shared
machine move by tens of percent; it leaves out what instructions do not show (cache misses, memory bandwidth).

Results are in benchmarks/README.md with the date, hardware and torch version.
"""

import argparse
import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.environ.get("STRIDED_SHARED_BENCH", os.path.join(ROOT, "..", "shared", "bench"))
BASELINE = os.path.join(SHARED_BENCH, "cnn_shapes_torch.py")
sys.path.insert(0, ROOT)  # this checkout's strided, not another installed copy

# The sizes of cnn_shapes_torch.py: samples per epoch, batch, image side, input channels.
SHAPES = {"overhead": (8 * 60, 8, 8, 16), "resnet": (128 * 12, 128, 32, 3)}


def _data(shape, n=None):
    import numpy as np

    size, _, hw, c0 = SHAPES[shape]
    rng = np.random.default_rng(0)  # the baseline's data, drawn the same way
    x = rng.standard_normal((size, hw, hw, c0)).astype("float32")
    y = rng.integers(0, 10, size)
    return (x[:n], y[:n]) if n else (x, y)


def build_strided(shape):
    """The baseline's network through strided's public API (NHWC, Keras defaults)."""
    import strided as keras
    from strided import layers

    keras.utils.set_random_seed(0)

    def conv_bn(t, filters, kernel=3, stride=1):
        t = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False)(t)
        return layers.BatchNormalization()(t)

    if shape == "overhead":
        inputs = layers.Input((8, 8, 16))
        seq = [inputs]
        for _ in range(12):
            seq += [layers.Conv2D(16, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU()]
        model = keras.Sequential(seq + [layers.Flatten(), layers.Dense(10)])
    else:
        inputs = layers.Input((32, 32, 3))
        t = layers.ReLU()(conv_bn(inputs, 16))
        cin = 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                s = stride if i == 0 else 1
                a = layers.ReLU()(conv_bn(t, cout, 3, s))
                a = conv_bn(a, cout)
                sc = conv_bn(t, cout, 1, s) if (s != 1 or cin != cout) else t
                t = layers.ReLU()(layers.Add()([a, sc]))
                cin = cout
        t = layers.GlobalAveragePooling2D()(t)
        model = keras.Model(inputs, layers.Dense(10)(t))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def worker(shape, n):
    """The strided side, timed like the baseline: one warm-up epoch, then the median of 3, ms per step."""
    import torch

    import strided as keras

    torch.set_num_threads(1)
    x, y = _data(shape, n)
    batch = SHAPES[shape][1]
    model = build_strided(shape)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x, y, batch_size=batch, epochs=4, shuffle=True, verbose=0, callbacks=[Timer()])
    ms = statistics.median(times[1:]) / (len(x) // batch) * 1000
    print(f"RESULT strided {shape} ms_per_step={ms:.3f}")


def _run(cmd, env):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        print(f"[failed] {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
        return None
    return float(re.search(r"ms_per_step=([\d.]+)", line).group(1))


class _OpCounter:
    """Counts the torch ops dispatched while active (forward, autograd's backward and the optimizer)."""

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        counter = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                counter.count += 1
                return func(*args, **(kwargs or {}))

        self.count = 0
        self.mode = Mode()


def _count(run, steps):
    """(Python function calls, dispatched torch ops) per step of `run()`, which runs `steps` steps."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls
    counter = _OpCounter()
    with counter.mode:
        run()
    return calls / steps, counter.count / steps


def count_strided(shape, n):
    x, y = _data(shape, n)
    batch = SHAPES[shape][1]
    model = build_strided(shape)
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # first calls (signature checks) excluded
    return _count(lambda: model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0), len(x) // batch)


def load_baseline(lib, shape, n=None):
    """The baseline script run in this process up to its timing call: its namespace (``epoch``, ``N``, ``B``...),
    with ``N`` set to ``n`` samples per epoch when given."""
    with open(BASELINE) as f:
        source = f.read()
    if "ms = timed(epoch)" not in source:
        raise RuntimeError(f"{BASELINE} changed: its timing call `ms = timed(epoch)` was not found")
    source = source.replace("ms = timed(epoch)", "ms = None").replace('print(f"RESULT', 'None and print(f"RESULT')
    namespace = {"__name__": "cnn_shapes_torch"}
    argv = sys.argv
    sys.argv = [BASELINE, lib, shape]
    try:
        exec(compile(source, BASELINE, "exec"), namespace)
    finally:
        sys.argv = argv
    if n is not None:
        namespace["N"] = n
    return namespace


def count_baseline(lib, shape, n=None):
    """Counts one epoch of the baseline's loop, after a warm-up epoch as its timing does."""
    namespace = load_baseline(lib, shape, n)
    epoch = namespace["epoch"]
    epoch()
    return _count(epoch, namespace["N"] // namespace["B"])


def instruction_worker(who, shape, epochs):
    """Runs `epochs` epochs of one contender (for `--instructions`, under valgrind)."""
    if who == "strided":
        x, y = _data(shape)
        build_strided(shape).fit(x, y, batch_size=SHAPES[shape][1], epochs=epochs, shuffle=True, verbose=0)
        return
    epoch = load_baseline(who, shape)["epoch"]
    for _ in range(epochs):
        epoch()


def instructions(shape, env):
    """CPU instructions per training step of each contender: callgrind's total for 3 epochs minus that for 1,
    over the steps of the 2 epochs between."""
    steps = 2 * (SHAPES[shape][0] // SHAPES[shape][1])
    per_step = {}
    for who in ("strided", "torch", "torch_cl"):
        totals = []
        for epochs in (1, 3):
            worker_args = ["--instruction-worker", who, shape, str(epochs)]
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                HERE + "/overhead.py",
            ]
            cmd += worker_args
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            found = re.search(r"Collected : (\d+)", out.stderr)
            if out.returncode or not found:
                print(f"[failed] {' '.join(cmd)}\n{out.stderr[-2000:]}")
                return
            totals.append(int(found.group(1)))
        per_step[who] = (totals[1] - totals[0]) / steps
        print(f"INSTRUCTIONS {shape} {who} {per_step[who] / 1e6:.3f} M per step")
    best = min(("torch", "torch_cl"), key=per_step.get)
    print(f"RATIO {shape} instructions strided/best = {per_step['strided'] / per_step[best]:.3f} (best: {best})")


def interleaved(shape, n, repeats):
    """Epoch by epoch in this process: a strided epoch (inside one `fit`), then one epoch of each hand-written
    loop, `repeats` times after a warm-up round; wall and CPU (process) time per step of each. On a shared
    machine the CPU time of a process moves much less than its wall time."""
    import torch

    import strided as keras

    torch.set_num_threads(1)
    x, y = _data(shape, n)
    batch = SHAPES[shape][1]
    steps = len(x) // batch
    baselines = {lib: load_baseline(lib, shape, n)["epoch"] for lib in ("torch", "torch_cl")}
    for epoch in baselines.values():
        epoch()
    times = {name: {"wall": [], "cpu": []} for name in ("strided", *baselines)}

    def record(name, wall, cpu):
        times[name]["wall"].append((time.perf_counter() - wall) / steps * 1000)
        times[name]["cpu"].append((time.process_time() - cpu) / steps * 1000)

    class Interleave(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            record("strided", self.wall, self.cpu)
            for name, run in baselines.items():
                wall, cpu = time.perf_counter(), time.process_time()
                run()
                record(name, wall, cpu)

    model = build_strided(shape)
    model.fit(x, y, batch_size=batch, epochs=repeats + 1, shuffle=True, verbose=0, callbacks=[Interleave()])
    for clock in ("wall", "cpu"):
        med = {name: statistics.median(t[clock][1:]) for name, t in times.items()}
        best = min(baselines, key=med.get)
        paired = [s / min(times[b][clock][i] for b in baselines) for i, s in enumerate(times["strided"][clock])][1:]
        print(
            f"INPROCESS {shape} {clock}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in med.items())
            + f" ms/step (median of {repeats}); strided/best = {med['strided'] / med[best]:.3f} (best: {best}); "
            f"paired median {statistics.median(paired):.3f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["overhead", "resnet"], choices=sorted(SHAPES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="one repeat of the overhead shape on few steps")
    parser.add_argument("--no-counts", action="store_true", help="skip the Python-call and op counts")
    parser.add_argument("--no-interleaved", action="store_true", help="skip the in-process, epoch by epoch timing")
    parser.add_argument("--instructions", action="store_true", help="also count CPU instructions (valgrind)")
    parser.add_argument("--worker", nargs=2, metavar=("SHAPE", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--instruction-worker", nargs=3, metavar=("WHO", "SHAPE", "EPOCHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return
    if args.instruction_worker:
        who, shape, epochs = args.instruction_worker
        instruction_worker(who, shape, int(epochs))
        return
    if args.smoke:
        args.shapes, args.repeats = ["overhead"], 1
    env = dict(os.environ, OMP_NUM_THREADS="1")
    print(f"torch {torch.__version__}, CPU, 1 thread, {os.cpu_count()} CPUs, repeats {args.repeats}")
    for shape in args.shapes:
        n = 8 * 10 if args.smoke else SHAPES[shape][0]
        contenders = {
            "strided": [sys.executable, os.path.abspath(__file__), "--worker", shape, str(n)],
            "torch": [sys.executable, BASELINE, "torch", shape],
            "torch_cl": [sys.executable, BASELINE, "torch_cl", shape],
        }
        results = {name: [] for name in contenders}
        rounds = []
        for _ in range(args.repeats):
            this_round = {}
            for name, cmd in contenders.items():
                ms = _run(cmd, env)
                if ms is not None:
                    results[name].append(ms)
                    this_round[name] = ms
                    print(f"RESULT {name} {shape} ms_per_step={ms:.3f}")
            rounds.append(this_round)
        med = {k: statistics.median(v) for k, v in results.items() if v}
        for name, value in med.items():
            print(f"{shape:9s} {name:9s} {value:9.3f} ms/step (median of {len(results[name])})")
        hand = [k for k in ("torch", "torch_cl") if k in med]
        if "strided" in med and hand:
            best = min(hand, key=med.get)
            for other in hand:
                print(f"RATIO {shape} strided/{other} = {med['strided'] / med[other]:.3f}")
            print(f"RATIO {shape} strided/best = {med['strided'] / med[best]:.3f} (best: {best})")
            # The machine is shared: the ratio within each round (contenders run back to back) moves less.
            paired = [
                r["strided"] / min(r[k] for k in hand if k in r)
                for r in rounds
                if "strided" in r and any(k in r for k in hand)
            ]
            print(
                f"PAIRED {shape} strided/best-of-round: median {statistics.median(paired):.3f} "
                f"({', '.join(f'{p:.3f}' for p in paired)})"
            )
        if not args.no_interleaved:
            interleaved(shape, n, args.repeats)
        if args.instructions:
            instructions(shape, env)
        if args.no_counts:
            continue
        counts = {"strided": count_strided(shape, n)}
        for lib in ("torch", "torch_cl"):
            counts[lib] = count_baseline(lib, shape, n)
        for name, (calls, ops) in counts.items():
            print(f"COUNTS {shape} {name} python_calls_per_step={calls:.0f} torch_ops_per_step={ops:.1f}")
        for lib in ("torch", "torch_cl"):
            print(
                f"RATIO {shape} ops strided/{lib} = {counts['strided'][1] / counts[lib][1]:.3f}, "
                f"calls strided/{lib} = {counts['strided'][0] / counts[lib][0]:.3f}"
            )


if __name__ == "__main__":
    main()
