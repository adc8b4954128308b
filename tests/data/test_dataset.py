"""strided.data.Dataset: the tf.data methods Keras programs chain on their datasets (issue 19)."""

import threading

import numpy as np
import pytest
import torch

import strided
from strided import data, layers, ops
from strided.data import Dataset


def _items(ds):
    return [tuple(np.asarray(v).tolist() for v in e) if isinstance(e, tuple) else np.asarray(e).tolist() for e in ds]


def test_autotune_is_reachable_as_programs_write_it():
    assert data.AUTOTUNE == -1
    assert data.experimental.AUTOTUNE == data.AUTOTUNE
    assert strided.data.Dataset is Dataset


def test_from_tensor_slices_batch_len_and_iteration():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = np.arange(10) % 2
    ds = Dataset.from_tensor_slices((x, y))
    assert len(ds) == 10
    first = next(iter(ds))
    assert first[0].shape == (1,) and int(first[1]) == 0
    batched = ds.batch(4)
    assert len(batched) == 3
    shapes = [b[0].shape for b in batched]
    assert shapes == [(4, 1), (4, 1), (2, 1)]
    assert len(ds.batch(4, drop_remainder=True)) == 2
    assert [b.shape for b in Dataset.from_tensor_slices({"a": x}).batch(5).map(lambda d: d["a"])] == [(5, 1), (5, 1)]


def test_batch_of_a_batched_dataset_nests_as_tf_data():
    ds = Dataset.from_tensor_slices(np.arange(12)).batch(3).batch(2)
    assert [b.shape for b in ds] == [(2, 3), (2, 3)]


def test_map_parallel_keeps_order_and_uses_threads():
    threads = set()

    def slow_square(v):
        threads.add(threading.get_ident())
        return v * v

    ds = Dataset.from_tensor_slices(np.arange(40)).map(slow_square, num_parallel_calls=data.AUTOTUNE)
    assert _items(ds) == [i * i for i in range(40)]
    assert len(ds) == 40
    assert threading.get_ident() not in threads
    ds = Dataset.from_tensor_slices(np.arange(6)).map(lambda v: v + 1, num_parallel_calls=3, deterministic=False)
    assert _items(ds) == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match="num_parallel_calls=0"):
        Dataset.from_tensor_slices(np.arange(3)).map(lambda v: v, num_parallel_calls=0)


def test_map_with_keras_ops_and_layers():
    images = np.random.rand(6, 8, 8, 3).astype("float32")
    labels = np.arange(6)
    resize = layers.Resizing(4, 4)
    ds = (
        Dataset.from_tensor_slices((images, labels))
        .batch(3)
        .map(lambda x, y: (resize(x), ops.one_hot(y, 6)), num_parallel_calls=2)
        .prefetch(data.AUTOTUNE)
    )
    batches = list(ds)
    assert len(batches) == 2 and tuple(batches[0][0].shape) == (3, 4, 4, 3) and tuple(batches[1][1].shape) == (3, 6)


def test_shuffle_is_a_permutation_reshuffled_each_epoch():
    ds = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=1)
    a, b = _items(ds), _items(ds)
    assert sorted(a) == sorted(b) == list(range(50)) and a != b and a != list(range(50))
    fixed = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=1, reshuffle_each_iteration=False)
    assert _items(fixed) == _items(fixed)
    small = Dataset.from_tensor_slices(np.arange(50)).shuffle(4, seed=0)  # a buffer of 4: a local shuffle
    out = _items(small)
    assert sorted(out) == list(range(50)) and out != list(range(50))
    assert all(v <= i + 4 for i, v in enumerate(out))  # no element can come out before it enters the buffer


def test_take_skip_repeat_filter_concatenate_zip_enumerate():
    ds = Dataset.from_tensor_slices(np.arange(5))
    assert _items(ds.take(2)) == [0, 1] and len(ds.take(2)) == 2 and len(ds.take(-1)) == 5
    assert _items(ds.skip(3)) == [3, 4] and len(ds.skip(3)) == 2
    assert _items(ds.repeat(2)) == [0, 1, 2, 3, 4] * 2 and len(ds.repeat(2)) == 10
    forever = ds.repeat()
    assert int(forever.cardinality()) == data.INFINITE_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    assert _items(forever.take(7)) == [0, 1, 2, 3, 4, 0, 1]
    evens = ds.filter(lambda v: v % 2 == 0)
    assert _items(evens) == [0, 2, 4] and int(evens.cardinality()) == data.UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="unknown"):
        len(evens)
    assert _items(ds.concatenate(ds.take(1))) == [0, 1, 2, 3, 4, 0]
    zipped = Dataset.zip((ds, ds.map(lambda v: v * 10)))
    assert _items(zipped) == [(i, i * 10) for i in range(5)] and len(zipped) == 5
    assert _items(Dataset.zip(ds, ds.skip(2))) == [(0, 2), (1, 3), (2, 4)]
    assert [int(i) for i, _ in ds.enumerate(start=1)] == [1, 2, 3, 4, 5]
    assert [v.tolist() for v in ds.batch(2).as_numpy_iterator()] == [[0, 1], [2, 3], [4]]


def test_unbatch_and_padded_batch():
    ds = Dataset.from_tensor_slices((np.arange(6).reshape(6, 1), np.arange(6))).batch(4)
    flat = ds.map(lambda x, y: (x * 2, y)).unbatch()
    assert _items(flat) == [([2 * i], i) for i in range(6)]
    seqs = Dataset.from_generator(lambda: iter([np.array([1, 2]), np.array([3]), np.array([4, 5, 6])]))
    with pytest.raises(ValueError, match="padded_batch"):
        list(seqs.batch(3))
    (padded,) = list(seqs.padded_batch(3))
    np.testing.assert_array_equal(padded, [[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    (fixed,) = list(seqs.padded_batch(3, padded_shapes=(4,), padding_values=-1))
    assert fixed.shape == (3, 4) and fixed[1].tolist() == [3, -1, -1, -1]


def test_cache_keeps_the_first_pass(tmp_path):
    calls = []
    ds = Dataset.from_tensor_slices(np.arange(4)).map(lambda v: calls.append(1) or v).cache()
    assert _items(ds) == _items(ds) == [0, 1, 2, 3]
    assert len(calls) == 4
    path = tmp_path / "cache.bin"
    on_disk = Dataset.from_tensor_slices(np.arange(3)).map(lambda v: v + 1).cache(str(path))
    assert _items(on_disk) == [1, 2, 3] and path.exists()
    again = Dataset.from_generator(lambda: iter([])).cache(str(path))  # a later run reads the file
    assert _items(again) == [1, 2, 3]


def test_prefetch_surfaces_errors_and_stops_early():
    def boom(v):
        if v == 3:
            raise ValueError("bad element")
        return v

    ds = Dataset.from_tensor_slices(np.arange(6)).map(boom).prefetch(2)
    with pytest.raises(ValueError, match="bad element"):
        list(ds)
    assert _items(Dataset.range(10**6).prefetch(4).take(3)) == [0, 1, 2]


def test_map_calling_tensorflow_names_the_op_and_the_equivalent():
    def uses_tf(x, y):
        return tf.cast(x, "float32") / 255.0, y  # noqa: F821 - the program never imported TensorFlow

    ds = Dataset.from_tensor_slices((np.zeros((2, 3)), np.zeros(2))).map(uses_tf)
    with pytest.raises(NameError, match=r"`tf.cast`.*keras.ops.cast"):
        list(ds)

    class FakeTF:  # a program that aliased another module as `tf`
        pass

    tf = FakeTF()

    def resize(x):
        return tf.image.resize(x, (4, 4))

    with pytest.raises(AttributeError, match=r"`tf.image.resize`.*keras.ops.image.resize"):
        list(Dataset.from_tensor_slices(np.zeros((2, 8, 8, 1))).map(resize))

    def other_bug(x):
        return x.no_such_method()

    with pytest.raises(AttributeError, match="no_such_method") as info:
        list(Dataset.from_tensor_slices(np.zeros(2)).map(other_bug))
    assert "TensorFlow" not in str(info.value)


def test_fit_on_a_pipeline():
    x = np.random.rand(64, 4).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int64")
    train = (
        Dataset.from_tensor_slices((x, y))
        .shuffle(64, seed=0)
        .batch(16)
        .map(lambda a, b: (a * 2.0, b), num_parallel_calls=data.AUTOTUNE)
        .cache()
        .prefetch(data.AUTOTUNE)
    )
    model = strided.Sequential([strided.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss=strided.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(train, epochs=2, validation_data=train.take(1), verbose=0)
    assert len(history.history["val_loss"]) == 2
    model.fit(Dataset.from_tensor_slices((x, y)).batch(16).repeat(), steps_per_epoch=3, epochs=1, verbose=0)
    assert model.predict(Dataset.from_tensor_slices(x).batch(16), verbose=0).shape == (64, 2)


def test_directory_dataset_chains(tmp_path):
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(5):
            Image.fromarray(np.full((6, 6, 3), 40 * i, np.uint8)).save(tmp_path / cls / f"{i}.png")
    ds = strided.utils.image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=4, shuffle=False)
    assert isinstance(ds, Dataset) and len(ds) == 3 and ds.class_names == ["cat", "dog"]
    pipeline = (
        ds.map(lambda x, y: (x / 255.0, y), num_parallel_calls=data.AUTOTUNE)
        .cache()
        .shuffle(8)
        .prefetch(buffer_size=data.AUTOTUNE)
    )
    assert sum(int(b[0].shape[0]) for b in pipeline) == 10
    samples = list(ds.unbatch())
    assert len(samples) == 10 and samples[0][0].shape == (4, 4, 3)
    rebatched = ds.unbatch().batch(5)
    assert [b[0].shape[0] for b in rebatched] == [5, 5]
    assert len(ds.take(1)) == 1 and len(ds.skip(1)) == 2


def test_text_audio_and_timeseries_datasets_are_datasets(tmp_path):
    for cls in ("neg", "pos"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"{i}.txt").write_text(f"{cls} review {i}")
    text = strided.utils.text_dataset_from_directory(tmp_path, batch_size=2, shuffle=False)
    lowered = text.map(lambda x, y: (np.char.upper(x), y))
    assert isinstance(text, Dataset) and list(lowered.unbatch())[0][0] == "NEG REVIEW 0"
    series = strided.utils.timeseries_dataset_from_array(np.arange(30), np.arange(30), sequence_length=5, batch_size=4)
    assert isinstance(series, Dataset)
    first = next(iter(series.map(lambda x, y: (x, y)).take(1)))
    assert first[0].tolist()[1] == [1, 2, 3, 4, 5]
    assert len(series.unbatch().batch(13)) == 2


def test_map_functions_receive_tensors_as_from_tf_data():
    x = np.arange(6, dtype="float32").reshape(3, 2)
    ds = Dataset.from_tensor_slices((x, np.array(["a", "b", "c"]))).batch(3)

    def scale(images, names):
        assert isinstance(images, torch.Tensor) and isinstance(names, np.ndarray)
        return images * ops.reshape(ops.ones((3,)), (3, 1)), names  # numbers mix with keras.ops results

    ((images, names),) = list(ds.map(scale))
    np.testing.assert_array_equal(images.numpy(), x)
    assert names.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(x, np.arange(6, dtype="float32").reshape(3, 2))  # the source is untouched


def test_cache_file_keeps_structures_without_pickle(tmp_path):
    path = tmp_path / "rows.cache"
    ds = Dataset.from_tensor_slices(({"a": np.arange(3.0), "s": np.array(["x", "y", "z"])}, np.arange(3)))
    cached = ds.map(lambda d, y: ({"a": d["a"] * 2, "s": d["s"]}, y)).cache(str(path))
    first = list(cached)
    again = list(Dataset.from_generator(lambda: iter([])).cache(str(path)))
    assert len(again) == 3
    for (d1, y1), (d2, y2) in zip(first, again):
        assert isinstance(d2["a"], torch.Tensor) and float(d2["a"]) == float(d1["a"]) and str(d2["s"]) == str(d1["s"])
        assert int(y2) == int(y1)
    with np.load(path, allow_pickle=False) as archive:  # a plain archive of arrays
        assert "__structure__" in archive.files
    with pytest.raises(ValueError, match="in memory"):
        list(Dataset.from_generator(lambda: iter([np.array([object()])])).cache(str(tmp_path / "objects")))


def test_fit_on_a_forever_repeating_dataset_needs_steps():
    ds = Dataset.from_tensor_slices((np.ones((8, 2), "float32"), np.ones((8, 1), "float32"))).batch(4).repeat()
    model = strided.Sequential([strided.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(ds, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="repeats forever"):
        model.evaluate(ds, verbose=0)
    model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.isfinite(model.evaluate(ds, steps=2, verbose=0))
