"""Data parallelism through torchrun: strided's `fit()` vs a hand-written PyTorch DDP loop (ms/step).

For each process count in `--nproc`, this script launches `torchrun --standalone --nproc_per_node N`
twice, one after the other: once with strided's public API (the same Keras code as on one process;
the launch alone switches `fit` to DistributedDataParallel), once with the careful hand-written
PyTorch loop below (the same network wrapped in `torch.nn.parallel.DistributedDataParallel`, data
resident on the device, each rank slicing its share of every global batch, channels_last). The
global batch is the same for every process count, as strided defines it; the timed figure is the
last epoch on rank 0, in ms per global step. The single-process hand-written baseline from
../shared/bench (seed_convnet_torch.py) runs beside them as the anchor.

Models:
- `seed`: the seed-004 MNIST convnet (93,322 parameters), RMSprop, categorical crossentropy,
  global batch `--batch` (64), the first `--limit` training images.
- `resnet50`: Keras's ResNet50 v1 (25,636,712 parameters) at `--size`, SGD(0.01, momentum 0.9),
  random images created on the device (`--steps` global batches per epoch).

NCCL on GPUs (one GPU per process), Gloo on CPUs (the cores are split between the processes).

    python benchmarks/distributed_step.py --device cpu --nproc 1 2                 # CPU, 2 processes
    python benchmarks/distributed_step.py --device cuda --nproc 1 --limit 60000    # one GPU via torchrun
    python benchmarks/distributed_step.py --device cuda --model resnet50 --batch 64 --nproc 1 2
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


# ---------------------------------------------------------------------------------------- data
def seed_data(limit):
    """MNIST scaled to [0, 1], NHWC float32 images and integer labels (the repository's embedded copy)."""
    sys.path.insert(0, ROOT)
    from strided.datasets import mnist

    (x, y), _ = mnist.load_data()
    return x[:limit].reshape(-1, 28, 28, 1).astype("float32") / 255, y[:limit].astype("int64")


def resnet_data(args, device):
    import torch

    g = torch.Generator(device="cpu").manual_seed(0)
    n = args.batch * args.steps
    x = torch.rand((n, args.size, args.size, 3), generator=g).to(device)
    y = torch.randint(0, 1000, (n,), generator=g).to(device)
    return x, y


def rank0_print(line):
    if int(os.environ.get("RANK", "0")) == 0:
        print(line, flush=True)


# ---------------------------------------------------------------------------------------- strided
def run_strided(args):
    import numpy as np

    import strided as keras
    from strided import distribution, layers, models

    keras.config.set_device(args.device if args.device == "cpu" else f"cuda:{os.environ.get('LOCAL_RANK', '0')}")
    keras.utils.set_random_seed(0)
    if args.model == "seed":
        x, y = seed_data(args.limit)
        y = keras.utils.to_categorical(y, 10)
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
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=args.jit)
        steps = -(-len(x) // args.batch)
    else:
        x, y = resnet_data(args, keras.config.get_device())
        model = keras.applications.ResNet50(weights=None, input_shape=(args.size, args.size, 3), classes=1000)
        model.compile(
            optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
            loss="sparse_categorical_crossentropy",
            jit_compile=args.jit,
        )
        steps = args.steps
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # the epoch's global metrics were all-reduced: synced
            times.append(time.perf_counter() - self.start)

    model.fit(
        x, y, batch_size=args.batch, epochs=args.epochs, verbose=0, callbacks=[Timer()], shuffle=args.model == "seed"
    )
    engine = type(model.__dict__["_ddp_step"][1]).__name__ if model.__dict__.get("_ddp_step") else "none"
    rank0_print(
        f"RESULT strided model={args.model} nproc={distribution.world_size()} engine={engine} "
        f"ms_per_step={times[-1] / steps * 1000:.2f} params={int(np.sum([w.numel() for w in model.weights]))}"
    )


# ---------------------------------------------------------------------------------------- torch
def run_torch(args):
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.nn.functional as F

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = args.device == "cuda"
    device = torch.device(f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo")
    torch.manual_seed(0)
    if args.model == "seed":
        import numpy as np

        x, y = seed_data(args.limit)
        x = (
            torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
            .to(device)
            .contiguous(memory_format=torch.channels_last)
        )
        y = torch.from_numpy(y).to(device)
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(576, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )
        opt_factory = lambda params: torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7)  # noqa: E731
        shuffle = True
    else:
        sys.path.insert(0, HERE)
        from resnet50_step import torch_resnet50

        x, y = resnet_data(args, device)
        x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        model = torch_resnet50()
        opt_factory = lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9)  # noqa: E731
        shuffle = False
    model = model.to(device, memory_format=torch.channels_last)
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    opt = opt_factory(ddp.parameters())
    n, batch = len(x), args.batch
    generator = torch.Generator(device="cpu").manual_seed(0)
    times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator).to(device) if shuffle else torch.arange(n, device=device)
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            share = -(-len(idx) // world)
            idx = idx[rank * share : (rank + 1) * share]
            loss = F.cross_entropy(ddp(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        dist.barrier()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    steps = -(-n // batch)
    rank0_print(
        f"RESULT torch-ddp model={args.model} nproc={world} ms_per_step={times[-1] / steps * 1000:.2f} "
        f"params={sum(p.numel() for p in model.parameters())}"
    )
    dist.destroy_process_group()


# ---------------------------------------------------------------------------------------- driver
def launch(args, nproc, contender):
    threads = max(1, (os.cpu_count() or 1) // nproc) if args.device == "cpu" else 4
    env = dict(
        os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        os.path.abspath(__file__),
        "--worker",
        contender,
    ] + args.forward
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        print(f"[failed] {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
        return None
    print(line, flush=True)
    return float(re.search(r"ms_per_step=([\d.]+)", line).group(1))


def anchor(args):
    """The single-process hand-written loop from ../shared/bench (seed model only)."""
    script = os.path.join(SHARED_BENCH, "seed_convnet_torch.py")
    if args.model != "seed" or not os.path.exists(script):
        return None
    env = dict(os.environ, EPOCHS=str(args.epochs), LIMIT=str(args.limit), DEVICE=args.device)
    out = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if line:
        print(line, flush=True)
        return float(re.search(r"ms_per_step_last=([\d.]+)", line).group(1))
    print(f"[failed] {script}\n{out.stderr[-2000:]}")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=["strided", "torch"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--model", default="seed", choices=["seed", "resnet50"])
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--limit", type=int, default=6400, help="seed: training images")
    parser.add_argument("--size", type=int, default=224, help="resnet50: image size")
    parser.add_argument("--steps", type=int, default=20, help="resnet50: global batches per epoch")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--jit", action="store_true", help="strided: compile(jit_compile=True)")
    args = parser.parse_args()
    if args.worker:
        return run_strided(args) if args.worker == "strided" else run_torch(args)

    args.forward = [
        "--device",
        args.device,
        "--model",
        args.model,
        "--batch",
        str(args.batch),
        "--limit",
        str(args.limit),
        "--size",
        str(args.size),
        "--steps",
        str(args.steps),
        "--epochs",
        str(args.epochs),
    ] + (["--jit"] if args.jit else [])
    import torch

    print(
        f"# {args.model}, global batch {args.batch}, device {args.device}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs" + (f", {torch.cuda.get_device_name()}" if args.device == "cuda" else "")
    )
    anchor_ms = anchor(args)
    summary = []
    for nproc in args.nproc:
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(launch(args, nproc, "strided"))
            theirs.append(launch(args, nproc, "torch"))
        ours, theirs = [v for v in ours if v], [v for v in theirs if v]
        if ours and theirs:
            summary.append((nproc, statistics.median(ours), statistics.median(theirs)))
    print("\nprocesses | strided ms/step | hand-written torch DDP ms/step | RATIO strided/torch-ddp")
    for nproc, ours, theirs in summary:
        print(f"{nproc} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f}x")
    if anchor_ms:
        print(f"single-process hand-written loop (../shared/bench/seed_convnet_torch.py): {anchor_ms:.2f} ms/step")


if __name__ == "__main__":
    main()
