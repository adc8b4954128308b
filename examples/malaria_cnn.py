"""Seed 002: the malaria cell classifier, then looking inside it.

The seed's model (Conv2D 32 same, MaxPooling2D, Conv2D 64, MaxPooling2D, Flatten, Dropout 0.5,
Dense 1 sigmoid: 56,257 parameters), trained with EarlyStopping(monitor='val_loss', patience=5) on
2,500 cell images (2,000 train / 500 test, 100x100), then: the training curves, the confusion matrix
as the seed's DataFrame, the first layer's kernels W[:, :, c, 0], the 8x4 grid of feature maps from
``Model(inputs=model.inputs, outputs=model.layers[0].output)``, and a Grad-CAM map.

Data: ``strided.datasets.malaria.load_data`` reads NIH's cell_images.zip from a local copy
(``$STRIDED_DATA_DIR/malaria/``, ``~/.keras/datasets/malaria/`` or ``data/malaria/``). Get it from
https://lhncbc.nlm.nih.gov/LHC-research/LHC-projects/image-processing/malaria-datasheet.html
(direct: https://data.lhncbc.nlm.nih.gov/public/Malaria/cell_images.zip, 337 MB). Without it, or
with ``--quick`` or ``--synthetic``, a SYNTHETIC stand-in is generated: pink discs ("cells"), the
parasitized ones with a few dark purple dots. Every figure title says which data was used.

    python examples/malaria_cnn.py [--quick] [--synthetic] [--out runs/examples/malaria_cnn]
"""

import _common

import numpy as np

CLASS_NAMES = ("parasitized", "uninfected")  # TFDS's labels: 0 = parasitized, 1 = uninfected


def synthetic_cells(n, size=100, seed=0):
    """A stand-in for the malaria images: float32 (n, size, size, 3) in [0, 1], labels 0/1.

    Each image is a pale background with one pink disc; label 0 ("parasitized") discs carry 1-3
    dark purple dots, label 1 ("uninfected") discs carry none. Noise and disc size vary.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    x = np.empty((n, size, size, 3), dtype=np.float32)
    y = (np.arange(n) % 2).astype(np.int64)
    rng.shuffle(y)
    background = np.array([0.92, 0.88, 0.90], dtype=np.float32)
    for i in range(n):
        cy, cx = rng.uniform(0.4, 0.6, 2) * size
        radius = rng.uniform(0.30, 0.42) * size
        cell = ((yy - cy) ** 2 + (xx - cx) ** 2) <= radius**2
        tint = np.array([0.85, 0.55, 0.62], dtype=np.float32) + rng.normal(0, 0.03, 3).astype(np.float32)
        img = np.where(cell[..., None], tint, background)
        if y[i] == 0:
            for _ in range(rng.integers(1, 4)):
                angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.7) * radius
                py, px = cy + dist * np.sin(angle), cx + dist * np.cos(angle)
                dot = ((yy - py) ** 2 + (xx - px) ** 2) <= rng.uniform(2.5, 5.0) ** 2
                img = np.where(dot[..., None], np.array([0.45, 0.15, 0.45], dtype=np.float32), img)
        img = img + rng.normal(0, 0.03, img.shape).astype(np.float32)
        x[i] = np.clip(img, 0, 1)
    return x, y


def load(args):
    """(x, y, description): the real images when present (and not --quick/--synthetic), else synthetic."""
    import strided

    n = 300 if args.quick else 2500
    if not (args.quick or args.synthetic):
        try:
            x, y = strided.datasets.malaria.load_data(image_size=(100, 100), limit=n)
            return x, y, "NIH malaria cells"
        except FileNotFoundError as exc:
            print(f"!! {exc}\n!! Using a SYNTHETIC stand-in data set instead (labelled so in every figure).")
    x, y = synthetic_cells(n, seed=args.seed)
    return x, y, "SYNTHETIC stand-in cells"


def train_test_split(x, y, test_size=0.20, seed=42):
    idx = np.random.RandomState(seed).permutation(len(x))
    n_test = int(round(len(x) * test_size))
    return x[idx[n_test:]], x[idx[:n_test]], y[idx[n_test:]], y[idx[:n_test]]


def main(argv=None):
    def extra(parser):
        parser.add_argument(
            "--synthetic", action="store_true", help="use the synthetic stand-in even if the real data is present"
        )

    args = _common.parse_args("malaria_cnn", __doc__.splitlines()[0], argv, extra)
    import matplotlib.pyplot as plt

    from strided import Model, visualize
    from strided.callbacks import EarlyStopping
    from strided.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from strided.models import Sequential

    check = _common.Checks()
    X, y, source = load(args)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.20, seed=42)
    print(f"data: {source}; X_train {X_train.shape}, X_test {X_test.shape}")
    if not args.quick:
        check.equal("train / test shapes", [X_train.shape, X_test.shape], [(2000, 100, 100, 3), (500, 100, 100, 3)])

    model = Sequential()
    model.add(
        Conv2D(filters=32, input_shape=(X_train.shape[1:]), kernel_size=(3, 3), padding="same", activation="relu")
    )
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary()
    check.expect("model parameters", f"{model.count_params():,}", model.count_params() == 56257, "56,257")

    callbacks = [EarlyStopping(monitor="val_loss", patience=5)]
    history = model.fit(
        X_train,
        y_train,
        batch_size=100,
        epochs=1 if args.quick else 50,
        validation_split=0.1,
        callbacks=callbacks,
        verbose=2,
    )
    epochs_run = len(history.history["loss"])
    check.expect(
        "history has loss/accuracy and their val_ twins",
        sorted(history.history),
        {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history),
    )
    if not args.quick:
        best = int(np.argmin(history.history["val_loss"]))
        check.expect(
            "EarlyStopping: stopped 5 epochs after the best val_loss, or ran all 50",
            f"{epochs_run} epochs, best at epoch {best + 1}",
            epochs_run == 50 or epochs_run == best + 6,
        )
    visualize.plot_history(history, title=f"training curves ({source})", save_path=args.out / "history.png")

    y_pred = (model.predict(X_test, verbose=0) > 0.5).astype(int).reshape(y_test.shape)
    accuracy = float(np.mean(y_pred == y_test))
    print(f"test accuracy: {accuracy:.3f}")
    frame = visualize.confusion_matrix_frame(
        y_test, y_pred, index=["true:parasitized", "true:uninfected"], columns=["pred:parasitized", "pred:uninfected"]
    )
    print(frame)
    check.expect("confusion matrix adds up to the test set", int(frame.values.sum()), frame.values.sum() == len(y_test))
    check.close("its diagonal is the accuracy", np.trace(frame.values) / len(y_test), accuracy, atol=1e-9)
    if args.quick:
        pass  # one epoch on 240 images: only the pipeline is checked
    elif source.startswith("SYNTHETIC"):
        check.at_least("test accuracy on the synthetic stand-in", accuracy, 0.90)
    else:
        check.at_least("test accuracy on 2,500 real images", accuracy, 0.70, seed_value="0.766")
    visualize.plot_confusion_matrix(
        y_test,
        y_pred,
        display_labels=CLASS_NAMES,
        title=f"Confusion matrix ({source})",
        save_path=args.out / "confusion_matrix.png",
    )

    # -- visualizing filters (seed: W, b = model.get_layer('conv2d').get_weights()) ------------
    W, b = model.layers[0].get_weights()
    check.equal("first-layer kernel shape", W.shape, (3, 3, 3, 32))
    visualize.plot_filters(
        W, filters=1, title=f"W[:, :, c, 0], first filter of 32 ({source})", save_path=args.out / "first_filter.png"
    )
    visualize.plot_filters(
        W, filters=8, title=f"first 8 filters x 3 colour channels ({source})", save_path=args.out / "filters.png"
    )

    # -- visualizing feature maps ---------------------------------------------------------------
    cell = X_test[0, :, :, :].reshape(1, 100, 100, 3)
    model_1layer = Model(inputs=model.inputs, outputs=model.layers[0].output)
    feature_maps = model_1layer.predict(cell, verbose=0)
    check.equal("feature maps shape", feature_maps.shape, (1, 100, 100, 32))
    check.close("plot_feature_maps draws the same maps", visualize.feature_maps(model, 0, cell), feature_maps)
    fig = plt.figure(figsize=(3, 3))
    plt.imshow(cell[0])
    plt.title(f"X_test[0]: {CLASS_NAMES[y_test[0]]}", fontsize=9)
    plt.axis("off")
    _common.save(fig, args.out, "cell.png")
    visualize.plot_feature_maps(
        model, 0, cell, cols=8, title=f"conv2d feature maps, 8 x 4 ({source})", save_path=args.out / "feature_maps.png"
    )
    parasitized = np.flatnonzero(y_test == 0)
    if len(parasitized):
        visualize.plot_grad_cam(
            model,
            X_test[parasitized[0]],
            class_index=0,
            title=f"where the model looks ({source})",
            save_path=args.out / "grad_cam.png",
        )
    visualize.plot_images(
        X_test[:10],
        labels=y_test[:10],
        predictions=y_pred[:10],
        class_names=CLASS_NAMES,
        title=source,
        save_path=args.out / "predictions.png",
    )
    plt.close("all")
    check.write(args.out)
    return check


if __name__ == "__main__":
    main()
