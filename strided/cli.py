"""The ``strided`` command: train, evaluate, predict and summarize from a shell.

    strided train --model seed-convnet --dataset mnist --epochs 2 --out runs/demo
    strided evaluate runs/demo
    strided predict runs/demo digit.png
    strided export runs/demo --format onnx
    strided summary resnet50

It uses only the public API, as a user script would.
"""

import argparse
import csv
import json
import os
import sys
import time

import numpy as np
from strided import applications, layers, models
from strided import datasets
from strided.utils import image_dataset_from_directory
import strided
from strided import config, distribution
from strided import visualize
from strided.utils import img_to_array, load_img
from strided.preprocessing.image import ImageDataGenerator

MODELS = (
    "seed-convnet",
    "mnist-mlp",
    "lenet5",
    "alexnet",
    "vgg16",
    "resnet50",
    "mobilenet",
    "mobilenet_v2",
    "densenet121",
    "inception_v3",
    "efficientnet_b0",
)
DATASETS = ("mnist", "fashion_mnist", "cifar10", "malaria")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


class CliError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def build_model(name, input_shape, num_classes):
    """A model by CLI name for inputs of ``input_shape`` (one sample) and ``num_classes`` outputs."""
    if name == "seed-convnet":
        # Chollet's listing 5.1-5.2 (seed 004): 93,322 parameters on MNIST.
        return models.Sequential(
            [
                layers.Input(shape=input_shape),
                layers.Conv2D(32, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation="relu"),
                layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation="relu"),
                layers.Flatten(),
                layers.Dense(64, activation="relu"),
                layers.Dense(num_classes, activation="softmax"),
            ],
            name="seed_convnet",
        )
    if name == "mnist-mlp":
        return models.Sequential(
            [
                layers.Input(shape=input_shape),
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
                layers.Dense(num_classes, activation="softmax"),
            ],
            name="mnist_mlp",
        )
    builders = {
        "lenet5": "LeNet5",
        "alexnet": "AlexNet",
        "vgg16": "VGG16",
        "resnet50": "ResNet50",
        "mobilenet": "MobileNet",
        "mobilenet_v2": "MobileNetV2",
        "densenet121": "DenseNet121",
        "inception_v3": "InceptionV3",
        "efficientnet_b0": "EfficientNetB0",
    }
    builder = getattr(applications, builders[name])
    return builder(weights=None, input_shape=tuple(input_shape), classes=num_classes)


def load_dataset(name, limit=None):
    """(x_train, y_train), (x_test, y_test), class names; images float32 in [0, 1], NHWC."""
    if os.path.isdir(name):
        return _load_directory(name, limit)
    if name not in DATASETS:
        raise CliError(f"invalid --dataset {name!r}: choose one of {', '.join(DATASETS)} or an image directory")
    module = getattr(datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except (OSError, ValueError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[: max(limit // 6, 1)], y_test[: max(limit // 6, 1)]
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    x_train = x_train.astype("float32") / 255.0 if x_train.dtype == np.uint8 else x_train.astype("float32")
    x_test = x_test.astype("float32") / 255.0 if x_test.dtype == np.uint8 else x_test.astype("float32")
    y_train, y_test = np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)
    classes = [str(i) for i in range(int(max(y_train.max(), y_test.max())) + 1)]
    return (x_train, y_train), (x_test, y_test), classes


def _load_directory(path, limit=None, image_size=(64, 64)):
    """An image folder with one sub-folder per class, split 80/20 with Keras's rule."""
    try:
        train, test = image_dataset_from_directory(
            path, validation_split=0.2, subset="both", seed=0, image_size=image_size, batch_size=256
        )
    except ValueError as exc:
        raise CliError(str(exc).splitlines()[0]) from None

    def arrays(ds):
        xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in ds])
        return np.concatenate(xs) / 255.0, np.concatenate(ys)

    (x_train, y_train), (x_test, y_test) = arrays(train), arrays(test)
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    return (x_train.astype("float32"), y_train), (x_test.astype("float32"), y_test), list(train.class_names)


def _write_csv(path, history):
    keys = list(history)
    with open(path + ".tmp", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch"] + keys)
        for epoch in range(len(history[keys[0]]) if keys else 0):
            writer.writerow([epoch] + [history[k][epoch] for k in keys])
    os.replace(path + ".tmp", path)


def _relaunch_distributed(nproc, argv):
    """``strided train --nproc N`` = ``torchrun --standalone --nproc_per_node N -m strided train ...``."""
    import subprocess

    rest, skip = [], False
    for i, item in enumerate(argv):
        if skip:
            skip = False
            continue
        if item == "--nproc":
            skip = True
            continue
        if item.startswith("--nproc="):
            continue
        rest.append(item)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "strided",
    ] + rest
    return subprocess.call(cmd)


def cmd_train(args):
    try:
        config.set_device(args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.precision != "float32":
        config.set_dtype_policy(args.precision)
    strided.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test), classes = load_dataset(args.dataset, args.limit)
    model = build_model(args.model, x_train.shape[1:], len(classes))
    model.compile(
        optimizer=args.optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=bool(args.jit),
    )
    chief = not distribution.is_distributed() or distribution.is_chief()
    if chief:
        model.summary()
    fit_x = x_train
    if args.augment:
        generator = ImageDataGenerator(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1)
        fit_x = generator.flow(x_train, y_train, batch_size=args.batch_size, seed=args.seed)
        history = model.fit(
            fit_x,
            epochs=args.epochs,
            steps_per_epoch=len(x_train) // args.batch_size,
            validation_data=(x_test, y_test),
            verbose=args.verbose,
        )
    else:
        history = model.fit(
            x_train,
            y_train,
            batch_size=args.batch_size,
            epochs=args.epochs,
            validation_split=args.validation_split,
            verbose=args.verbose,
        )
    start = time.perf_counter()
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    eval_s = time.perf_counter() - start
    # predict, like fit and evaluate, is collective under torchrun: every rank takes part.
    y_pred = model.predict(x_test, batch_size=256, verbose=0).argmax(-1)
    if not chief:
        return 0  # rank 0 reports and writes the run directory
    print(f"Test accuracy: {test_acc:.4f} - test loss: {test_loss:.4f}")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    _write_csv(os.path.join(args.out, "history.csv"), history.history)
    figures = _write_figures(args.out, history, y_test, y_pred, classes)
    meta = {
        "model": args.model,
        "dataset": args.dataset,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "test_accuracy": float(test_acc),
        "test_loss": float(test_loss),
        "classes": classes,
        "input_shape": list(x_train.shape[1:]),
    }
    with open(os.path.join(args.out, "run.json.tmp"), "w") as f:
        json.dump(meta, f, indent=2)
    os.replace(os.path.join(args.out, "run.json.tmp"), os.path.join(args.out, "run.json"))
    _write_report(args, meta, history.history, figures, eval_s)
    return 0


def _write_figures(out, history, y_true, y_pred, classes):
    indices = list(range(len(classes)))
    matrix = visualize.confusion_matrix(y_true, y_pred, labels=indices)
    path = os.path.join(out, "confusion.csv")
    with open(path + ".tmp", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["true \\ predicted"] + list(classes))
        for name, row in zip(classes, matrix):
            writer.writerow([name] + [int(v) for v in row])
    os.replace(path + ".tmp", path)
    try:
        visualize.plot_history(history, save_path=os.path.join(out, "curves.png"))
        visualize.plot_confusion_matrix(
            y_true, y_pred, labels=indices, display_labels=classes, save_path=os.path.join(out, "confusion.png")
        )
        return ["curves.png", "confusion.png"]
    except ImportError as exc:  # matplotlib is an optional extra
        print(f"(figures skipped: {exc})")
        return []


def _write_report(args, meta, history, figures, eval_s):
    lines = [
        f"# strided run: {args.model} on {args.dataset}",
        "",
        f"- epochs: {args.epochs}, batch size: {args.batch_size}",
        f"- test accuracy: {meta['test_accuracy']:.4f}, test loss: {meta['test_loss']:.4f}",
        f"- evaluation time: {eval_s:.2f} s",
        "",
        "| epoch | " + " | ".join(history) + " |",
        "|---" * (len(history) + 1) + "|",
    ]
    for epoch in range(len(next(iter(history.values()), []))):
        lines.append(f"| {epoch + 1} | " + " | ".join(f"{history[k][epoch]:.4f}" for k in history) + " |")
    lines += [""] + [f"![{name}]({name})" for name in figures]
    path = os.path.join(args.out, "report.md")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def _load_run(run_dir):
    path = os.path.join(run_dir, "model.keras")
    meta_path = os.path.join(run_dir, "run.json")
    if not os.path.isfile(path) or not os.path.isfile(meta_path):
        raise CliError(f"{run_dir} is not a run directory (expected model.keras and run.json from `strided train`)")
    with open(meta_path) as f:
        meta = json.load(f)
    return models.load_model(path), meta


def cmd_evaluate(args):
    model, meta = _load_run(args.run_dir)
    (_, _), (x_test, y_test), _ = load_dataset(meta["dataset"])
    loss, acc = model.evaluate(x_test, y_test, batch_size=256, verbose=args.verbose)
    print(f"Test accuracy: {acc:.4f} - test loss: {loss:.4f}")
    return 0


def cmd_predict(args):
    model, meta = _load_run(args.run_dir)
    h, w, c = meta["input_shape"]
    for path in args.images:
        if not os.path.isfile(path):
            raise CliError(f"image file not found: {path}")
        img = load_img(path, color_mode="grayscale" if c == 1 else "rgb", target_size=(h, w))
        x = img_to_array(img)[None] / 255.0
        probs = model.predict(x, verbose=0)[0]
        best = int(np.argmax(probs))
        print(f"{path}: {meta['classes'][best]} ({probs[best]:.3f})")
    return 0


def cmd_export(args):
    model, _ = _load_run(args.run_dir)
    default = {"onnx": "model.onnx", "torch": "model.pt2"}[args.format]
    path = args.out or os.path.join(args.run_dir, default)
    try:
        model.export(path, format=args.format, verbose=False)
    except (ImportError, ValueError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    print(f"Saved {args.format} artifact at '{path}' (any batch size; inputs {tuple(model.inputs[0].shape)}).")
    return 0


def cmd_summary(args):
    shapes = {"seed-convnet": (28, 28, 1), "mnist-mlp": (28, 28, 1), "lenet5": (32, 32, 1)}
    if args.model not in MODELS:
        if os.path.isfile(args.model):
            models.load_model(args.model).summary()
            return 0
        raise CliError(f"invalid model {args.model!r}: choose one of {', '.join(MODELS)} or a saved .keras file")
    build_model(args.model, shapes.get(args.model, (224, 224, 3)), 10 if args.model in shapes else 1000).summary()
    return 0


def make_parser():
    parser = argparse.ArgumentParser(prog="strided", description="Keras-style CNNs on PyTorch.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model and write a run directory")
    train.add_argument("--model", default="seed-convnet", choices=MODELS)
    train.add_argument("--dataset", default="mnist")
    train.add_argument("--epochs", type=int, default=2)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--optimizer", default="rmsprop")
    train.add_argument("--device", default="auto")
    train.add_argument("--out", default="runs/latest")
    train.add_argument("--augment", action="store_true")
    train.add_argument("--jit", action="store_true")
    train.add_argument("--precision", default="float32", choices=PRECISIONS)
    train.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    train.add_argument("--validation-split", type=float, default=0.0)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    train.add_argument(
        "--nproc", type=int, default=1, help="data-parallel processes on this machine (launched through torchrun)"
    )
    evaluate = sub.add_parser("evaluate", help="evaluate a run directory on its test set")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    predict = sub.add_parser("predict", help="classify image files with a trained run")
    predict.add_argument("run_dir")
    predict.add_argument("images", nargs="+")
    export = sub.add_parser("export", help="write a trained run as an ONNX or torch.export artifact")
    export.add_argument("run_dir")
    export.add_argument("--format", default="onnx", choices=("onnx", "torch"))
    export.add_argument("--out", default=None, help="file to write (default: RUN_DIR/model.onnx or model.pt2)")
    summary = sub.add_parser("summary", help="print a model summary")
    summary.add_argument("model")
    return parser


def main(argv=None):
    parser = make_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command == "train" and args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return _relaunch_distributed(args.nproc, argv)
    commands = {
        "train": cmd_train,
        "evaluate": cmd_evaluate,
        "predict": cmd_predict,
        "export": cmd_export,
        "summary": cmd_summary,
    }
    try:
        if args.command == "train" and (args.epochs < 1 or args.batch_size < 1):
            raise CliError(f"--epochs and --batch-size must be positive (got {args.epochs}, {args.batch_size})")
        return commands[args.command](args)
    except CliError as exc:
        print(f"strided {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
