"""Keras 3's categorical preprocessing layers (Hashing, HashedCrossing, StringLookup, IntegerLookup,
CategoryEncoding, Discretization) and a few others (CLAHE, AlphaDropout, Pipeline), against real Keras by numbers.

Keras runs Hashing, HashedCrossing, StringLookup and IntegerLookup through TensorFlow, which the test
environment does not have: their expected values below were produced by real Keras 3.15.1 (torch
backend) with TensorFlow 2.21 installed; when TensorFlow is importable the same cases are also compared
live. Everything else is compared with real Keras directly.
"""

import json

import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.utils import farmhash

_GOLDENS = json.loads(
    '{"hashing_str":{"{\\"num_bins\\": 3}":[[1],[0],[1],[1],[2],[2],[2],[0],[1]],"{\\"num_bins\\": 1000003}":[[127888'
    '],[832648],[203577],[194606],[428307],[377723],[246851],[326595],[659009]],"{\\"num_bins\\": 3, \\"mask_value\\"'
    ': \\"\\"}":[[1],[1],[2],[2],[1],[0],[2],[1],[1]],"{\\"num_bins\\": 3, \\"salt\\": [133, 137]}":[[1],[2],[1],[0],[2'
    '],[2],[2],[0],[1]],"{\\"num_bins\\": 3, \\"salt\\": 133}":[[0],[0],[2],[1],[0],[2],[2],[2],[0]],"{\\"num_bins\\": '
    '5, \\"output_mode\\": \\"multi_hot\\"}":[[0.0,0.0,0.0,0.0,1.0],[0.0,0.0,0.0,1.0,0.0],[0.0,0.0,1.0,0.0,0.0],[1.0,'
    "0.0,0.0,0.0,0.0],[0.0,0.0,1.0,0.0,0.0],[0.0,0.0,0.0,1.0,0.0],[0.0,0.0,1.0,0.0,0.0],[0.0,0.0,1.0,0.0,0.0],[0."
    '0,1.0,0.0,0.0,0.0]]},"hashing_int":{"{\\"num_bins\\": 11}":[[8,0,5],[9,5,2]],"{\\"num_bins\\": 11, \\"mask_value\\'
    '": 0}":[[10,10,10],[9,5,0]],"{\\"num_bins\\": 11, \\"salt\\": [1, 2]}":[[1,7,8],[7,7,1]],"{\\"num_bins\\": 4, \\"ou'
    'tput_mode\\": \\"count\\"}":[[0.0,1.0,0.0,2.0],[2.0,0.0,0.0,1.0]]},"crossing":{"ab":[6,7,1,8],"ba_col":[[656],['
    '483],[680],[595]],"one_hot":[[0.0,0.0,0.0,1.0],[0.0,0.0,1.0,0.0],[0.0,0.0,0.0,1.0],[0.0,0.0,0.0,1.0]]},"stri'
    'ng_lookup":{"{}":{"vocab":["[UNK]","a","c","b","zz","e","d"],"out":[[1,0,5],[0,3,4]]},"{\\"mask_token\\": \\"\\"'
    '}":{"vocab":["","[UNK]","a","c","b","zz","e","d"],"out":[[2,1,6],[0,4,5]]},"{\\"num_oov_indices\\": 3}":{"voca'
    'b":["[UNK]","[UNK]","[UNK]","a","c","b","zz","e","d"],"out":[[3,2,7],[2,5,6]]},"{\\"num_oov_indices\\": 3, \\"s'
    'alt\\": 7}":{"vocab":["[UNK]","[UNK]","[UNK]","a","c","b","zz","e","d"],"out":[[3,0,7],[1,5,6]]},"{\\"max_toke'
    'ns\\": 4}":{"vocab":["[UNK]","a","c","b"],"out":[[1,0,0],[0,3,0]]},"{\\"output_mode\\": \\"multi_hot\\"}":{"vocab'
    '":["[UNK]","a","c","b","zz","e","d"],"out":[[1,1,0,0,0,1,0],[1,0,0,1,1,0,0]]},"{\\"output_mode\\": \\"count\\", '
    '\\"mask_token\\": \\"\\"}":{"vocab":["[UNK]","a","c","b","zz","e","d"],"out":[[1,1,0,0,0,1,0],[0,0,0,1,1,0,0]]},'
    '"{\\"output_mode\\": \\"tf_idf\\"}":{"vocab":["[UNK]","a","c","b","zz","e","d"],"out":[[0.7824637293815613,0.559'
    "6157908439636,0.0,0.0,0.0,0.9162907600402832,0.0],[0.7824637293815613,0.0,0.0,0.6931471824645996,0.916290760"
    '0402832,0.0,0.0]]},"{\\"output_mode\\": \\"tf_idf\\", \\"max_tokens\\": 9, \\"pad_to_max_tokens\\": true}":{"vocab":'
    '["[UNK]","a","c","b","zz","e","d"],"out":[[0.7824637293815613,0.5596157908439636,0.0,0.0,0.0,0.9162907600402'
    '832,0.0,0.0,0.0],[0.7824637293815613,0.0,0.0,0.6931471824645996,0.9162907600402832,0.0,0.0,0.0,0.0]]}},"inte'
    'ger_lookup":{"{}":{"vocab":[-1,1,3,2,100,7,5],"out":[[1,0,5],[0,3,4],[0,0,0]]},"{\\"mask_token\\": 0}":{"vocab'
    '":[0,-1,1,3,2,100,7,5],"out":[[2,1,6],[0,4,5],[1,1,1]]},"{\\"num_oov_indices\\": 3}":{"vocab":[-1,-1,-1,1,3,2,'
    '100,7,5],"out":[[3,1,7],[0,5,6],[0,2,0]]},"{\\"num_oov_indices\\": 3, \\"oov_method\\": \\"farmhash\\"}":{"vocab":'
    '[-1,-1,-1,1,3,2,100,7,5],"out":[[3,2,7],[1,5,6],[0,1,1]]},"{\\"output_mode\\": \\"one_hot\\", \\"max_tokens\\": 4}'
    '":{"vocab":[-1,1,3,2],"out":[[0,1,0,0],[1,0,0,0],[1,0,0,0]]},"{\\"output_mode\\": \\"tf_idf\\"}":{"vocab":[-1,1,'
    '3,2,100,7,5],"out":[[0.7824637293815613,0.5596157908439636,0.0,0.0,0.0,0.9162907600402832,0.0],[0.7824637293'
    "815613,0.0,0.0,0.6931471824645996,0.9162907600402832,0.0,0.0],[2.347391128540039,0.0,0.0,0.0,0.0,0.0,0.0]]}}"
    "}"
)

STRS = [
    ["A"],
    ["B"],
    ["C"],
    ["D"],
    ["E"],
    [""],
    ["héllo wörld"],
    ["x" * 40],
    ["a much longer string that is definitely longer than sixty-four bytes, to exercise the long path" * 2],
]
INTS = [[1, 2, -3], [40, 5000000000, 0]]
DATA = [["a", "b", "c", "a"], ["a", "d", "b", "e"], ["c", "c", "a", "zz"]]
INP = [["a", "q", "e"], ["", "b", "zz"]]
IDATA = [[1, 2, 3, 1], [1, 5, 2, 7], [3, 3, 1, 100]]
IINP = [[1, 4, 7], [0, 2, 100], [-3, 11, 12]]


def _np(x):
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


@pytest.fixture
def keras_tf(real_keras):
    """Real Keras with TensorFlow importable (its hashing and lookup layers need TF)."""
    pytest.importorskip("tensorflow")
    return real_keras


# ---------------------------------------------------------------------------- hashes
def test_fingerprint64_known_values():
    # FarmHash Fingerprint64 reference values (farmhash's own test vectors of the na variant agree with TF)
    fp = farmhash.fingerprint64(["", "a", "A" * 17, "A" * 40, "B" * 100])
    assert fp.dtype == np.uint64 and fp[0] == np.uint64(0x9AE16A3B2F90404F)  # k2: the empty string's hash
    bins = farmhash.fingerprint64([s[0] for s in STRS]) % np.uint64(1000003)
    np.testing.assert_array_equal(bins.reshape(-1, 1), _GOLDENS["hashing_str"]['{"num_bins": 1000003}'])
    # vectorised by length groups == one string at a time
    single = np.concatenate([farmhash.fingerprint64([s[0]]) for s in STRS])
    np.testing.assert_array_equal(single, farmhash.fingerprint64([s[0] for s in STRS]))


@pytest.mark.parametrize("kind", ["hashing_str", "hashing_int"])
def test_hashing_matches_keras_goldens(kind):
    data = np.array(STRS if kind == "hashing_str" else INTS)
    for kw, expected in _GOLDENS[kind].items():
        out = layers.Hashing(**json.loads(kw))(data)
        np.testing.assert_allclose(_np(out), expected, err_msg=kw)
        assert out.dtype == (torch.int64 if "output_mode" not in kw else torch.float32)


def test_hashing_live_and_list_input(keras_tf):
    for kw in [dict(num_bins=7, mask_value="A", output_mode="one_hot"), dict(num_bins=4, salt=[5, 6])]:
        np.testing.assert_array_equal(
            _np(layers.Hashing(**kw)(STRS)), _np(keras_tf.layers.Hashing(**kw)(np.array(STRS)))
        )


def test_hashing_floats_and_tensors():
    ints = layers.Hashing(11)(torch.tensor(INTS))
    np.testing.assert_array_equal(_np(ints), _GOLDENS["hashing_int"]['{"num_bins": 11}'])
    # floats are truncated to integers before hashing, as Keras does
    np.testing.assert_array_equal(
        _np(layers.Hashing(11)(np.array([[1.7, 2.2, -3.9]]))), [_GOLDENS["hashing_int"]['{"num_bins": 11}'][0]]
    )


def test_hashed_crossing_goldens():
    a, b = np.array(["A", "B", "A", "cc"]), np.array([101, 101, 102, -5])
    g = _GOLDENS["crossing"]
    np.testing.assert_array_equal(_np(layers.HashedCrossing(9)((a, b))), g["ab"])
    np.testing.assert_array_equal(_np(layers.HashedCrossing(1000)((b[:, None], a[:, None]))), g["ba_col"])
    np.testing.assert_array_equal(_np(layers.HashedCrossing(4, output_mode="one_hot")((a, b))), g["one_hot"])


def test_hashing_errors_and_config():
    with pytest.raises(ValueError, match="num_bins=0"):
        layers.Hashing(0)
    with pytest.raises(ValueError, match="output_mode"):
        layers.Hashing(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(3, salt="pepper")
    with pytest.raises(ValueError, match="at least two inputs"):
        layers.HashedCrossing(3)((np.array([1, 2]),))
    with pytest.raises(ValueError, match="equal shape"):
        layers.HashedCrossing(3)((np.array([1, 2]), np.array([1, 2, 3])))
    layer = layers.Hashing(5, salt=3, mask_value="")
    clone = layers.Hashing.from_config(layer.get_config())
    assert clone.salt == [3, 3] and clone.get_config() == {**layer.get_config(), "name": clone.name}
    np.testing.assert_array_equal(_np(clone(STRS)), _np(layer(STRS)))


# ---------------------------------------------------------------------------- lookups
def test_string_lookup_adapt_matches_keras_goldens():
    for kw, expected in _GOLDENS["string_lookup"].items():
        layer = layers.StringLookup(**json.loads(kw))
        layer.adapt(np.array(DATA))
        assert layer.get_vocabulary() == expected["vocab"], kw
        np.testing.assert_allclose(_np(layer(np.array(INP))), expected["out"], rtol=1e-6, err_msg=kw)


def test_integer_lookup_adapt_matches_keras_goldens():
    for kw, expected in _GOLDENS["integer_lookup"].items():
        args = json.loads(kw)
        layer = layers.IntegerLookup(**args)
        layer.adapt(IDATA)
        assert layer.get_vocabulary() == expected["vocab"], kw
        x = np.array(IINP) if args.get("output_mode") != "one_hot" else np.array(IINP)[:, :1]
        np.testing.assert_allclose(_np(layer(x)), expected["out"], rtol=1e-6, err_msg=kw)


def test_lookup_live(keras_tf):
    for kw in [dict(vocabulary=["x", "a", "b"], num_oov_indices=2), dict(output_mode="count", max_tokens=5)]:
        ours, theirs = layers.StringLookup(**kw), keras_tf.layers.StringLookup(**kw)
        if "vocabulary" not in kw:
            ours.adapt(np.array(DATA)), theirs.adapt(np.array(DATA))
        np.testing.assert_array_equal(_np(ours(np.array(INP))), _np(theirs(np.array(INP))))
        assert ours.get_config() == {**theirs.get_config(), "dtype": "float32", "name": ours.name}


def test_lookup_given_vocabulary_invert_and_special_tokens():
    layer = layers.StringLookup(vocabulary=["", "[UNK]", "x", "a"], mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "a"] and layer.vocabulary_size() == 4
    np.testing.assert_array_equal(_np(layer(np.array([["a", ""], ["zz", "x"]]))), [[3, 0], [1, 2]])
    inverse = layers.StringLookup(vocabulary=["x", "a", "b"], invert=True, mask_token="M")
    np.testing.assert_array_equal(inverse(np.array([0, 1, 2, 3, 9])), ["M", "[UNK]", "x", "a", "[UNK]"])
    ints = layers.IntegerLookup(vocabulary=[5, 9], invert=True)
    np.testing.assert_array_equal(_np(ints(np.array([[0, 1, 2, 3]]))), [[-1, 5, 9, -1]])
    tfidf = layers.StringLookup(vocabulary=["x", "a", "b"], output_mode="tf_idf", idf_weights=[0.5, 1.0, 2.0])
    # the OOV slot gets the mean idf, as Keras pads it
    np.testing.assert_allclose(_np(tfidf(np.array([["a", "a", "q"]]))), [[7 / 6, 0, 2.0, 0]], rtol=1e-6)
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["a", "b"]))


def test_lookup_config_round_trip_and_errors():
    layer = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], mask_token=0, num_oov_indices=2)
    config = layer.get_config()
    assert config["vocabulary"] == [12, 36, 1138, 42] and config["vocabulary_size"] == 7
    clone = layers.IntegerLookup.from_config(config)
    np.testing.assert_array_equal(_np(clone(IINP)), _np(layer(IINP)))
    s = layers.StringLookup(vocabulary=["a", "b"], output_mode="one_hot")
    clone = layers.deserialize(layers.serialize(s))
    assert type(clone) is layers.StringLookup and clone.get_vocabulary() == s.get_vocabulary()
    with pytest.raises(ValueError, match="output_mode"):
        layers.StringLookup(output_mode="onehot")
    with pytest.raises(ValueError, match="repeated"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens=1"):
        layers.IntegerLookup(max_tokens=1)
    with pytest.raises(ValueError, match="vocabulary_dtype"):
        layers.IntegerLookup(vocabulary_dtype="int32")
    with pytest.raises(RuntimeError, match="vocabulary before calling"):
        layers.StringLookup(output_mode="multi_hot")(np.array(["a"]))


def test_lookup_assets_round_trip(tmp_path):
    layer = layers.StringLookup(num_oov_indices=2, mask_token="")
    layer.adapt(np.array(DATA))
    layer.save_assets(str(tmp_path))
    fresh = layers.StringLookup(num_oov_indices=2, mask_token="")
    fresh.load_assets(str(tmp_path))
    assert fresh.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(_np(fresh(np.array(INP))), _np(layer(np.array(INP))))


# ---------------------------------------------------------------------------- CategoryEncoding, Discretization
def test_category_encoding_matches_keras(real_keras):
    x = np.array([[0, 1, 3], [2, 2, 2], [3, 0, 1]])
    for mode in ("multi_hot", "count", "one_hot", "binary"):
        ours = layers.CategoryEncoding(4, output_mode=mode)
        theirs = real_keras.layers.CategoryEncoding(4, output_mode=mode)
        np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)))
        np.testing.assert_allclose(_np(ours(x[:, :1])), _np(theirs(x[:, :1])))
        np.testing.assert_allclose(_np(ours(x[0])), _np(theirs(x[0])))
    w = np.array([[0.5, 1.0, 2.0], [1.0, 1.0, 0.25], [3.0, 0.0, 1.0]], dtype="float32")
    np.testing.assert_allclose(
        _np(layers.CategoryEncoding(4, output_mode="count")(x, count_weights=w)),
        _np(real_keras.layers.CategoryEncoding(4, output_mode="count")(x, count_weights=w)),
    )
    assert {k: v for k, v in layers.CategoryEncoding(4).get_config().items() if k not in ("name", "dtype")} == {
        k: v for k, v in real_keras.layers.CategoryEncoding(4).get_config().items() if k not in ("name", "dtype")
    }
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding(0)
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(4)(x, count_weights=w)


def test_discretization_matches_keras(real_keras):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 5)).astype("float32")
    for mode in ("int", "one_hot", "multi_hot", "count"):
        ours = layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5], output_mode=mode)
        theirs = real_keras.layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5], output_mode=mode)
        xx = x if mode != "one_hot" else x[:, :1]
        out = ours(xx)
        np.testing.assert_allclose(_np(out), _np(theirs(xx)))
        assert str(out.dtype).split(".")[-1] == str(_np(theirs(xx)).dtype)
    data = rng.gamma(2.0, size=(500, 3)).astype("float32")
    for kw in [dict(num_bins=4), dict(num_bins=7, epsilon=0.001)]:
        ours, theirs = layers.Discretization(**kw), real_keras.layers.Discretization(**kw)
        ours.adapt(data)
        theirs.update_state(data), theirs.finalize_state()  # Keras's adapt() without its tf.data check
        np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6)
        np.testing.assert_array_equal(_np(ours(data[:20])), _np(theirs(data[:20])))
    batches = [data[:200], data[200:]]
    ours, theirs = layers.Discretization(num_bins=5), real_keras.layers.Discretization(num_bins=5)
    ours.adapt(iter(batches))
    for batch in batches:
        theirs.update_state(batch)
    theirs.finalize_state()
    np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6)
    clone = layers.Discretization.from_config(ours.get_config())
    assert clone.bin_boundaries == ours.bin_boundaries and clone.num_bins == 5
    with pytest.raises(ValueError, match="num_bins"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=3)
    with pytest.raises(ValueError, match="adapt"):
        layers.Discretization(num_bins=3)(x)


def test_model_with_preprocessing_layers_saves_and_loads(tmp_path, real_keras):
    inputs = strided.Input((4,))
    x = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])(inputs)
    outputs = layers.CategoryEncoding(4, output_mode="count")(x)
    model = strided.Model(inputs, outputs)
    assert tuple(model.output_shape) == (None, 4)
    data = np.array([[-1.0, 0.5, 1.5, 2.5], [0.0, 0.0, 3.0, -2.0]], dtype="float32")
    path = str(tmp_path / "pre.keras")
    model.save(path)
    np.testing.assert_allclose(
        _np(strided.models.load_model(path).predict(data, verbose=0)), _np(model.predict(data, verbose=0))
    )
    theirs = real_keras.models.load_model(path)
    np.testing.assert_allclose(_np(theirs.predict(data, verbose=0)), _np(model.predict(data, verbose=0)))
    # integer lookups and hashing inside a model, through save/load
    ints = strided.Input((3,), dtype="int64")
    looked = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], output_mode="multi_hot")(ints)
    hashed = layers.Hashing(5, output_mode="count")(ints)
    model = strided.Model(ints, layers.Concatenate()([looked, hashed]))
    path = str(tmp_path / "lookup.keras")
    model.save(path)
    x = np.array([[12, 42, 7], [36, 36, 1138]])
    np.testing.assert_allclose(
        _np(strided.models.load_model(path).predict(x, verbose=0)), _np(model.predict(x, verbose=0))
    )


# ---------------------------------------------------------------------------- CLAHE, AlphaDropout
def test_clahe_matches_keras(real_keras):
    rng = np.random.default_rng(0)
    cases = [
        ((2, 16, 16, 3), {}),
        ((1, 13, 21, 1), dict(tile_grid_size=(4, 3))),
        ((15, 10, 2), dict(clip_limit=0)),
        ((2, 9, 9, 3), dict(value_range=(0, 1), tile_grid_size=(2, 2), clip_limit=40.0)),
    ]
    for shape, kw in cases:
        x = rng.uniform(0, kw.get("value_range", (0, 255))[1], size=shape).astype("float32")
        np.testing.assert_allclose(
            _np(layers.ContrastLimitedAdaptiveHistogramEqualization(**kw)(x)),
            _np(real_keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kw)(x)),
            rtol=1e-5,
            atol=1e-3,
        )
    x = rng.integers(0, 256, size=(1, 12, 12, 3)).astype("uint8")
    out = layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 3))(x)
    np.testing.assert_array_equal(
        _np(out), _np(real_keras.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 3))(x))
    )
    layer = layers.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=2.0)
    assert layers.ContrastLimitedAdaptiveHistogramEqualization.from_config(layer.get_config()).clip_limit == 2.0
    with pytest.raises(ValueError, match="tile_grid_size"):
        layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 8))


def test_alpha_dropout(real_keras):
    x = torch.randn(4000, 8)
    layer = layers.AlphaDropout(0.2, seed=1)
    np.testing.assert_array_equal(_np(layer(x)), _np(x))  # inference: identity
    y = layer(x, training=True)
    # SELU-normalized statistics are kept (mean 0, variance 1), as Alpha Dropout promises
    assert abs(float(y.mean())) < 0.05 and abs(float(y.var()) - 1) < 0.05
    # every output is one of the two affine images of Keras's formula: a*x + b (kept) or a*alpha_p + b (dropped)
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p**2)) ** -0.5
    b = -a * alpha_p * 0.2
    kept = torch.isclose(y, a * x + b, atol=1e-6)
    dropped = torch.isclose(y, torch.full_like(y, a * alpha_p + b), atol=1e-6)
    assert bool((kept | dropped).all()) and 0.17 < float(dropped.float().mean()) < 0.23
    ours = layers.AlphaDropout(0.3, noise_shape=(None, 1), seed=2).get_config()
    theirs = real_keras.layers.AlphaDropout(0.3, noise_shape=(None, 1), seed=2).get_config()
    assert {k: ours[k] for k in ("rate", "seed")} == {k: theirs[k] for k in ("rate", "seed")}
    with pytest.raises(ValueError, match="rate=1.5"):
        layers.AlphaDropout(1.5)


# ---------------------------------------------------------------------------- plumbing
def test_pipeline_matches_keras_and_round_trips(real_keras):
    x = np.array([[-1.0, 0.2, 1.7], [3.0, 0.1, 0.0]], dtype="float32")
    ours = layers.Pipeline([layers.Discretization(bin_boundaries=[0.0, 1.0]), layers.CategoryEncoding(3)])
    theirs = real_keras.layers.Pipeline(
        [real_keras.layers.Discretization(bin_boundaries=[0.0, 1.0]), real_keras.layers.CategoryEncoding(3)]
    )
    np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)))
    clone = layers.Pipeline.from_config(ours.get_config())
    assert [type(l).__name__ for l in clone.layers] == ["Discretization", "CategoryEncoding"]
    np.testing.assert_allclose(_np(clone(x)), _np(ours(x)))
    # a config written by strided is read by real Keras
    keras_clone = real_keras.layers.Pipeline.from_config(json.loads(json.dumps(ours.get_config())))
    np.testing.assert_allclose(_np(keras_clone(x)), _np(ours(x)))
    strings = layers.Pipeline([layers.StringLookup(vocabulary=["a", "b"]), layers.CategoryEncoding(3)])
    np.testing.assert_allclose(_np(strings(np.array([["a", "zz"], ["b", "b"]]))), [[1, 1, 0], [0, 0, 1]])
    with pytest.raises(TypeError, match="layers"):
        layers.Pipeline([lambda x: x])


def test_input_spec_wrapper_serialize(real_keras):
    spec = layers.InputSpec(shape=(None, 28, 28, 1), axes={-1: 1})
    theirs = real_keras.layers.InputSpec(shape=(None, 28, 28, 1), axes={-1: 1})
    assert repr(spec) == repr(theirs) and spec.get_config() == theirs.get_config()
    spec.check((8, 28, 28, 1))
    with pytest.raises(ValueError, match="expected ndim=4"):
        spec.check((28, 28, 1))
    with pytest.raises(TypeError, match="axes"):
        layers.InputSpec(axes={"a": 1})

    class Twice(layers.Wrapper):
        def call(self, inputs):
            return self.layer(self.layer(inputs))

    inner = layers.Dense(3, kernel_initializer="identity", use_bias=False)
    wrapped = Twice(inner)
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_allclose(_np(wrapped(x)), x)
    assert wrapped.get_config()["layer"]["class_name"] == "Dense"
    clone = Twice.from_config(wrapped.get_config())
    assert clone.layer.units == 3 and clone.layer is not inner
    with pytest.raises(ValueError, match="Wrapper"):
        layers.Wrapper("dense")

    config = layers.serialize(layers.Dense(4, activation="relu", name="d"))
    assert set(config) >= {"module", "class_name", "config", "registered_name"}
    assert real_keras.layers.deserialize(config).get_config()["units"] == 4  # real Keras reads it
    back = layers.deserialize(real_keras.layers.serialize(real_keras.layers.Dense(4, activation="relu")))
    assert isinstance(back, layers.Dense) and back.units == 4
    with pytest.raises(ValueError, match="Unknown layer"):
        layers.deserialize({"class_name": "NoSuchLayer", "config": {}})
    with pytest.raises(TypeError, match="expects a layer"):
        layers.serialize("dense")


def test_adapted_vocabularies_travel_in_keras_files_as_assets(tmp_path):
    import zipfile

    ids = strided.Input((2,), dtype="int64")
    lookup = layers.IntegerLookup(output_mode="multi_hot", name="ids")
    lookup.adapt(np.array([[7, 3], [7, 9], [3, 7]]))
    functional = strided.Model(ids, lookup(ids))
    sequential = strided.Sequential([strided.Input((2,), dtype="int64"), layers.IntegerLookup(name="more_ids")])
    sequential.layers[0].adapt(np.array([[5, 5], [8, 5], [1, 8]]))
    x = np.array([[9, 7], [1, 3], [5, 8]])
    for model in (functional, sequential):
        path = str(tmp_path / f"{model.name}.keras")
        model.save(path)
        names = zipfile.ZipFile(path).namelist()
        assert any(n.startswith("assets/layers/") and n.endswith("/vocabulary.txt") for n in names), names
        back = strided.models.load_model(path)
        assert back.layers[-1].get_vocabulary() == model.layers[-1].get_vocabulary() != []
        np.testing.assert_array_equal(_np(back.predict(x, verbose=0)), _np(model.predict(x, verbose=0)))
