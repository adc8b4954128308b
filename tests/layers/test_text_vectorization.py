"""Text in strided: ``TextVectorization`` and ``Input(dtype="string")`` models.

Keras runs TextVectorization through TensorFlow, which the test environment does not have: the expected
values in ``_GOLDENS`` were produced by real Keras 3.15.1 (torch backend) with TensorFlow 2.21 installed
(vocabularies and outputs of ``adapt`` on CORPUS then a call on INP, the config of an adapted layer, and the
file and weight-group names of a saved model); when TensorFlow is importable the same cases are also
compared live, and Keras loads a strided-saved model.
"""

import io
import json
import zipfile

import numpy as np
import pytest
import torch

import strided as keras
from strided import layers
from strided.data.data_adapter import ArrayAdapter

CORPUS = [
    "The cat sat on the mat.",
    "The dog ate my HOMEWORK!!",
    "\u00c9cole:  na\u00efve caf\u00e9\tthe cat",
    "a-b c,d  e.f 'quoted' \"double\"",
    "cat cat dog\xa0bird",
    "",
]
INP = ["the cat ate the bird", "Zebra? The  MAT!", "", "caf\u00e9 \u00c9cole na\u00efve", "dog\xa0bird mat"]

_GOLDENS = json.loads(
    '{"default":{"kw":{},"vocab":["","[UNK]","the","cat","\\u00c9cole","sat","quoted","on","na\\u00efve","my","mat"'
    ',"homework","ef","double","dog\\u00a0bird","dog","cd","caf\\u00e9","ate","ab"],"out":[[2,3,18,2,1],[1,2,10,0,0'
    '],[0,0,0,0,0],[17,4,8,0,0],[14,10,0,0,0]]},"seq6":{"kw":{"output_sequence_length":6},"vocab":["","[UNK]","th'
    'e","cat","\\u00c9cole","sat","quoted","on","na\\u00efve","my","mat","homework","ef","double","dog\\u00a0bird","'
    'dog","cd","caf\\u00e9","ate","ab"],"out":[[2,3,18,2,1,0],[1,2,10,0,0,0],[0,0,0,0,0,0],[17,4,8,0,0,0],[14,10,0'
    ',0,0,0]]},"seq2":{"kw":{"output_sequence_length":2},"vocab":["","[UNK]","the","cat","\\u00c9cole","sat","quot'
    'ed","on","na\\u00efve","my","mat","homework","ef","double","dog\\u00a0bird","dog","cd","caf\\u00e9","ate","ab"]'
    ',"out":[[2,3],[1,2],[0,0],[17,4],[14,10]]},"lower":{"kw":{"standardize":"lower"},"vocab":["","[UNK]","the","'
    'cat","\\u00c9cole:","sat","on","na\\u00efve","my","mat.","homework!!","e.f","dog\\u00a0bird","dog","caf\\u00e9",'
    '"c,d","ate","a-b","\'quoted\'","\\"double\\""],"out":[[2,3,16,2,1],[1,2,1,0,0],[0,0,0,0,0],[14,1,7,0,0],[12,1,0,'
    '0,0]]},"strip":{"kw":{"standardize":"strip_punctuation"},"vocab":["","[UNK]","cat","the","The","\\u00c9cole",'
    '"sat","quoted","on","na\\u00efve","my","mat","ef","double","dog\\u00a0bird","dog","cd","caf\\u00e9","ate","ab",'
    '"HOMEWORK"],"out":[[3,2,18,3,1],[1,4,1,0,0],[0,0,0,0,0],[17,5,9,0,0],[14,11,0,0,0]]},"none":{"kw":{"standard'
    'ize":null},"vocab":["","[UNK]","cat","the","The","\\u00c9cole:","sat","on","na\\u00efve","my","mat.","e.f","do'
    'g\\u00a0bird","dog","caf\\u00e9","c,d","ate","a-b","HOMEWORK!!","\'quoted\'","\\"double\\""],"out":[[3,2,16,3,1],['
    '1,4,1,0,0],[0,0,0,0,0],[14,1,8,0,0],[12,1,0,0,0]]},"char":{"kw":{"split":"character","max_tokens":12},"vocab'
    '":["","[UNK]"," ","t","e","a","o","c","d","h","m","b"],"out":[[3,9,4,2,7,5,3,2,5,3,4,2,3,9,4,2,11,1,1,8],[1,'
    "4,11,1,5,2,3,9,4,2,2,10,5,3,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[7,5,1,1,2,1,7,6,1,4,2,1,"
    '5,1,1,4,0,0,0,0],[8,6,1,1,11,1,1,8,2,10,5,3,0,0,0,0,0,0,0,0]]},"ngrams2":{"kw":{"ngrams":2},"vocab":["","[UN'
    'K]","the","cat","the cat","\\u00c9cole na\\u00efve","\\u00c9cole","the mat","the dog","sat on","sat","quoted do'
    'uble","quoted","on the","on","na\\u00efve caf\\u00e9","na\\u00efve","my homework","my","mat","homework","ef quo'
    'ted","ef","double","dog\\u00a0bird","dog ate","dog","cd ef","cd","cat sat","cat dog\\u00a0bird","cat cat","caf'
    '\\u00e9 the","caf\\u00e9","ate my","ate","ab cd","ab"],"out":[[2,3,35,2,1,4,1,1,1],[1,2,19,1,7,0,0,0,0],[0,0,0'
    ',0,0,0,0,0,0],[33,6,16,1,5,0,0,0,0],[24,19,1,0,0,0,0,0,0]]},"ngrams21":{"kw":{"ngrams":[2,1],"max_tokens":10'
    '},"vocab":["","[UNK]","the","cat","the cat","\\u00c9cole na\\u00efve","\\u00c9cole","the mat","the dog","sat on'
    '"],"out":[[4,1,1,1,2,3,1,2,1],[1,7,1,2,1,0,0,0,0],[0,0,0,0,0,0,0,0,0],[1,5,1,6,1,0,0,0,0],[1,1,1,0,0,0,0,0,0'
    ']]},"ngrams3_nosplit":{"kw":{"ngrams":2,"split":null},"vocab":["","[UNK]","\\u00c9cole  na\\u00efve caf\\u00e9\\'
    'tthe cat","the dog ate my homework","the cat sat on the mat","cat cat dog\\u00a0bird","ab cd  ef quoted doubl'
    'e"],"out":[1,1,0,1,1,1,1,1,1]},"nosplit":{"kw":{"split":null},"vocab":["","[UNK]","\\u00c9cole  na\\u00efve ca'
    'f\\u00e9\\tthe cat","the dog ate my homework","the cat sat on the mat","cat cat dog\\u00a0bird","ab cd  ef quot'
    'ed double"],"out":[1,1,0,1,1]},"multi_hot":{"kw":{"output_mode":"multi_hot"},"vocab":["[UNK]","the","cat","\\'
    'u00c9cole","sat","quoted","on","na\\u00efve","my","mat","homework","ef","double","dog\\u00a0bird","dog","cd","'
    'caf\\u00e9","ate","ab"],"out":[[1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0],[1,1,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0'
    "],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,0,0,1,0,0,0,1,0,0,0,0,0,0,0,0,1,0,0],[0,0,0,0,0,0,0,0,0,1,0,0,0"
    ',1,0,0,0,0,0]]},"count":{"kw":{"output_mode":"count","max_tokens":6},"vocab":["[UNK]","the","cat","\\u00c9col'
    'e","sat","quoted"],"out":[[2,2,1,0,0,0],[2,1,0,0,0,0],[0,0,0,0,0,0],[2,0,0,1,0,0],[2,0,0,0,0,0]]},"tf_idf":{'
    '"kw":{"output_mode":"tf_idf"},"vocab":["[UNK]","the","cat","\\u00c9cole","sat","quoted","on","na\\u00efve","my'
    '","mat","homework","ef","double","dog\\u00a0bird","dog","cd","caf\\u00e9","ate","ab"],"out":[[1.33407175540924'
    "07,1.8325815200805664,0.9162907600402832,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.386294364"
    "9291992,0.0],[1.3340717554092407,0.9162907600402832,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0"
    ".0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0"
    ".0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291"
    "992,0.0,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,"
    '0.0,0.0,0.0]]},"tf_idf_pad":{"kw":{"output_mode":"tf_idf","max_tokens":20,"pad_to_max_tokens":true},"vocab":'
    '["[UNK]","the","cat","\\u00c9cole","sat","quoted","on","na\\u00efve","my","mat","homework","ef","double","dog\\'
    'u00a0bird","dog","cd","caf\\u00e9","ate","ab"],"out":[[1.3340717554092407,1.8325815200805664,0.91629076004028'
    "32,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291992,0.0,0.0],[1.3340717554092407,0"
    ".9162907600402832,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0"
    ".0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0],[0.0,0.0,0.0,1.3862943649291"
    "992,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0],[0.0,0.0,"
    '0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,1.3862943649291992,0.0,0.0,0.0,0.0,0.0,0.0]]},"mu'
    'lti_hot_pad":{"kw":{"output_mode":"multi_hot","max_tokens":20,"pad_to_max_tokens":true},"vocab":["[UNK]","th'
    'e","cat","\\u00c9cole","sat","quoted","on","na\\u00efve","my","mat","homework","ef","double","dog\\u00a0bird","'
    'dog","cd","caf\\u00e9","ate","ab"],"out":[[1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0],[1,1,0,0,0,0,0,0,0,1,0,0,'
    "0,0,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,0,0,1,0,0,0,1,0,0,0,0,0,0,0,0,1,0,0,0],[0,0,0,"
    '0,0,0,0,0,0,1,0,0,0,1,0,0,0,0,0,0]]},"maxtok":{"kw":{"max_tokens":5,"output_sequence_length":4},"vocab":["",'
    '"[UNK]","the","cat","\\u00c9cole"],"out":[[2,3,1,2],[1,2,1,0],[0,0,0,0],[1,4,1,0],[1,1,0,0]]},"vocab":{"kw":{'
    '"vocabulary":["the","cat","dog","mat"]},"vocab":["","[UNK]","the","cat","dog","mat"],"out":[[2,3,1,2,1],[1,2'
    ',5,0,0],[0,0,0,0,0],[1,1,1,0,0],[1,5,0,0,0]]},"vocab_idf":{"kw":{"vocabulary":["the","cat","dog"],"idf_weigh'
    'ts":[0.5,1.5,2.5],"output_mode":"tf_idf"},"vocab":["[UNK]","the","cat","dog"],"out":[[3.0,1.0,1.5,0.0],[3.0,'
    '0.5,0.0,0.0],[0.0,0.0,0.0,0.0],[4.5,0.0,0.0,0.0],[3.0,0.0,0.0,0.0]]},"rank2":[[2,3,18,2,1],[1,2,10,0,0],[0,0'
    ',0,0,0],[17,4,8,0,0],[14,10,0,0,0]],"nosplit_rank2":[[1],[1],[0],[1],[1]],"nosplit_multi_hot_rank1":[1,0,0,0'
    ',0,0],"config":{"name":"tv","trainable":true,"dtype":{"module":"keras","class_name":"DTypePolicy","config":{'
    '"name":"float32"},"registered_name":null},"max_tokens":50,"standardize":"lower_and_strip_punctuation","split'
    '":"whitespace","ngrams":[1,2],"output_mode":"int","output_sequence_length":7,"pad_to_max_tokens":false,"spar'
    'se":false,"ragged":false,"vocabulary":null,"idf_weights":null,"encoding":"utf-8","vocabulary_size":38},"zip"'
    ':["metadata.json","config.json","model.weights.h5","assets/layers/text_vectorization/_lookup_layer/vocabular'
    'y.txt","assets/layers/text_vectorization/vocabulary.txt"],"h5":["layers","layers/dense","layers/dense/vars",'
    '"layers/dense/vars/0","layers/dense/vars/1","layers/embedding","layers/embedding/vars","layers/embedding/var'
    's/0","layers/global_average_pooling1d","layers/global_average_pooling1d/vars","layers/input_layer","layers/i'
    'nput_layer/vars","layers/text_vectorization","layers/text_vectorization/_lookup_layer","layers/text_vectoriz'
    'ation/_lookup_layer/vars","layers/text_vectorization/vars","vars"]}'
)


def _np(x):
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


def _kwargs(kw):
    kw = dict(kw)
    if isinstance(kw.get("ngrams"), list):
        kw["ngrams"] = tuple(kw["ngrams"])
    return kw


def _case_names():
    return [k for k, v in _GOLDENS.items() if isinstance(v, dict) and "kw" in v]


# ---------------------------------------------------------------------------- TextVectorization numbers
@pytest.mark.parametrize("case", _case_names())
def test_text_vectorization_matches_keras_goldens(case):
    expected = _GOLDENS[case]
    kw = _kwargs(expected["kw"])
    layer = layers.TextVectorization(**kw)
    if "vocabulary" not in kw:
        layer.adapt(CORPUS)
    assert layer.get_vocabulary() == expected["vocab"]
    out = layer(np.array(INP))
    assert out.dtype == (torch.float32 if layer._output_mode == "tf_idf" else torch.int64)  # as Keras
    np.testing.assert_allclose(_np(out), np.asarray(expected["out"], dtype="float64"), rtol=1e-6, atol=1e-6)


def test_text_vectorization_input_ranks_match_keras():
    layer = layers.TextVectorization()
    layer.adapt(CORPUS)
    np.testing.assert_array_equal(_np(layer(np.array(INP)[:, None])), _GOLDENS["rank2"])
    np.testing.assert_array_equal(_np(layer(INP)), _GOLDENS["rank2"])  # a list of str works too
    layer = layers.TextVectorization(split=None)
    layer.adapt(CORPUS)
    np.testing.assert_array_equal(_np(layer(np.array(INP)[:, None])), _GOLDENS["nosplit_rank2"])
    layer = layers.TextVectorization(split=None, output_mode="multi_hot")
    layer.adapt(CORPUS)
    np.testing.assert_array_equal(_np(layer(np.array(INP))), _GOLDENS["nosplit_multi_hot_rank1"])
    # byte strings (what TensorFlow datasets yield) decode with `encoding`
    layer = layers.TextVectorization(vocabulary=["caf\u00e9", "the"])
    np.testing.assert_array_equal(
        _np(layer(np.array([s.encode() for s in INP[3:]], dtype=object))), [[2, 1, 1], [1, 1, 0]]
    )


@pytest.fixture
def keras_tf(real_keras):
    """Real Keras with TensorFlow importable (its TextVectorization needs TF)."""
    pytest.importorskip("tensorflow")
    return real_keras


def test_text_vectorization_live_against_keras(keras_tf):
    for case in _case_names():
        kw = _kwargs(_GOLDENS[case]["kw"])
        ours, theirs = layers.TextVectorization(**kw), keras_tf.layers.TextVectorization(**kw)
        if "vocabulary" not in kw:
            ours.adapt(CORPUS)
            theirs.adapt(CORPUS)
        assert ours.get_vocabulary() == [str(t) for t in theirs.get_vocabulary()], case
        np.testing.assert_allclose(_np(ours(np.array(INP))), np.asarray(theirs(np.array(INP))), rtol=1e-6)


def test_text_vectorization_hand_checked_case():
    # Independent of the goldens: ASCII-only lowercasing, punctuation stripped, ASCII whitespace split,
    # vocabulary by count then by token descending, 0 padding and 1 for unknown words.
    layer = layers.TextVectorization(output_sequence_length=5)
    layer.adapt(["B b, a!", "C\u00c9 b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "c\u00c9", "a"]
    np.testing.assert_array_equal(_np(layer(["a  B\tzz cÉ\u00a0x"])), [[4, 2, 1, 1, 0]])
    bigrams = layers.TextVectorization(ngrams=(2,), vocabulary=["a b", "b c"], standardize=None)
    np.testing.assert_array_equal(_np(bigrams(["a b c d", "b"])), [[2, 3, 1], [0, 0, 0]])


def test_callables_vocabulary_file_and_tf_idf(tmp_path):
    def upper(x):
        return np.char.upper(x)

    def on_commas(x):
        return [s.split(",") for s in x.tolist()]

    layer = layers.TextVectorization(standardize=upper, split=on_commas)
    layer.adapt(["a,b,b", "c,b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    np.testing.assert_array_equal(_np(layer(["b,a", "x"])), [[2, 4], [1, 0]])
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("the\ncat\n", encoding="utf-8")
    layer = layers.TextVectorization(vocabulary=str(vocab_file))
    assert layer.get_vocabulary(include_special_tokens=False) == ["the", "cat"]
    layer.set_vocabulary(["dog", "the"])
    np.testing.assert_array_equal(_np(layer(["The dog"])), [[3, 2]])
    assert layer.vocabulary_size() == 4
    # tf_idf with given weights: count x idf, the OOV weight the mean of the given ones
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.set_vocabulary(["x", "y"], idf_weights=[1.0, 3.0])
    np.testing.assert_allclose(_np(layer(["x x y z"])), [[2.0, 2.0, 3.0]])


def test_adapt_from_batches_with_steps():
    batches = [np.array(["a a b"]), np.array(["b c", "c c c"]), np.array(["z z z z z"])]
    layer = layers.TextVectorization()
    layer.adapt(iter(batches), steps=2)
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "b", "a"]


def test_symbolic_shapes_and_config_round_trip():
    layer = layers.TextVectorization(max_tokens=50, ngrams=(1, 2), output_sequence_length=7, name="tv")
    layer.adapt(CORPUS)
    expected = dict(_GOLDENS["config"])
    config = layer.get_config()
    assert config.pop("dtype") == "float32" and expected.pop("dtype")["config"]["name"] == "float32"
    config["ngrams"] = list(config["ngrams"])
    assert config == expected
    clone = layers.TextVectorization.from_config(layer.get_config())
    assert clone._ngrams == (1, 2)
    clone.set_vocabulary(layer.get_vocabulary())
    np.testing.assert_array_equal(_np(clone(INP)), _np(layer(INP)))
    text = keras.Input(shape=(1,), dtype="string")
    assert text.dtype == "string" and text.shape == (None, 1)
    assert layer(text).shape == (None, 7) and layer(text).dtype == "int64"
    free = layers.TextVectorization(vocabulary=["a"])
    assert free(text).shape == (None, None)
    assert free(keras.Input(shape=(), dtype="string", batch_size=4)).shape == (4, None)
    hot = layers.TextVectorization(vocabulary=["a", "b"], output_mode="multi_hot")
    assert hot(text).shape == (None, 3) and hot(text).dtype == "float32"
    assert hot.compute_output_shape((None, 1)) == (None, 3)


# ---------------------------------------------------------------------------- string inputs in models
TEXTS = [
    "great movie",
    "loved it",
    "awful film",
    "terrible plot",
    "great acting",
    "bad movie",
    "loved the plot",
    "awful acting",
]
LABELS = np.array([1, 1, 0, 0, 1, 0, 1, 0], dtype="float32")


def _classifier(seed=0):
    keras.utils.set_random_seed(seed)
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(TEXTS)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = vectorize(inputs)
    x = layers.Embedding(20, 8)(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def test_text_classifier_trains_with_fit(tmp_path):
    model = _classifier()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(np.array(TEXTS)[:, None], LABELS, epochs=25, batch_size=4, shuffle=True, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] == 1.0
    loss, accuracy = model.evaluate(TEXTS, LABELS, verbose=0)  # a list of str, shape (batch,): axis added
    assert accuracy == 1.0
    probs = model.predict(np.array(TEXTS), batch_size=3, verbose=0)
    assert probs.shape == (8, 1) and ((probs[:, 0] > 0.5) == (LABELS == 1)).all()
    direct = model(np.array(TEXTS[:2])[:, None])
    assert not direct.requires_grad
    np.testing.assert_allclose(_np(direct), probs[:2], rtol=1e-5, atol=1e-6)
    # .keras round trip keeps the adapted vocabulary (assets) and the numbers
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[1].get_vocabulary() == model.layers[1].get_vocabulary()
    np.testing.assert_allclose(loaded.predict(np.array(TEXTS), verbose=0), probs, rtol=1e-6, atol=1e-7)
    # the archive holds what Keras writes for such a model (vocabulary in the layer's and its lookup's
    # asset folders, an h5 group for the inner lookup layer)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted(_GOLDENS["zip"])
        h5py = pytest.importorskip("h5py")
        names = []
        h5py.File(io.BytesIO(z.read("model.weights.h5")), "r").visit(names.append)
        assert [n for n in names if not n.startswith("optimizer")] == _GOLDENS["h5"]
        config = json.loads(z.read("config.json"))["config"]["layers"]
        assert config[0]["config"]["dtype"] == "string"


def test_gradients_reach_the_embedding_through_string_inputs():
    model = _classifier()
    out = model(np.array(TEXTS)[:, None], training=True)
    out.sum().backward()
    grad = model.layers[2].embeddings.grad
    ids = _np(model.layers[1](np.array(TEXTS)))
    used = np.zeros(20, bool)
    used[np.unique(ids)] = True
    assert grad is not None and (_np(grad).any(axis=1) == used).all()


def test_keras_loads_strided_text_model(keras_tf, tmp_path):
    model = _classifier()
    path = tmp_path / "text.keras"
    model.save(path)
    theirs = keras_tf.saving.load_model(path)
    x = theirs.layers[1](np.array(TEXTS)[:, None])
    for layer in theirs.layers[2:]:
        x = layer(x)
    np.testing.assert_allclose(np.asarray(x.detach()), model.predict(np.array(TEXTS), verbose=0), rtol=1e-5)


def test_lookup_and_hashing_take_string_inputs_in_models():
    inputs = keras.Input(shape=(2,), dtype="string")
    ids = layers.StringLookup(vocabulary=["red", "green"])(inputs)
    hashed = layers.Hashing(num_bins=5)(inputs)
    model = keras.Model(inputs, [ids, hashed])
    x = np.array([["red", "blue"], ["green", "red"]])
    got_ids, got_hash = model.predict(x, verbose=0)
    np.testing.assert_array_equal(got_ids, [[1, 0], [2, 1]])
    np.testing.assert_array_equal(got_hash, _np(layers.Hashing(num_bins=5)(x)))
    seq = keras.Sequential(
        [keras.Input(shape=(1,), dtype="string"), layers.StringLookup(vocabulary=["a", "b"]), layers.Embedding(3, 2)]
    )
    assert seq.predict([["b"], ["q"]], verbose=0).shape == (2, 1, 2)


def test_string_batches_stay_paired_with_labels_when_shuffled():
    x = np.array([f"text {i}" for i in range(10)])
    adapter = ArrayAdapter(x, np.arange(10), batch_size=3, shuffle=True, device=torch.device("cpu"))
    seen = []
    for bx, by in adapter.make_iterator():
        assert isinstance(bx, np.ndarray) and bx.dtype.kind == "U"
        assert [f"text {i}" for i in by.tolist()] == bx.tolist()
        seen.extend(by.tolist())
    assert sorted(seen) == list(range(10)) and seen != list(range(10))


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"standardize": "upper"}, r"Unknown value for `standardize` argument of TextVectorization.*standardize=upper"),
        ({"split": "comma"}, r"Unknown value for `split` argument.*split=comma"),
        ({"output_sequence_length": 2.5}, r"`output_sequence_length` must be either None or an integer.*=2.5"),
        ({"output_mode": "count", "output_sequence_length": 3}, r"must not be set if `output_mode` is not 'int'"),
        ({"output_mode": "sum"}, r"Unknown value for `output_mode`.*output_mode=sum"),
        ({"ngrams": [1, 2]}, r"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams=\[1, 2\]"),
        ({"ragged": True}, r"`ragged=True` can only be used with the TensorFlow backend"),
        ({"output_mode": "tf_idf", "vocabulary": ["a"]}, r"the `idf_weights` argument must also be provided"),
        ({"max_tokens": 1}, r"`max_tokens` must be greater than 1. Received: max_tokens=1"),
    ],
)
def test_text_vectorization_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.TextVectorization(**kwargs)


def test_call_and_graph_errors():
    layer = layers.TextVectorization(vocabulary=["a"])
    with pytest.raises(
        ValueError,
        match=r"input rank must be 1 or the last shape dimension must be 1. "
        r"Received: inputs.shape=\(1, 2\)",
    ):
        layer(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"last shape dimension must be 1"):
        layer(keras.Input(shape=(3,), dtype="string"))
    with pytest.raises(TypeError, match=r"expects strings. Received inputs of dtype float"):
        layer(np.zeros((2, 1)))
    with pytest.raises(TypeError, match=r"string tensor \(dtype='string'\) cannot go through"):
        layers.Dense(3)(keras.Input(shape=(1,), dtype="string"))
    with pytest.raises(RuntimeError, match=r"must set the layer's vocabulary before calling it"):
        layers.TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(TypeError, match=r"Invalid dtype for `y`"):
        ArrayAdapter(np.zeros((2, 1)), np.array(["a", "b"]))
