"""Models train on what the data loaders return: directory data sets and the malaria loader."""

import numpy as np
import pytest
from PIL import Image

import strided as keras
from strided import layers, models
from strided.callbacks import EarlyStopping
from strided.datasets import malaria
from strided.utils import image_dataset_from_directory


def _write_images(root, classes, count, size, rng):
    """Class k's images are noise around brightness 60 + 120 k: easy to tell apart, not trivially equal."""
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(count):
            level = 60 + 120 * k
            img = np.clip(rng.normal(level, 25, (*size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"C{i}_cell.png")


def test_model_trains_on_image_dataset_from_directory(tmp_path):
    keras.utils.set_random_seed(0)
    _write_images(tmp_path, ["cats", "dogs"], 24, (20, 24), np.random.RandomState(0))
    train, val = image_dataset_from_directory(
        tmp_path, image_size=(16, 16), batch_size=8, validation_split=0.25, subset="both", seed=3
    )
    assert train.class_names == ["cats", "dogs"]
    model = models.Sequential(
        [
            layers.Input((16, 16, 3)),
            layers.Rescaling(1 / 255.0),
            layers.Conv2D(4, 3),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=8, validation_data=val, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    _, accuracy = model.evaluate(val, verbose=0)
    assert accuracy >= 0.9


def test_seed_002_malaria_model_trains_on_the_loader(tmp_path):
    keras.utils.set_random_seed(0)
    _write_images(tmp_path / "cell_images", ["Parasitized", "Uninfected"], 40, (30, 34), np.random.RandomState(1))
    X, y = malaria.load_data(path=tmp_path / "cell_images", image_size=(100, 100), cache=False)
    assert X.shape == (80, 100, 100, 3) and X.dtype == np.float32 and set(np.unique(y)) == {0, 1}
    # Labels as TFDS defines them: 0 = parasitized (the darker images here), 1 = uninfected.
    assert X[y == 0].mean() < X[y == 1].mean()
    X_train, X_test, y_train, y_test = X[:64], X[64:], y[:64], y[64:]
    model = models.Sequential()
    model.add(
        layers.Conv2D(
            filters=32, input_shape=(X_train.shape[1:]), kernel_size=(3, 3), padding="same", activation="relu"
        )
    )
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Conv2D(64, kernel_size=(3, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(
        X_train,
        y_train,
        batch_size=16,
        epochs=4,
        validation_split=0.1,
        callbacks=[EarlyStopping(monitor="val_loss", patience=5)],
        verbose=0,
    )
    assert len(history.history["val_loss"]) >= 1
    y_pred = (model.predict(X_test, verbose=0) > 0.5).astype(int).reshape(y_test.shape)
    assert np.mean(y_pred == y_test) >= 0.8


def test_pydataset_workers_load_batches_concurrently_and_in_order():
    import threading
    import time

    import strided as keras

    class Slow(keras.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.active = self.most = 0
            self.lock = threading.Lock()

        def __len__(self):
            return 12

        def __getitem__(self, i):
            with self.lock:
                self.active += 1
                self.most = max(self.most, self.active)
            time.sleep(0.02)  # a file read
            with self.lock:
                self.active -= 1
            x = np.full((4, 3), float(i), "float32")
            return x, x[:, :1]

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    serial, parallel = Slow(), Slow(workers=4)
    out_serial = model.predict(serial, verbose=0)
    out_parallel = model.predict(parallel, verbose=0)
    np.testing.assert_array_equal(out_parallel, out_serial)  # same batches, same order
    assert serial.most == 1 and parallel.most > 1
    model.fit(Slow(workers=3, max_queue_size=2), epochs=2, verbose=0, steps_per_epoch=5)  # early stop per epoch
    model.fit(Slow(workers=3), epochs=1, verbose=0)

    class Broken(Slow):
        def __getitem__(self, i):
            if i == 5:
                raise IOError("unreadable file 5")
            return super().__getitem__(i)

    with pytest.raises(IOError, match="unreadable file 5"):
        model.fit(Broken(workers=4), epochs=1, verbose=0)
