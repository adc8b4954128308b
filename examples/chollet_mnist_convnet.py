"""Seed 004 (Chollet, Deep Learning with Python, listings 5.1-5.3): the small MNIST convnet.

Both summaries as printed (55,744 parameters for the convolutional base, 93,322 with the classifier),
then rmsprop, categorical_crossentropy, batch 64, 5 epochs: the seed's test accuracy is 0.9908
(checked: >= 99.0% in a full run). Also the base without max pooling (55,744 parameters, but its
last layer sees only 7x7 windows of the digit, as the text explains), checked with receptive_field.

    python examples/chollet_mnist_convnet.py [--quick] [--out runs/examples/chollet_mnist_convnet]
"""

import _common

import numpy as np


def main(argv=None):
    args = _common.parse_args("chollet_mnist_convnet", __doc__.splitlines()[0], argv)
    from strided import layers, models, visualize
    from strided.datasets import mnist
    from strided.utils import to_categorical

    check = _common.Checks()
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.summary()
    check.expect("convolutional base parameters", f"{model.count_params():,}", model.count_params() == 55744, "55,744")
    check.expect(
        "base output shape", model.output_shape, tuple(model.output_shape) == (None, 3, 3, 64), "(None, 3, 3, 64)"
    )
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.summary()
    check.expect("with the classifier", f"{model.count_params():,}", model.count_params() == 93322, "93,322")

    model_no_max_pool = models.Sequential()
    model_no_max_pool.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model_no_max_pool.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model_no_max_pool.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model_no_max_pool.summary()
    check.expect(
        "base without pooling",
        f"{model_no_max_pool.count_params():,}",
        model_no_max_pool.count_params() == 55744,
        "55,744",
    )
    check.expect(
        "its final feature map holds 22 x 22 x 64 numbers",
        22 * 22 * 64,
        np.prod(model_no_max_pool.output_shape[1:]) == 30976,
        "30,976",
    )
    print("Receptive fields without pooling:")
    no_pool = visualize.receptive_field(model_no_max_pool, print_fn=print)
    check.equal("third layer sees 7x7 windows", no_pool[-1].size, (7, 7))
    print("Receptive fields with pooling:")
    pooled = visualize.receptive_field(model, print_fn=print)
    check.equal("with pooling the third conv sees 18x18 of the 28x28 digit", pooled[4].size, (18, 18))

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    if args.quick:
        train_images, train_labels = _common.subset(train_images, train_labels, 3000, args.seed)
        test_images, test_labels = _common.subset(test_images, test_labels, 1000, args.seed)
    train_images = train_images.reshape((len(train_images), 28, 28, 1))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28, 28, 1))
    test_images = test_images.astype("float32") / 255
    test_classes = test_labels
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=1 if args.quick else 5, batch_size=64, verbose=2)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    print(f"test_acc {test_acc:.4f}")
    if args.quick:
        check.at_least("quick-run test accuracy (3,000 images, 1 epoch)", test_acc, 0.75)
    else:
        check.at_least("test accuracy after 5 epochs", test_acc, 0.990, seed_value="0.9908")

    predictions = model.predict(test_images, verbose=0)
    visualize.plot_history(history, save_path=args.out / "history.png")
    visualize.plot_confusion_matrix(
        test_classes,
        predictions,
        title=f"MNIST test set, accuracy {test_acc:.4f}",
        save_path=args.out / "confusion_matrix.png",
    )
    visualize.plot_filters(model.layers[0], title="conv2d: 32 kernels of 3x3", save_path=args.out / "filters.png")
    visualize.plot_feature_maps(
        model,
        0,
        test_images[0],
        title=f"conv2d outputs for a test '{test_classes[0]}' (26x26 each)",
        save_path=args.out / "feature_maps.png",
    )
    visualize.plot_feature_maps(
        model,
        4,
        test_images[0],
        title="third Conv2D outputs (3x3 each): 18x18 windows",
        save_path=args.out / "feature_maps_conv3.png",
    )
    wrong = np.flatnonzero(predictions.argmax(axis=1) != test_classes)[:15]
    if len(wrong):
        visualize.plot_images(
            test_images[wrong],
            labels=test_classes[wrong],
            predictions=predictions[wrong],
            title="misclassified test digits: prediction (truth)",
            save_path=args.out / "mistakes.png",
        )
    visualize.plot_grad_cam(model, test_images[0], save_path=args.out / "grad_cam.png")
    import matplotlib.pyplot as plt

    plt.close("all")
    check.write(args.out)
    return check


if __name__ == "__main__":
    main()
