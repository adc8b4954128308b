"""Seed 002's architectures: LeNet-5 from the seed's own code and from strided.applications, AlexNet,
and ResNet50 with the pretrained-model prediction flow (preprocess_input, predict, decode_predictions).

The ImageNet weights are Keras's published file ``resnet50_weights_tf_dim_ordering_tf_kernels.h5``
(98 MB). strided reads it from ``~/.keras/models/`` (or ``$STRIDED_HOME/models``, ``$KERAS_HOME/models``);
without it the prediction part prints where to get it and is skipped. ``--image`` picks the photo
(the seed's dog; any JPEG/PNG), otherwise a generated test pattern is classified.

    python examples/lenet_alexnet_resnet.py [--quick] [--image dog.jpg] [--out runs/examples/lenet_alexnet_resnet]
"""

import _common

import numpy as np

RESNET50_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels.h5"


def seed_lenet():
    """The seed's LeNet-5 cell, verbatim apart from the import."""
    import strided as keras
    from strided.layers import AveragePooling2D, Conv2D, Dense, Flatten

    model = keras.Sequential()
    model.add(Conv2D(filters=6, kernel_size=(3, 3), activation="relu", input_shape=(32, 32, 1)))
    model.add(AveragePooling2D())
    model.add(Conv2D(16, kernel_size=(3, 3), activation="relu"))
    model.add(AveragePooling2D())
    model.add(Flatten())
    model.add(Dense(120, activation="relu"))
    model.add(Dense(84, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    return model


def weights_present():
    from strided.applications import imagenet_utils

    for folder in imagenet_utils.cache_dirs():
        if (folder / RESNET50_FILE).is_file():
            return folder / RESNET50_FILE
    return None


def load_image(path):
    """The photo at ``path`` resized to 224x224 as floats 0-255, or a generated pattern."""
    if path is None:
        yy, xx = np.mgrid[0:224, 0:224] / 224.0
        return np.stack([np.sin(8 * xx) * 0.5 + 0.5, yy, 1 - xx * yy], axis=-1) * 255.0
    from strided.utils import img_to_array, load_img

    return img_to_array(load_img(path, target_size=(224, 224)))


def main(argv=None):
    def extra(parser):
        parser.add_argument("--image", default=None, help="photo to classify with the pretrained ResNet50")

    args = _common.parse_args("lenet_alexnet_resnet", __doc__.splitlines()[0], argv, extra)
    from strided import applications, visualize

    check = _common.Checks()

    # -- LeNet-5 --------------------------------------------------------------------------------
    lenet = seed_lenet()
    lenet.summary()
    reference = applications.LeNet5()
    check.expect(
        "seed LeNet-5 parameters == applications.LeNet5()",
        f"{lenet.count_params():,}",
        lenet.count_params() == reference.count_params() == 81194,
        "60 + 880 + 69,240 + 10,164 + 850",
    )
    ours = [tuple(l.output.shape) for l in lenet.layers]
    theirs = [tuple(l.output.shape) for l in reference.layers if type(l).__name__ != "InputLayer"]
    check.expect("layer output shapes agree", ours[-1], ours == theirs)
    digits = np.random.default_rng(args.seed).random((4, 32, 32, 1)).astype("float32")
    probs = lenet.predict(digits, verbose=0)
    check.close("softmax rows sum to 1", probs.sum(axis=1), np.ones(4))
    print("LeNet-5 receptive fields:")
    visualize.receptive_field(lenet, print_fn=print)

    # -- AlexNet ----------------------------------------------------------------------------------
    alexnet = applications.AlexNet()
    alexnet.summary()
    print(f"AlexNet parameters: {alexnet.count_params():,}")
    out = alexnet.predict(np.zeros((1, 227, 227, 3), dtype="float32"), verbose=0)
    check.equal("AlexNet output shape", out.shape, (1, 1000))

    # -- ResNet50 -------------------------------------------------------------------------------
    path = None if args.quick else weights_present()
    if path is None:
        resnet = applications.ResNet50(weights=None)
        if not args.quick:
            print(
                f"!! ImageNet weights not found: put {RESNET50_FILE} (98 MB, from "
                f"https://storage.googleapis.com/tensorflow/keras-applications/resnet/{RESNET50_FILE}) in "
                "~/.keras/models/ to run the seed's pretrained prediction. Showing the architecture only."
            )
    else:
        resnet = applications.ResNet50(weights="imagenet")
    resnet.summary(print_fn=lambda line: None)  # 177 layers: count only, print the head below
    check.expect(
        "ResNet50 parameters",
        f"{resnet.count_params():,}",
        resnet.count_params() == 25636712,
        "25.6M (Keras: 25,636,712)",
    )
    fields = visualize.receptive_fields(resnet)
    last_conv = [name for name in fields if name.startswith("conv5")][-1]
    print(
        f"ResNet50 receptive field at {last_conv}: {fields[last_conv][0]} pixels, output stride {fields[last_conv][1]}"
    )
    check.expect("ResNet50 output stride at conv5", fields[last_conv][1], fields[last_conv][1] == 32, 32)

    if path is not None:
        from strided.applications.resnet50 import decode_predictions, preprocess_input

        image = load_image(args.image)
        batch = preprocess_input(image.reshape(1, 224, 224, 3).copy())
        pred = resnet.predict(batch, verbose=0)
        check.equal("prediction shape", pred.shape, (1, 1000))
        for _, label, score in decode_predictions(pred, top=5)[0]:
            print("%s: %.2f" % (label, score))
        if args.image is not None:
            heat = visualize.grad_cam(resnet, batch[0])
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(7, 3.5))
            axes[0].imshow(image.astype("uint8"))
            axes[1].imshow(image.astype("uint8"))
            axes[1].imshow(heat, cmap="jet", alpha=0.45)
            for ax in axes:
                ax.axis("off")
            _common.save(fig, args.out, "resnet50_grad_cam.png")
    check.write(args.out)
    return check


if __name__ == "__main__":
    main()
