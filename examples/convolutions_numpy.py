"""Seeds 000 and 003: convolutions by hand, then the same numbers from strided layers.

Walks the lecture path: 1D convolution loops, a 2D loop on an MNIST digit, the toy 3x3 image with
VALID/SAME padding and three filters (seed 003), max pooling by hand, padding/strides/dilation and
the output-size formula O = ((I - K + 2P)/S) + 1, and the parameter counts of seed 000's summaries
(7,993 / 24,533 / 36,023), each checked against the number printed in the seed.

    python examples/convolutions_numpy.py [--quick] [--out runs/examples/convolutions_numpy]
"""

import _common

import numpy as np


def conv1d_loop(array, kernel):
    """Seed 000: conv[ii] = (kernel * array[ii:ii+2]).sum() for every window position."""
    conv = np.zeros(len(array) - len(kernel) + 1, dtype=array.dtype)
    for ii in range(len(conv)):
        conv[ii] = (kernel * array[ii : ii + len(kernel)]).sum()
    return conv


def conv2d_loop(image, kernel):
    """Seed 000/001: slide the kernel over every valid window and sum the products."""
    kh, kw = kernel.shape
    conv = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for ii in range(conv.shape[0]):
        for jj in range(conv.shape[1]):
            window = image[ii : ii + kh, jj : jj + kw]
            conv[ii, jj] = np.sum(window * kernel)
    return conv


def max_pool_loop(im):
    """Seed 000: result[ii, jj] = np.max(im[ii*2:ii*2+2, jj*2:jj*2+2])."""
    result = np.zeros((im.shape[0] // 2, im.shape[1] // 2))
    for ii in range(result.shape[0]):
        for jj in range(result.shape[1]):
            result[ii, jj] = np.max(im[ii * 2 : ii * 2 + 2, jj * 2 : jj * 2 + 2])
    return result


def main(argv=None):
    args = _common.parse_args("convolutions_numpy", __doc__.splitlines()[0], argv)
    import matplotlib.pyplot as plt

    import strided as keras
    from strided import visualize
    from strided.layers import Conv2D, Dense, Flatten, MaxPool2D
    from strided.models import Sequential

    check = _common.Checks()

    # -- 1D convolution (seed 000) --------------------------------------------------------------
    kernel = np.array([-1, 1])
    step = conv1d_loop(np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), kernel)
    check.equal("1D loop, edge detector on a step", step, [0, 0, 0, 0, 1, 0, 0, 0, 0])
    array = np.array([0, 0, 1, 1, 0, 0, 1, 1, 0, 0])
    check.equal("1D loop, two bumps", conv1d_loop(array, kernel), [0, 1, 0, -1, 0, 1, 0, -1, 0])
    layer_1d = keras.layers.Conv1D(1, 2, use_bias=False)
    layer_1d.build((None, 10, 1))
    layer_1d.set_weights([kernel.reshape(2, 1, 1)])
    check.equal(
        "Conv1D layer with the same kernel",
        np.asarray(layer_1d(array.reshape(1, 10, 1)))[0, :, 0],
        [0, 1, 0, -1, 0, 1, 0, -1, 0],
    )

    # -- 2D convolution of a digit (seed 000): loop == Conv2D ----------------------------------
    (x_train, _), _ = _common.load_mnist()
    image = x_train[0] / 255.0
    kernel2d = np.array([[-1, 1], [-1, 1]])
    conv = conv2d_loop(image, kernel2d)
    check.equal("2D loop output shape", conv.shape, (27, 27))
    layer = Conv2D(1, kernel_size=2, use_bias=False)
    layer(image.reshape(1, 28, 28, 1))  # the first call builds the kernel, as in seed 001
    layer.set_weights([kernel2d.reshape(2, 2, 1, 1)])
    out = np.asarray(layer(image.reshape(1, 28, 28, 1)))[0, :, :, 0]
    check.close("Conv2D with set_weights == 2D loop", out, conv)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    for ax, img, title in zip(axes, (image, conv, out), ("digit", "loop convolution", "Conv2D layer")):
        ax.imshow(img, cmap="gray")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    _common.save(fig, args.out, "conv2d_loop_vs_layer.png")

    # -- seed 003: the 3x3 toy image, VALID and SAME padding, three filters ---------------------
    toy = np.array([[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]], dtype=np.float32)
    weight = np.array([[[[1.0]], [[1.0]]], [[[1.0]], [[1.0]]]])
    weight_init = keras.initializers.Constant(weight)
    valid = keras.layers.Conv2D(filters=1, kernel_size=2, padding="VALID", kernel_initializer=weight_init)(toy)
    check.equal("seed 003 VALID output", valid.numpy().reshape(2, 2), [[12, 16], [24, 28]])
    same = keras.layers.Conv2D(filters=1, kernel_size=2, padding="SAME", kernel_initializer=weight_init)(toy)
    check.equal(
        "seed 003 SAME output (the extra zero row/column goes after)",
        same.numpy().reshape(3, 3),
        [[12, 16, 9], [24, 28, 15], [15, 17, 9]],
    )
    weight3 = np.array([[[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]], [[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]]])
    conv3 = keras.layers.Conv2D(
        filters=3, kernel_size=2, padding="SAME", kernel_initializer=keras.initializers.Constant(weight3)
    )(toy)
    feature_maps = np.swapaxes(conv3, 0, 3)
    check.equal(
        "seed 003 three filters: map 2 = 10 x map 1",
        feature_maps[1].reshape(3, 3),
        [[120, 160, 90], [240, 280, 150], [150, 170, 90]],
    )
    check.equal(
        "seed 003 three filters: map 3 = -map 1",
        feature_maps[2].reshape(3, 3),
        [[-12, -16, -9], [-24, -28, -15], [-15, -17, -9]],
    )

    # -- seed 002's smiley: which filter turns on where, then 2x2 max pooling -------------------
    smiley = np.array([[0, 1, 0, 1, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 1], [0, 1, 1, 1, 0]])
    horizontal = np.array([[0, 0, 0], [0, 0, 0], [1, 1, 1]])
    z = keras.nn.conv2d(
        smiley.reshape(1, 5, 5, 1).astype("float32"),
        horizontal.reshape(3, 3, 1, 1).astype("float32"),
        strides=1,
        padding="SAME",
    )
    z = np.asarray(z)[0, :, :, 0]
    check.equal(
        "smiley * bottom-row filter (SAME)",
        z,
        [[1, 1, 2, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1], [1, 2, 3, 2, 1], [0, 0, 0, 0, 0]],
    )
    pooled = np.asarray(keras.layers.MaxPooling2D(2)(z.reshape(1, 5, 5, 1)))[0, :, :, 0]
    check.equal("2x2 max pooling of it (VALID drops the last row/column)", pooled, [[1, 2], [2, 3]])

    # -- max pooling by hand == MaxPool2D (seed 000) -------------------------------------------
    by_hand = max_pool_loop(image)
    by_layer = np.asarray(MaxPool2D(2)(image.reshape(1, 28, 28, 1)))[0, :, :, 0]
    check.close("MaxPool2D == max-pooling loop", by_layer, by_hand)

    # -- output sizes: padding, strides, dilation ----------------------------------------------
    print("Output size O = ((I - K + 2P)/S) + 1, seed 000's two rows:")
    rows = visualize.output_size_table(28, 3, 1, [1, 3])
    check.equal("formula rows", [r["output"] for r in rows], [28, 10])
    shapes = {}
    for name, kwargs in {
        "valid": dict(padding="valid"),
        "same": dict(padding="same"),
        "strides=2": dict(strides=2),
        "same, strides=3": dict(padding="same", strides=3),
        "dilation_rate=2": dict(dilation_rate=2),
    }.items():
        model = Sequential([Conv2D(10, kernel_size=3, activation="relu", input_shape=(28, 28, 1), **kwargs)])
        shapes[name] = model.output_shape[1]
    check.equal(
        "Conv2D output sizes valid/same/strides 2/same strides 3/dilation 2",
        list(shapes.values()),
        [26, 28, 13, 10, 24],
    )

    # -- parameter counts (seed 000's summaries) -----------------------------------------------
    dense = Sequential(
        [Dense(10, activation="relu", input_shape=(784,)), Dense(10, activation="relu"), Dense(3, activation="softmax")]
    )
    dense.summary()
    check.expect("dense network params", f"{dense.count_params():,}", dense.count_params() == 7993, "7,993")
    cnn = Sequential(
        [
            Conv2D(10, kernel_size=3, activation="relu", input_shape=(28, 28, 1), padding="same"),
            Conv2D(10, kernel_size=3, activation="relu", padding="same"),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    cnn.summary()
    check.expect("CNN params", f"{cnn.count_params():,}", cnn.count_params() == 24533, "24,533")
    wider = Sequential(
        [
            Conv2D(5, kernel_size=3, activation="relu", input_shape=(28, 28, 1), padding="same"),
            Conv2D(15, kernel_size=3, activation="relu", padding="same"),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    check.expect("wider CNN params", f"{wider.count_params():,}", wider.count_params() == 36023, "36,023")
    pooled_cnn = Sequential(
        [
            Conv2D(5, kernel_size=3, activation="relu", input_shape=(28, 28, 1)),
            MaxPool2D(2),
            Conv2D(15, kernel_size=3, activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    pooled_cnn.summary()
    check.expect(
        "pooling CNN params (50 + 690 + 1128)",
        f"{pooled_cnn.count_params():,}",
        pooled_cnn.count_params() == 1868,
        "50 + 690 + 1128",
    )
    print("Receptive fields of the pooling CNN:")
    fields = visualize.receptive_field(pooled_cnn, print_fn=print)
    check.equal("receptive field of its second conv", fields[2].size, (8, 8))
    check.write(args.out)
    return check


if __name__ == "__main__":
    main()
