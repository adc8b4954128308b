"""One process of the data-parallel test: trains a small convnet and writes what it ended with.

Run alone (single process) or under a torchrun-like environment (RANK, WORLD_SIZE, MASTER_*).
argv: OUT_DIR [die]
"""

import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
import strided as keras  # noqa: E402
from strided import distribution, layers, models  # noqa: E402

out_dir, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "train")
rank = int(os.environ.get("RANK", "0"))
keras.config.set_device("cpu")
if mode == "lazy":  # the Keras-style explicit strategy, one device per process
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=["cpu"] * int(os.environ.get("WORLD_SIZE", "1")))
    )
# "lazy": each rank draws a different initialisation for a model built on its first batch; DDP must
# start every rank from rank 0's weights.
keras.utils.set_random_seed(7 + (rank if mode == "lazy" else 0))
rng = np.random.RandomState(0)
x = rng.rand(96, 8, 8, 1).astype("float32")
y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("int64")
if mode == "syncbn":
    model = models.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(synchronized=os.environ.get("STRIDED_TEST_NOSYNC") != "1"),
            layers.ReLU(),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
elif mode == "custom":
    # Keras's PyTorch guide: a custom train_step that computes its own gradients with backward().
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            gradients = [v.value.grad for v in self.trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, self.trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input((8, 8, 1))
    model = CustomModel(
        inputs, layers.Dense(2, activation="softmax")(layers.Flatten()(layers.Conv2D(4, 3, activation="relu")(inputs)))
    )
elif mode == "lazy":
    model = models.Sequential(
        [layers.Conv2D(4, 3, activation="relu"), layers.Flatten(), layers.Dense(2, activation="softmax")]
    )
else:
    model = models.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
callbacks = [
    keras.callbacks.CSVLogger(os.path.join(out_dir, f"log_rank{rank}.csv")),
    keras.callbacks.ModelCheckpoint(os.path.join(out_dir, "checkpoint.keras")),
]
if mode == "die" and rank == 1:
    callbacks.append(keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: os._exit(3)))
shuffle = True
if mode == "resume":
    # BackupAndRestore across a crash of every rank: the first launch dies after epoch 2's backup.
    shuffle = False
    callbacks.append(keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup")))
    if os.environ.get("STRIDED_TEST_CRASH") == "1":

        def crash(epoch, logs):
            if epoch == 1:
                raise RuntimeError("simulated crash")

        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=crash))
# batch 11 splits unevenly over 2 ranks (6 + 5), and so does the last batch.
history = model.fit(
    x,
    y,
    batch_size=11 if mode == "lazy" else 16,
    epochs=3,
    validation_split=0.25,
    verbose=0,
    callbacks=callbacks,
    shuffle=shuffle,
)
if mode == "rank0_predict":
    # A common mistake: a collective call made on rank 0 only. It must fail clearly, not hang.
    if rank == 0:
        model.predict(x, verbose=0)
        sys.exit(0)
    # Rank 1 leaves at once, as a script that skipped the call does when it ends; os._exit keeps its own
    # teardown (a barrier against a peer stuck in another collective) out of what this mode checks.
    os._exit(0)
np.savez(os.path.join(out_dir, f"weights_rank{rank}.npz"), *model.get_weights())
with open(os.path.join(out_dir, f"history_rank{rank}.json"), "w") as f:
    step = model.__dict__.get("_ddp_step")
    # predict shards every batch (13 = 7 + 6 per batch here) and gathers the rows back in order.
    rows_seen = []
    predict_step = model.predict_step
    model.predict_step = lambda data: (
        rows_seen.append(len(data[0] if isinstance(data, tuple) else data)),
        predict_step(data),
    )[1]
    np.save(os.path.join(out_dir, f"predict_rank{rank}.npy"), model.predict(x, batch_size=13, verbose=0))
    json.dump(
        {
            "history": history.history,
            "world": distribution.world_size(),
            "engine": type(step[1]).__name__ if step else None,
            "predict_rows": sum(rows_seen),
            "evaluate": model.evaluate(x, y, batch_size=16, verbose=0),
        },
        f,
    )
