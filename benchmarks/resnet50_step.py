"""ResNet50 training step (ms/step): strided's `fit` vs a hand-written PyTorch ResNet50 vs Keras[torch].

Same work for every contender: ResNet50 v1 as in Keras (bottleneck blocks 3-4-6-3, stride on the
first 1x1 convolution, biased convolutions, BatchNormalization eps 1.001e-5 and momentum 0.99,
1000-way softmax top; 25,636,712 parameters at any input size), SGD lr 0.01 momentum 0.9, sparse
categorical crossentropy, batch `--batch` (64), random float32 images and labels created on the
device (`--steps` x batch samples). Each contender trains 2 epochs of `--steps` batches without
shuffling and the second epoch is timed (warm-up excluded; CUDA synchronized before the clock is
read), giving ms/step.

- strided: `strided.applications.ResNet50(weights=None, input_shape=(S, S, 3), classes=1000)`,
  `compile(SGD(0.01, momentum=0.9), 'sparse_categorical_crossentropy', jit_compile=--jit)`,
  `fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0)` on the device tensors.
- torch: the compact `torch.nn` ResNet50 written below (the same architecture, parameter count
  checked equal), channels_last model and input, `torch.optim.SGD(lr=0.01, momentum=0.9)`,
  `F.cross_entropy` on the logits, a plain loop slicing the device tensors. With `--jit` a second
  baseline, torch-compile, compiles its forward+loss with `torch.compile` (the mode strided uses:
  'reduce-overhead' on CUDA, the default elsewhere).
- keras[torch]: real Keras 3 `keras.applications.ResNet50` with the same settings and `fit`, when
  keras is importable (KERAS_BACKEND=torch; skip with `--no-keras`).

`--precision mixed_bfloat16` sets strided's and Keras's global policy and wraps the torch
forward+loss in `torch.autocast(dtype=torch.bfloat16)`. torch's defaults for cuDNN (benchmark off)
and TF32 are left alone in every contender. Each contender runs in its own process, `--repeats`
times alternating; the median ms/step is printed and RATIO strided/<other> = strided ms/step /
other ms/step (below 1 means strided is faster).

    python benchmarks/resnet50_step.py --device cpu --size 64 --batch 8 --steps 3      # smoke test
    python benchmarks/resnet50_step.py --device cuda --repeats 3                         # 224x224, batch 64
    python benchmarks/resnet50_step.py --device cuda --repeats 3 --jit --precision mixed_bfloat16
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
LR, MOMENTUM, CLASSES = 0.01, 0.9, 1000


def make_data(args):
    import torch

    gen = torch.Generator(device=args.device).manual_seed(0)
    n = args.steps * args.batch
    x = torch.randn(n, args.size, args.size, 3, device=args.device, generator=gen)
    y = torch.randint(0, CLASSES, (n,), device=args.device, generator=gen)
    return x, y


def sync(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def result(name, args, ms, params, extra=""):
    print(
        f"RESULT {name} device={args.device} size={args.size} batch={args.batch} steps={args.steps} "
        f"precision={args.precision} params={params} ms_per_step={ms:.2f}{extra}",
        flush=True,
    )


def epoch_timer(base, device, times):
    class Timer(base):
        def on_epoch_begin(self, epoch, logs=None):
            sync(device)
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            sync(device)
            times.append(time.perf_counter() - self.start)

    return Timer()


# --------------------------------------------------------------------------- strided
def run_strided(args):
    sys.path.insert(0, ROOT)
    import strided as keras

    keras.config.set_device(args.device)
    keras.utils.set_random_seed(0)
    if args.precision != "float32":
        keras.mixed_precision.set_global_policy(args.precision)
    model = keras.applications.ResNet50(weights=None, input_shape=(args.size, args.size, 3), classes=CLASSES)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM),
        loss="sparse_categorical_crossentropy",
        jit_compile=args.jit,
    )
    x, y = make_data(args)
    times = []
    model.fit(
        x,
        y,
        batch_size=args.batch,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[epoch_timer(keras.callbacks.Callback, args.device, times)],
    )
    result(
        "strided" + ("-jit" if args.jit else ""),
        args,
        times[-1] / args.steps * 1000,
        model.count_params(),
        f" first_epoch_s={times[0]:.2f}",
    )


# --------------------------------------------------------------------------- torch
def torch_resnet50():
    """ResNet50 v1 as Keras builds it, in torch.nn (torchvision's puts the stride on the 3x3 conv)."""
    import torch.nn as nn
    import torch.nn.functional as F

    def bn(c):
        # torch's momentum weights the new batch: Keras's 0.99 moving average is torch's 0.01.
        return nn.BatchNorm2d(c, eps=1.001e-5, momentum=0.01)

    class Bottleneck(nn.Module):
        def __init__(self, cin, filters, stride, projection):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, filters, 1, stride), bn(filters)
            self.conv2, self.bn2 = nn.Conv2d(filters, filters, 3, padding=1), bn(filters)
            self.conv3, self.bn3 = nn.Conv2d(filters, 4 * filters, 1), bn(4 * filters)
            self.shortcut = (
                nn.Sequential(nn.Conv2d(cin, 4 * filters, 1, stride), bn(4 * filters)) if projection else nn.Identity()
            )

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = F.relu(self.bn2(self.conv2(out)))
            return F.relu(self.shortcut(x) + self.bn3(self.conv3(out)))

    layers = [
        nn.Conv2d(3, 64, 7, 2, padding=3),
        bn(64),
        nn.ReLU(),
        # Keras zero-pads before this pool; after a ReLU zeros and torch's -inf padding agree.
        nn.MaxPool2d(3, 2, padding=1),
    ]
    cin = 64
    for filters, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, filters, stride if i == 0 else 1, projection=i == 0))
            cin = 4 * filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, CLASSES)]
    net = nn.Sequential(*layers)
    for m in net.modules():  # Keras's glorot_uniform / zeros
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def run_torch(args):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    device = torch.device(args.device)
    net = torch_resnet50().to(device).to(memory_format=torch.channels_last).train()
    # Keras's count_params includes BatchNormalization's moving mean and variance.
    params = sum(p.numel() for p in net.parameters()) + sum(
        b.numel() for n, b in net.named_buffers() if n.endswith(("running_mean", "running_var"))
    )
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    x, y = make_data(args)
    x = x.permute(0, 3, 1, 2)  # NHWC storage viewed as NCHW: already channels_last, no copy
    bf16 = args.precision == "mixed_bfloat16"

    def forward_loss(xb, yb):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            return F.cross_entropy(net(xb), yb)

    step_fn = forward_loss
    if args.jit:
        step_fn = torch.compile(forward_loss, mode="reduce-overhead" if device.type == "cuda" else None)
    times = []
    for _ in range(2):
        sync(args.device)
        start = time.perf_counter()
        for i in range(0, args.steps * args.batch, args.batch):
            loss = step_fn(x[i : i + args.batch], y[i : i + args.batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        float(loss)  # read the loss once per epoch, as a Keras log does
        sync(args.device)
        times.append(time.perf_counter() - start)
    result(
        "torch" + ("-compile" if args.jit else ""),
        args,
        times[-1] / args.steps * 1000,
        params,
        f" first_epoch_s={times[0]:.2f}",
    )


# --------------------------------------------------------------------------- keras
def run_keras(args):
    os.environ["KERAS_BACKEND"] = "torch"
    os.environ.setdefault("KERAS_TORCH_DEVICE", "cuda" if args.device.startswith("cuda") else "cpu")
    import keras

    keras.utils.set_random_seed(0)
    if args.precision != "float32":
        keras.mixed_precision.set_global_policy(args.precision)
    model = keras.applications.ResNet50(weights=None, input_shape=(args.size, args.size, 3), classes=CLASSES)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM), loss="sparse_categorical_crossentropy"
    )
    x, y = make_data(args)
    times = []
    model.fit(
        x,
        y,
        batch_size=args.batch,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[epoch_timer(keras.callbacks.Callback, args.device, times)],
    )
    result("keras[torch]", args, times[-1] / args.steps * 1000, model.count_params(), f" first_epoch_s={times[0]:.2f}")


# --------------------------------------------------------------------------- driver
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=224, help="input height and width (>= 32)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="batches per epoch; the 2nd epoch is timed")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--jit", action="store_true", help="strided jit_compile=True (and a torch.compile baseline)")
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--worker", choices=["strided", "torch", "keras"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        {"strided": run_strided, "torch": run_torch, "keras": run_keras}[args.worker](args)
        return
    import importlib.util

    import torch

    common = [
        "--device",
        args.device,
        "--size",
        str(args.size),
        "--batch",
        str(args.batch),
        "--steps",
        str(args.steps),
        "--precision",
        args.precision,
    ]
    me = [sys.executable, os.path.abspath(__file__)]
    contenders = {
        "strided": me + ["--worker", "strided"] + common + (["--jit"] if args.jit else []),
        "torch": me + ["--worker", "torch"] + common,
    }
    if args.jit:
        contenders["torch-compile"] = me + ["--worker", "torch", "--jit"] + common
    if not args.no_keras and importlib.util.find_spec("keras") is not None:
        contenders["keras[torch]"] = me + ["--worker", "keras"] + common
    print(
        f"torch {torch.__version__}, device {args.device}"
        + (
            f" ({torch.cuda.get_device_name()})"
            if args.device.startswith("cuda")
            else f", threads {torch.get_num_threads()}, {os.cpu_count()} CPUs"
        )
        + f", ResNet50 {args.size}x{args.size}, batch {args.batch}, {args.steps} steps/epoch, "
        f"precision {args.precision}, jit {args.jit}, repeats {args.repeats}; ratio = strided ms / other ms"
    )
    env = dict(os.environ, KERAS_BACKEND="torch")
    results = {name: [] for name in contenders}
    params = {}
    for _ in range(args.repeats):
        for name, cmd in contenders.items():
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
            if line is None:
                print(f"[failed] {name}: {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
                continue
            print(line)
            results[name].append(float(re.search(r"ms_per_step=([\d.]+)", line).group(1)))
            params[name] = int(re.search(r"params=(\d+)", line).group(1))
    if len(set(params.values())) > 1:
        print(f"WARNING parameter counts differ: {params}")
    med = {k: statistics.median(v) for k, v in results.items() if v}
    for name, value in med.items():
        print(f"{name:14s} {value:9.2f} ms/step (median of {len(results[name])})")
    if "strided" in med:
        for other in med:
            if other != "strided":
                print(f"RATIO strided/{other} = {med['strided'] / med[other]:.3f}")


if __name__ == "__main__":
    main()
