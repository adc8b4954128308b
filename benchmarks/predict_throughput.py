"""Inference throughput (images/s) of the seed-004 convnet: strided's `predict` vs hand-written PyTorch vs Keras[torch].

One process, one network (the 93,322-parameter model of benchmarks/seed_convnet.py), the 10,000
MNIST test images as a float32 NHWC NumPy array. Contenders, timed in the same invocation:

- strided: `model.predict(x, batch_size=B, verbose=0)`.
- torch: the network of ../shared/bench/seed_convnet_torch.py (plus a softmax, as the Keras model
  ends in one) with the weights copied from the strided model, a careful loop under
  `torch.inference_mode`, channels_last unless `--torch-nchw`, batches sliced from one device tensor.
- keras[torch]: real Keras 3 `predict` (KERAS_BACKEND=torch), weights copied with
  get_weights/set_weights, when keras is importable (skip with `--no-keras`).

Every contender gets the same NumPy array and returns a NumPy array, so each timed pass includes
the one NumPy->device transfer of the whole input and the device->NumPy transfer of the outputs
(strided and Keras do both inside `predict`; the torch loop does them explicitly). Outputs are
checked equal to 1e-4 before timing. Each contender gets one untimed warm-up pass, then `--repeats`
timed passes alternating between contenders (CUDA synchronized before each clock read); the median
is reported. RATIO strided/<other> is strided's throughput divided by the other's: above 1 means
strided is faster.

    python benchmarks/predict_throughput.py --device cpu --repeats 3
    python benchmarks/predict_throughput.py --device cuda --repeats 10 --batch-sizes 256,1024
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.environ.get("STRIDED_SHARED_BENCH", os.path.join(ROOT, "..", "shared", "bench"))


def load_test_images():
    sys.path.insert(0, SHARED_BENCH)
    from mnist_np import load

    _, (xte, _) = load()
    return xte.reshape(-1, 28, 28, 1).astype("float32") / 255


def build_strided(device):
    """Exactly the seed-004 model of benchmarks/seed_convnet.py."""
    import strided as keras
    from strided import layers, models

    keras.config.set_device(device)
    keras.utils.set_random_seed(0)
    return models.Sequential(
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


def build_torch(weights, device, channels_last):
    """The network of seed_convnet_torch.py (NCHW flatten) carrying the Keras-layout `weights`."""
    import numpy as np
    import torch
    import torch.nn as nn

    net = nn.Sequential(
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
        nn.Softmax(dim=1),
    )
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    dense = [m for m in net if isinstance(m, nn.Linear)]
    w = list(weights)
    with torch.no_grad():
        for conv in convs:
            k, b = w.pop(0), w.pop(0)
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1))))
            conv.bias.copy_(torch.from_numpy(b))
        # Keras flattens (h, w, c), torch (c, h, w): reorder the rows of the first Dense kernel.
        k, b = w.pop(0), w.pop(0)
        k = k.reshape(3, 3, 64, 64).transpose(2, 0, 1, 3).reshape(576, 64)
        dense[0].weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
        dense[0].bias.copy_(torch.from_numpy(b))
        k, b = w.pop(0), w.pop(0)
        dense[1].weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
        dense[1].bias.copy_(torch.from_numpy(b))
    net = net.to(device).eval()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    return net


def torch_predict_fn(net, device, batch_size, channels_last):
    import torch

    def predict(x_np):
        with torch.inference_mode():
            x = torch.from_numpy(x_np).to(device, non_blocking=True)
            # NHWC -> NCHW-logical view; that view is already channels_last in memory.
            x = x.permute(0, 3, 1, 2)
            if not channels_last:
                x = x.contiguous()
            outs = [net(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
            return torch.cat(outs).cpu().numpy()

    return predict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", default="256,1024", help="comma-separated, e.g. 256,1024")
    parser.add_argument("--torch-nchw", action="store_true", help="torch baseline in NCHW instead of channels_last")
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()
    import numpy as np
    import torch

    device = args.device
    cuda = device.startswith("cuda")
    channels_last = not args.torch_nchw
    sizes = [int(s) for s in args.batch_sizes.split(",") if s]

    def sync():
        if cuda:
            torch.cuda.synchronize()

    x = load_test_images()
    n = x.shape[0]
    model = build_strided(device)
    weights = model.get_weights()
    print(
        f"torch {torch.__version__}, device {device}"
        + (
            f" ({torch.cuda.get_device_name()})"
            if cuda
            else f", threads {torch.get_num_threads()}, {os.cpu_count()} CPUs"
        )
        + f", params {model.count_params():,}, images {n}, repeats {args.repeats}, "
        f"torch layout {'channels_last' if channels_last else 'NCHW'}; ratio = strided images/s / other images/s"
    )
    net = build_torch(weights, device, channels_last)

    keras_model = None
    if not args.no_keras:
        os.environ["KERAS_BACKEND"] = "torch"
        os.environ.setdefault("KERAS_TORCH_DEVICE", "cuda" if cuda else "cpu")
        try:
            import keras
        except ImportError:
            keras = None
        if keras is not None and keras.backend.backend() == "torch":
            from keras import layers as kl

            keras_model = keras.Sequential(
                [
                    kl.Input((28, 28, 1)),
                    kl.Conv2D(32, (3, 3), activation="relu"),
                    kl.MaxPooling2D((2, 2)),
                    kl.Conv2D(64, (3, 3), activation="relu"),
                    kl.MaxPooling2D((2, 2)),
                    kl.Conv2D(64, (3, 3), activation="relu"),
                    kl.Flatten(),
                    kl.Dense(64, activation="relu"),
                    kl.Dense(10, activation="softmax"),
                ]
            )
            keras_model.set_weights(weights)
        elif keras is not None:
            print(f"[skipped keras] backend is {keras.backend.backend()!r}, not 'torch'")

    for bs in sizes:
        contenders = {
            "strided": lambda bs=bs: model.predict(x, batch_size=bs, verbose=0),
            "torch": lambda f=torch_predict_fn(net, device, bs, channels_last): f(x),
        }
        if keras_model is not None:
            contenders["keras[torch]"] = lambda bs=bs: keras_model.predict(x, batch_size=bs, verbose=0)
        # Warm-up (excluded) doubles as the correctness check against the strided output.
        reference = None
        for name, fn in contenders.items():
            out = np.asarray(fn())
            sync()
            if reference is None:
                reference = out
            else:
                err = float(np.abs(out - reference).max())
                if err > 1e-4:
                    raise SystemExit(f"{name} output differs from strided's by {err:.2e} (> 1e-4) at batch {bs}")
                print(f"check batch={bs} {name}: max |out - strided| = {err:.1e}")
        times = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, fn in contenders.items():
                sync()
                start = time.perf_counter()
                fn()
                sync()
                times[name].append(time.perf_counter() - start)
        rate = {}
        for name, ts in times.items():
            rate[name] = n / statistics.median(ts)
            print(
                f"RESULT {name}-{device} predict batch={bs} images_per_s={rate[name]:.0f} "
                f"median_s={statistics.median(ts):.4f} min_s={min(ts):.4f} runs={len(ts)}"
            )
        for other in rate:
            if other != "strided":
                print(f"RATIO strided/{other} = {rate['strided'] / rate[other]:.3f}  (batch {bs}, throughput ratio)")


if __name__ == "__main__":
    main()
