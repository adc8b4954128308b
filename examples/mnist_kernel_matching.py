"""Seed 001: a kernel cut from a digit, convolution by loop and by Conv2D, then a small MNIST convnet.

The kernel is digit 0's patch at rows 20:25, cols 5:10. Its loop convolution equals a Conv2D whose
weights are set to it; 'same' padding keeps 28x28; max pooling halves it. Then the seed's network
(Reshape, Conv2D 32 same, MaxPooling2D, Conv2D 16 same, MaxPooling2D, Flatten, Dense 10 softmax;
SparseCategoricalCrossentropy, Adam, metrics ['acc'], 5 epochs) reaches the seed's 98.21% test
accuracy (checked: >= 98.2% in a full run).

    python examples/mnist_kernel_matching.py [--quick] [--out runs/examples/mnist_kernel_matching]
"""

import _common

import numpy as np


def conv2d(image, kernel):
    """The seed's loop: Y[i, j] = <X[i:i+w, j:j+h] . K>."""
    (w_i, h_i) = image.shape
    (w_k, h_k) = kernel.shape
    w, h = (w_i - w_k + 1), (h_i - h_k + 1)
    result = np.zeros((w, h))
    for i in range(w):
        for j in range(h):
            region = image[i : i + w_k, j : j + h_k]
            result[i, j] = np.sum(region * kernel)
    return result


def main(argv=None):
    args = _common.parse_args("mnist_kernel_matching", __doc__.splitlines()[0], argv)
    import matplotlib.patches as patches
    import matplotlib.pyplot as pl

    import strided as keras
    import strided.layers as layers
    import strided.losses as losses
    import strided.models as models
    import strided.optimizers as optimizers
    from strided import visualize

    check = _common.Checks()
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train / 255.0
    x_test = x_test / 255.0

    # -- the kernel is a piece of digit 0 -----------------------------------------------------
    x0 = x_train[0]
    (c0, c1), (r0, r1) = (5, 10), (20, 25)
    kernel = x0[r0:r1, c0:c1]
    fig, axes = pl.subplots(1, 3, figsize=(10, 3.4))
    axes[0].imshow(x0, cmap="gray")
    axes[0].add_patch(patches.Rectangle((c0, r0), c1 - c0, r1 - r0, facecolor="none", edgecolor="red", linewidth=3))
    axes[0].set_title("x_train[0] and the patch")
    axes[1].imshow(kernel, cmap="gray")
    axes[1].set_title("kernel = x0[20:25, 5:10]")
    result = conv2d(x0, kernel)
    axes[2].imshow(result)
    axes[2].set_title("loop convolution (24x24)")
    _common.save(fig, args.out, "kernel_and_response.png")
    check.equal("loop result shape", result.shape, (24, 24))
    # Where the patch was cut, the window is the kernel itself: the response is sum(kernel ** 2).
    # (Raw correlation is not normalized, so brighter windows elsewhere can respond even more.)
    check.close("response at (20, 5) = sum(kernel ** 2)", result[r0, c0], np.sum(kernel**2))

    fig = pl.figure(figsize=(15, 3.5))
    for i in range(1, 6):
        pl.subplot(1, 5, i)
        pl.imshow(conv2d(x_train[i], kernel))
        pl.title(f"x_train[{i}] (label {y_train[i]})")
        pl.axis("off")
    _common.save(fig, args.out, "kernel_on_five_digits.png")

    # -- the same with a Conv2D layer ----------------------------------------------------------
    conv2d_layer = layers.Conv2D(filters=1, kernel_size=kernel.shape)
    output = conv2d_layer(x0.reshape(1, 28, 28, 1))
    check.equal("Conv2D output shape", tuple(output.shape), (1, 24, 24, 1))
    (kernel_parameter, bias_parameter) = conv2d_layer.get_weights()
    shapes = (kernel_parameter.shape, bias_parameter.shape)
    check.expect("kernel / bias parameter shapes", shapes, shapes == ((5, 5, 1, 1), (1,)), "(5, 5, 1, 1) (1,)")
    conv2d_layer.set_weights([kernel.reshape(5, 5, 1, 1), np.array([0])])
    output = conv2d_layer(x0.reshape(1, 28, 28, 1))
    check.close("Conv2D with the kernel set == loop convolution", output.numpy().squeeze(), result, atol=1e-4)

    conv2d_padded = layers.Conv2D(filters=1, kernel_size=kernel.shape, padding="same")
    check.equal("'same' padding keeps 28x28", tuple(conv2d_padded(x0.reshape(1, 28, 28, 1)).shape), (1, 28, 28, 1))

    maxpooling = layers.MaxPooling2D(pool_size=(2, 2))
    output1 = conv2d_layer(x0.reshape(1, 28, 28, 1)).numpy()
    output2 = maxpooling(output1).numpy()
    check.equal("max pooling halves 24x24", output2.shape, (1, 12, 12, 1))
    check.close("pooled value = max of its 2x2 window", output2[0, 3, 4, 0], output1[0, 6:8, 8:10, 0].max())
    fig = pl.figure(figsize=(7, 3.4))
    pl.subplot(1, 2, 1)
    pl.imshow(output1.squeeze())
    pl.title("Conv2D output (24x24)")
    pl.subplot(1, 2, 2)
    pl.imshow(output2.squeeze())
    pl.title("after MaxPooling2D (12x12)")
    _common.save(fig, args.out, "conv_then_pool.png")

    # -- the network ---------------------------------------------------------------------------
    if args.quick:
        x_train, y_train = _common.subset(x_train, y_train, 3000, args.seed)
        x_test, y_test = _common.subset(x_test, y_test, 1000, args.seed)
    epochs = 1 if args.quick else 5
    model = models.Sequential(
        [
            layers.Input(shape=(28, 28)),
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(32, (3, 3), padding="same"),
            layers.MaxPooling2D((2, 2)),  # 14x14
            layers.Conv2D(16, (3, 3), padding="same"),
            layers.MaxPooling2D((2, 2)),  # 7x7
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss=losses.SparseCategoricalCrossentropy(), optimizer=optimizers.Adam(), metrics=["acc"])
    model.summary()
    history = model.fit(x_train, y_train, epochs=epochs, verbose=2)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test acc {acc:.4f}")
    if args.quick:
        check.at_least("quick-run test accuracy (3,000 images, 1 epoch)", acc, 0.75)
    else:
        check.at_least("test accuracy after 5 epochs", acc, 0.982, seed_value="0.9821")

    visualize.plot_history(history, save_path=args.out / "history.png")
    predictions = model.predict(x_test, verbose=0)
    cm = visualize.confusion_matrix(y_test, predictions)
    check.equal("confusion matrix counts every test image", cm.sum(), len(y_test))
    check.close("its diagonal is the accuracy", np.trace(cm) / cm.sum(), acc, atol=1e-6)
    visualize.plot_confusion_matrix(y_test, predictions, save_path=args.out / "confusion_matrix.png")
    visualize.plot_filters(
        model.layers[1], cols=8, title="first Conv2D: 32 learned 3x3 kernels", save_path=args.out / "filters.png"
    )
    visualize.plot_feature_maps(
        model,
        model.layers[1],
        x_test[0],
        cols=8,
        title=f"first Conv2D feature maps of a test '{y_test[0]}'",
        save_path=args.out / "feature_maps.png",
    )
    visualize.plot_images(
        x_test[:15], labels=y_test[:15], predictions=predictions[:15], save_path=args.out / "predictions.png"
    )
    pl.close("all")
    check.write(args.out)
    return check


if __name__ == "__main__":
    main()
