"""text_dataset_from_directory: files, labels and split as real Keras's own ``index_directory`` lists them (no
TensorFlow needed), batches of ``str``, and a text classifier trained on them."""

import numpy as np
import pytest

import strided as keras
from strided import layers


@pytest.fixture
def text_tree(tmp_path):
    texts = {
        "neg": ["bad", "awful film", "boring", "meh plot"],
        "pos": ["great", "loved it", "wonderful \u00e9t\u00e9"],
    }
    for label, items in texts.items():
        (tmp_path / label / "more").mkdir(parents=True)
        for i, t in enumerate(items):
            where = tmp_path / label / ("more" if i == 1 else "")
            (where / f"{i}.txt").write_text(t, encoding="utf-8")
    (tmp_path / "pos" / "skip.md").write_text("not a text file")
    return tmp_path


def test_text_dataset_from_directory_files_labels_and_batches(text_tree, real_keras, capsys):
    from keras.src.utils import dataset_utils

    ds = keras.utils.text_dataset_from_directory(text_tree, batch_size=3, seed=7)
    assert "Found 7 files belonging to 2 classes." in capsys.readouterr().out
    paths, labels, names = dataset_utils.index_directory(
        str(text_tree), "inferred", formats=(".txt",), seed=7, verbose=False
    )
    assert ds.class_names == names == ["neg", "pos"] and ds.file_paths == list(paths)
    assert len(ds) == 3
    batches = list(ds)
    texts = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    assert batches[0][0].dtype.kind == "U" and batches[0][1].dtype == np.int32 and batches[0][0].shape == (3,)
    truth = {open(p, encoding="utf-8").read(): int(y) for p, y in zip(paths, labels)}
    assert sorted(texts.tolist()) == sorted(truth) and all(truth[t] == y for t, y in zip(texts.tolist(), ys))
    ordered = keras.utils.text_dataset_from_directory(
        text_tree, shuffle=False, label_mode="categorical", max_length=4, batch_size=None, verbose=False
    )
    first = next(iter(ordered))
    assert first[0] == "bad" and first[1].tolist() == [1.0, 0.0]
    assert [t for t, _ in ordered][:4] == ["bad", "bori", "meh ", "awfu"]  # sorted by folder, then by name
    # max_length counts bytes, as Keras; a character cut in two is dropped from the decoded text
    cut = keras.utils.text_dataset_from_directory(
        text_tree / "pos", labels=None, shuffle=False, max_length=11, verbose=False
    )
    assert next(iter(cut)).tolist() == ["great", "wonderful ", "loved it"]
    assert keras.preprocessing.text_dataset_from_directory is keras.utils.text_dataset_from_directory


def test_text_dataset_validation_split_and_training(text_tree):
    train, val = keras.utils.text_dataset_from_directory(
        text_tree, validation_split=0.3, subset="both", seed=1, label_mode="binary", batch_size=2, verbose=False
    )
    alone = keras.utils.text_dataset_from_directory(
        text_tree, validation_split=0.3, subset="validation", seed=1, label_mode="binary", verbose=False
    )
    assert len(train.file_paths) == 5 and val.file_paths == alone.file_paths and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    x, y = next(iter(train))
    assert y.dtype == np.float32 and y.shape == (2, 1)
    vectorize = layers.TextVectorization(output_sequence_length=3)
    vectorize.adapt(train.map(lambda x, y: x))
    inputs = keras.Input(shape=(), dtype="string")
    outputs = layers.Dense(1, activation="sigmoid")(layers.Flatten()(layers.Embedding(20, 2)(vectorize(inputs))))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy")
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    texts_only = keras.utils.text_dataset_from_directory(text_tree, labels=None, verbose=False, batch_size=8)
    assert isinstance(next(iter(texts_only)), np.ndarray)
    assert model.predict(texts_only, verbose=0).shape == (7, 1)


def test_text_dataset_errors(text_tree, tmp_path_factory):
    utils = keras.utils
    with pytest.raises(ValueError, match=r"`label_mode` argument must be one of .*Received: label_mode='sparse'"):
        utils.text_dataset_from_directory(text_tree, label_mode="sparse")
    with pytest.raises(ValueError, match=r"`labels` argument should be a list/tuple of integer labels"):
        utils.text_dataset_from_directory(text_tree, labels="folders")
    with pytest.raises(ValueError, match=r"you must provide a `seed` argument"):
        utils.text_dataset_from_directory(text_tree, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match=r"`format` should be either \"tf\" or \"grain\""):
        utils.text_dataset_from_directory(text_tree, format="torch")
    with pytest.raises(ValueError, match=r"Invalid value for argument `max_length`.*max_length=-1"):
        utils.text_dataset_from_directory(text_tree, max_length=-1)
    (text_tree / "third").mkdir()
    with pytest.raises(ValueError, match=r"there must be exactly 2 class_names"):
        utils.text_dataset_from_directory(text_tree, label_mode="binary", verbose=False)
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(ValueError, match=r"No text files found in directory"):
        utils.text_dataset_from_directory(empty, verbose=False)
