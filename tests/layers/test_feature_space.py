"""utils.FeatureSpace: structured-data preprocessing, compared with real Keras 3.15.

Keras's FeatureSpace needs TensorFlow (tf.data, TF string ops), which the test environment does not have:
the expected values in ``_GOLDENS`` were produced by real Keras 3.15.1 (torch backend) with TensorFlow 2.21
installed (`/tmp/tfsite`): ``adapt`` on ``DATA`` then a call on ``QUERY`` (batched and one unbatched sample),
the adapted state (vocabularies, bin boundaries, mean and variance), the encoded symbolic shapes, the
``.keras`` file's weight groups and asset files, and the config of the "basic" case. When TensorFlow is
importable (``PYTHONPATH=/tmp/tfsite``) the same cases are also compared live and each library loads the
other's saved file. ``test_hand_computed_case`` checks a small string case whose values were worked out by
hand from Keras's documented rules (vocabulary by count, ties by the larger token; features sorted by name,
then crosses; one-hot of the lookup index).
"""

import json
import zipfile

import numpy as np
import pytest
import torch

import strided as keras
from strided.utils import FeatureSpace
from strided.layers.feature_space import Cross, Feature

_GOLDENS = json.loads(
    '{"data":{"age":[22.73,66.35,45.18,62.85,78.64,51.39,49.07,22.47,34.64,48.99,60.11,67.83,41.62,22.09,35.87,74'
    ".39,31.23,46.03,75.73,19.54,55.23,76.91,32.28,52.01,74.37,26.26,50.45,64.53,59.48,47,30.7,48.43,41.09,47.6,4"
    "0.69,69.95,65.66,37.47,53.5,35.12,46.08,39.88,58.76,40.96,46.46,62.6,43.61,74.2,29.19,63.95,44.19,44.44,57.3"
    '3,50.42,43.72,18.09,23.72,61.98,50.51,61.16,77.24,60.34,21.29,37.15,54.74,32.58,77.83,76.59,70.6,47.28],"inc'
    'ome":[13.89,2.985,18.181,109.896,13.689,8.249,6.089,7.029,14.877,6.172,89.805,15.14,22.391,84.626,90.316,16.'
    "237,27.994,41.889,16.563,3.394,38.656,49.124,30.432,7.976,16.51,11.125,14.884,73.471,92.72,39.229,34.77,39.5"
    "13,19.841,18.622,10.241,18.994,192.471,47.896,14.266,12.529,8.461,29.206,29.712,4.744,32.666,11.365,83.657,2"
    "3.496,111.914,12.703,15.06,27.107,57.74,35.371,5.85,24.117,20.537,13.078,10.505,115.305,13.594,8.62,37.982,2"
    '2.888,18.619,43.873,32.741,28.852,52.678,26.673],"score":[-1.234,-0.725,-1.042,0.419,-2.156,-3.665,0.176,-2.'
    "673,-3.904,0.747,-1.422,0.992,-1.062,-2.244,-2.487,-1.03,-0.547,-1.647,-0.562,-3.072,0.029,-3.587,-0.388,1.3"
    "95,2.184,3.429,-3.113,1.517,2.413,1.961,-1.859,0.824,3.72,-2.995,0.953,2.225,-1.393,1.166,-2.142,-1.624,-1.6"
    "34,0.385,-0.182,1.908,-1.881,-0.263,1.922,1.122,-2.649,1.33,-0.957,0.771,0.601,2.439,0.233,-3.708,-2.74,1.46"
    '2,-0.517,2.276,0.547,-1.498,2.165,-1.615,-4.105,4.128,-3.821,1.273,1.878,0.294],"city":["rome","oslo","baku"'
    ',"paris","paris","rome","oslo","oslo","kyiv","oslo","kyiv","rome","oslo","paris","paris","baku","oslo","pari'
    's","paris","kyiv","paris","lima","paris","baku","oslo","paris","kyiv","oslo","rome","oslo","paris","paris","'
    'paris","paris","paris","paris","kyiv","paris","oslo","paris","paris","lima","kyiv","oslo","paris","baku","pa'
    'ris","oslo","oslo","kyiv","lima","rome","oslo","lima","kyiv","kyiv","rome","paris","paris","oslo","oslo","li'
    'ma","paris","rome","oslo","lima","paris","oslo","paris","paris"],"color":["blue","red","red","red","red","re'
    'd","blue","green","red","red","blue","green","red","green","green","green","red","green","green","blue","blu'
    'e","green","blue","red","green","green","blue","red","green","blue","red","blue","blue","blue","green","gree'
    'n","blue","red","red","red","red","blue","green","blue","green","blue","blue","blue","blue","red","green","r'
    'ed","green","blue","blue","red","red","red","green","green","green","red","green","red","blue","red","blue",'
    '"blue","green","red"],"code":[10,10,20,50,10,10,10,20,10,50,10,20,50,40,10,50,50,20,30,30,30,10,20,10,30,10,'
    "20,10,10,10,50,10,20,10,20,20,10,20,50,20,40,30,30,40,40,50,10,10,10,30,50,40,10,10,30,10,40,20,20,10,30,10,"
    '10,30,10,10,10,30,20,20],"zip":[1086,1053,1087,1043,1052,1010,1008,1075,1039,1056,1067,1071,1016,1070,1007,1'
    "077,1016,1002,1004,1066,1029,1077,1063,1024,1064,1085,1099,1090,1093,1079,1004,1021,1027,1044,1074,1027,1064"
    ",1085,1025,1067,1005,1000,1045,1017,1074,1039,1023,1066,1083,1086,1076,1052,1024,1002,1071,1092,1071,1050,10"
    '60,1035,1096,1025,1041,1084,1058,1051,1005,1054,1035,1079]},"query":{"age":[20.5,79,45,33.3],"income":[5,100'
    ',20,0.5],"score":[-5,0,1.5,7],"city":["paris","tokyo","lima","baku"],"color":["blue","red","pink","green"],"'
    'code":[10,99,40,50],"zip":[1000,1050,5000,1099]},"cases":{"basic":{"out":[[-1.772179,0,1,0,0,0,0,0,0,1,0,0,0'
    ",0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0],[1.772404,1,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0],[-0"
    ".2876954,0,0,0,0,0,1,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1],[-0.996612,0,0,0,0,0,0,1,0,0,0,0,1,0,0,0"
    ',0,0,0,1,0,0,0,0,0,0,0,0,0,0]],"single":[1.772404,1,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0]'
    ',"state":{"age":[49.74814,272.3839],"city":["[UNK]","paris","oslo","kyiv","rome","lima","baku"],"code":[-1,1'
    '0,20,30,50,40]},"encoded_shape":[null,30],"layout":["concat","concat/vars","crossers","crossers/hashed_cross'
    'ing","crossers/hashed_crossing/vars","one_hot_encoders","one_hot_encoders/category_encoding","one_hot_encode'
    'rs/category_encoding/vars","one_hot_encoders/category_encoding_1","one_hot_encoders/category_encoding_1/vars'
    '","one_hot_encoders/category_encoding_2","one_hot_encoders/category_encoding_2/vars","preprocessors","prepro'
    'cessors/integer_lookup","preprocessors/integer_lookup/vars","preprocessors/normalization","preprocessors/nor'
    'malization/vars/0","preprocessors/normalization/vars/1","preprocessors/normalization/vars/2","preprocessors/'
    'normalization/vars","preprocessors/string_lookup","preprocessors/string_lookup/vars","vars"],"assets":["asse'
    'ts/preprocessors/integer_lookup/vocabulary.txt","assets/preprocessors/string_lookup/vocabulary.txt"],"config'
    '":{"module":"keras.utils","class_name":"FeatureSpace","config":{"features":{"age":{"module":"keras.src.layer'
    's.preprocessing.feature_space","class_name":"Feature","config":{"dtype":"float32","preprocessor":{"module":"'
    'keras.layers","class_name":"Normalization","config":{"name":"age_preprocessor","trainable":true,"dtype":{"mo'
    'dule":"keras","class_name":"DTypePolicy","config":{"name":"float32"},"registered_name":null},"axis":[-1],"in'
    'vert":false,"mean":null,"variance":null},"registered_name":null,"build_config":{"input_shape":[null,1]}},"ou'
    'tput_mode":"float"},"registered_name":"Feature"},"city":{"module":"keras.src.layers.preprocessing.feature_sp'
    'ace","class_name":"Feature","config":{"dtype":"string","preprocessor":{"module":"keras.layers","class_name":'
    '"StringLookup","config":{"name":"city_preprocessor","trainable":true,"dtype":{"module":"keras","class_name":'
    '"DTypePolicy","config":{"name":"float32"},"registered_name":null},"invert":false,"max_tokens":null,"num_oov_'
    'indices":1,"oov_token":"[UNK]","mask_token":null,"output_mode":"int","sparse":false,"pad_to_max_tokens":fals'
    'e,"idf_weights":null,"vocabulary":null,"vocabulary_size":7,"oov_method":"floormod","salt":null,"encoding":"u'
    'tf-8"},"registered_name":null,"build_config":{}},"output_mode":"one_hot"},"registered_name":"Feature"},"code'
    '":{"module":"keras.src.layers.preprocessing.feature_space","class_name":"Feature","config":{"dtype":"int32",'
    '"preprocessor":{"module":"keras.layers","class_name":"IntegerLookup","config":{"name":"code_preprocessor","t'
    'rainable":true,"dtype":{"module":"keras","class_name":"DTypePolicy","config":{"name":"float32"},"registered_'
    'name":null},"invert":false,"max_tokens":null,"num_oov_indices":1,"oov_token":-1,"mask_token":null,"output_mo'
    'de":"int","sparse":false,"pad_to_max_tokens":false,"vocabulary_dtype":"int64","idf_weights":null,"vocabulary'
    '":null,"vocabulary_size":6,"oov_method":"floormod","salt":null},"registered_name":null,"build_config":{}},"o'
    'utput_mode":"one_hot"},"registered_name":"Feature"}},"output_mode":"concat","crosses":[{"module":"keras.src.'
    'layers.preprocessing.feature_space","class_name":"Cross","config":{"feature_names":["city","code"],"crossing'
    '_dim":16,"output_mode":"one_hot"},"registered_name":"Cross"}],"crossing_dim":16,"hashing_dim":32,"num_discre'
    'tization_bins":32},"registered_name":null,"build_config":{"age":{"input_shape":[null,1]},"city":{},"code":{}'
    '}}},"all_concat":{"out":[[20.5,0,0,1,0,0,0,0,1,0,0,0,0,0,0,0,1,0,0,-0.95,1,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,0'
    ",1,0,0,0,0,0,0,0],[79,0,1,0,0,1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,1,0,0,0,0,0,1,0,0,0,0,0,1,0,0,0,0,0,0,0,0,1,"
    "0,0],[45,0,1,0,0,0,0,0,0,0,0,0,1,0,0,1,0,0,0,-0.8,0,0,0,0,1,0,0,1,0,0,0,0,0,0,1,0,0,0,0,0,0,1,0,0,0,0],[33.3"
    ',1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,1,0,-0.995,0,0,0,0,1,0,0,0,0,0,1,0,0,0,0,0,1,1,0,0,0,0,0,0,0,0]],"single":['
    '79,0,1,0,0,1,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,1,0,0,0,0,0,1,0,0,0,0,0,1,0,0,0,0,0,0,0,0,1,0,0],"state":{"scor'
    'e":[-2.244,-1.042,0.3849998,1.462],"city":["[UNK]","[UNK]","paris","oslo"],"code":[-1,-1,-1,10,20,30,50,40]}'
    ',"encoded_shape":[null,46],"layout":["concat","concat/vars","crossers","crossers/hashed_crossing","crossers/'
    'hashed_crossing/vars","crossers/hashed_crossing_1","crossers/hashed_crossing_1/vars","one_hot_encoders","one'
    '_hot_encoders/category_encoding","one_hot_encoders/category_encoding/vars","one_hot_encoders/category_encodi'
    'ng_1","one_hot_encoders/category_encoding_1/vars","one_hot_encoders/category_encoding_2","one_hot_encoders/c'
    'ategory_encoding_2/vars","one_hot_encoders/category_encoding_3","one_hot_encoders/category_encoding_3/vars",'
    '"one_hot_encoders/category_encoding_4","one_hot_encoders/category_encoding_4/vars","one_hot_encoders/categor'
    'y_encoding_5","one_hot_encoders/category_encoding_5/vars","one_hot_encoders/category_encoding_6","one_hot_en'
    'coders/category_encoding_6/vars","preprocessors","preprocessors/discretization","preprocessors/discretizatio'
    'n/vars","preprocessors/hashing","preprocessors/hashing/vars","preprocessors/hashing_1","preprocessors/hashin'
    'g_1/vars","preprocessors/integer_lookup","preprocessors/integer_lookup/vars","preprocessors/rescaling","prep'
    'rocessors/rescaling/vars","preprocessors/string_lookup","preprocessors/string_lookup/vars","preprocessors/tf'
    'd_identity","preprocessors/tfd_identity/vars","vars"],"assets":["assets/preprocessors/integer_lookup/vocabul'
    'ary.txt","assets/preprocessors/string_lookup/vocabulary.txt"]},"dict_int":{"out":{"age":[[-1.772179],[1.7724'
    '04],[-0.2876954],[-0.996612]],"city":[[1],[0],[5],[6]],"code":[[1],[0],[5],[4]],"color":[[1],[2],[2],[0]],"s'
    'core":[[0],[2],[3],[3]],"city_X_code":[[0],[1],[5],[3]]},"out_dtype":{"age":"float32","city":"int64","code":'
    '"int64","color":"int64","score":"int32","city_X_code":"int64"},"single":{"age":[1.772404],"city":[0],"code":'
    '[0],"color":[2],"score":[2],"city_X_code":[1]},"state":{"score":[-1.87,-0.388,1.2195],"city":["[UNK]","paris'
    '","oslo","kyiv","rome","lima","baku"],"code":[-1,10,20,30,50,40],"age":[49.74814,272.3839]},"encoded_shape":'
    '{"age":[null,1],"city":[null,1],"code":[null,1],"color":[null,1],"score":[null,1],"city_X_code":[null,1]},"l'
    'ayout":["crossers","crossers/hashed_crossing","crossers/hashed_crossing/vars","preprocessors","preprocessors'
    '/discretization","preprocessors/discretization/vars","preprocessors/hashing","preprocessors/hashing/vars","p'
    'reprocessors/integer_lookup","preprocessors/integer_lookup/vars","preprocessors/normalization","preprocessor'
    's/normalization/vars/0","preprocessors/normalization/vars/1","preprocessors/normalization/vars/2","preproces'
    'sors/normalization/vars","preprocessors/string_lookup","preprocessors/string_lookup/vars","vars"],"assets":['
    '"assets/preprocessors/integer_lookup/vocabulary.txt","assets/preprocessors/string_lookup/vocabulary.txt"]},"'
    'defaults":{"out":[[20.5,1,0,0,0,0,5,1,0,0,0,0,0,0,0,0,1,0,1,0,0],[79,1,0,0,0,0,100,0,0,0,1,0,0,0,0,0,1,0,1,0'
    ',0],[45,0,1,0,0,0,20,0,0,0,0,1,0,0,0,0,1,0,0,1,0],[33.3,0,0,0,0,1,0.5,0,0,0,0,0,1,0,0,0,0,1,0,1,0]],"single"'
    ':[79,1,0,0,0,0,100,0,0,0,1,0,0,0,0,0,1,0,1,0,0],"state":{"score":[-2.657,-1.472667,-0.388,0.763,1.888]},"enc'
    'oded_shape":[null,21],"layout":["concat","concat/vars","crossers","crossers/hashed_crossing","crossers/hashe'
    'd_crossing/vars","one_hot_encoders","one_hot_encoders/category_encoding","one_hot_encoders/category_encoding'
    '/vars","one_hot_encoders/category_encoding_1","one_hot_encoders/category_encoding_1/vars","one_hot_encoders/'
    'category_encoding_2","one_hot_encoders/category_encoding_2/vars","one_hot_encoders/category_encoding_3","one'
    '_hot_encoders/category_encoding_3/vars","preprocessors","preprocessors/discretization","preprocessors/discre'
    'tization/vars","preprocessors/hashing","preprocessors/hashing/vars","preprocessors/hashing_1","preprocessors'
    '/hashing_1/vars","preprocessors/rescaling","preprocessors/rescaling/vars","preprocessors/tfd_identity","prep'
    'rocessors/tfd_identity/vars","vars"],"assets":[]}}}'
)

DATA, QUERY = _GOLDENS["data"], _GOLDENS["query"]
_DTYPES = {
    "age": "float32",
    "income": "float32",
    "score": "float32",
    "city": None,
    "color": None,
    "code": "int32",
    "zip": "int32",
}
CASES = ["basic", "all_concat", "dict_int", "defaults"]


def _columns(d, keys=None):
    return {k: np.array(v, dtype=_DTYPES[k]) for k, v in d.items() if keys is None or k in keys}


def _specs(FS, case):
    """The FeatureSpace arguments of each golden case (the same code ran in real Keras)."""
    if case == "basic":
        return dict(
            features={"age": "float_normalized", "city": "string_categorical", "code": "integer_categorical"},
            crosses=[("city", "code")],
            crossing_dim=16,
        )
    if case == "all_concat":
        return dict(
            features={
                "age": FS.float(name="a"),
                "income": FS.float_rescaled(scale=0.01, offset=-1.0, name="b"),
                "score": FS.float_discretized(num_bins=5, name="c"),
                "city": FS.string_categorical(max_tokens=4, num_oov_indices=2, name="d"),
                "color": FS.string_hashed(num_bins=6, name="e"),
                "code": FS.integer_categorical(num_oov_indices=3, name="f"),
                "zip": FS.integer_hashed(num_bins=7, name="g"),
            },
            crosses=[FS.cross(("city", "color"), crossing_dim=5), FS.cross(("code", "zip"), crossing_dim=9)],
        )
    if case == "dict_int":
        return dict(
            features={
                "score": FS.float_discretized(num_bins=4, output_mode="int", name="h"),
                "city": FS.string_categorical(output_mode="int", name="i"),
                "code": FS.integer_categorical(output_mode="int", name="j"),
                "color": FS.string_hashed(num_bins=4, output_mode="int", name="k"),
                "age": "float_normalized",
            },
            crosses=[FS.cross(("city", "code"), crossing_dim=7, output_mode="int")],
            output_mode="dict",
        )
    assert case == "defaults"
    return dict(
        features={
            "score": "float_discretized",
            "color": "string_hashed",
            "zip": "integer_hashed",
            "income": "float_rescaled",
            "age": "float",
        },
        crosses=[("color", "zip")],
        num_discretization_bins=6,
        hashing_dim=5,
        crossing_dim=3,
    )


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _state(fs):
    out = {}
    for name, p in fs.preprocessors.items():
        if hasattr(p, "get_vocabulary"):
            out[name] = [x if isinstance(x, str) else int(x) for x in p.get_vocabulary()]
        if getattr(p, "bin_boundaries", None) is not None:
            out[name] = [float(b) for b in p.bin_boundaries]
        if type(p).__name__ == "Normalization":
            out[name] = [float(_np(p.mean).reshape(-1)[0]), float(_np(p.variance).reshape(-1)[0])]
    return out


def _check_against(fs, rec):
    query = _columns(QUERY, fs.features)
    single = {k: v[1] for k, v in query.items()}
    out, one = fs(query), fs(single)
    if isinstance(rec["out"], dict):
        assert sorted(out) == sorted(rec["out"])
        for name, expected in rec["out"].items():
            np.testing.assert_allclose(_np(out[name]), expected, rtol=1e-5, atol=1e-5, err_msg=name)
            np.testing.assert_allclose(_np(one[name]), rec["single"][name], rtol=1e-5, atol=1e-5, err_msg=name)
            assert _np(out[name]).dtype.kind == np.dtype(rec["out_dtype"][name]).kind, name
    else:
        assert out.dtype == torch.float32
        np.testing.assert_allclose(_np(out), rec["out"], rtol=1e-5, atol=1e-5)
        assert tuple(one.shape) == (len(rec["single"]),)
        np.testing.assert_allclose(_np(one), rec["single"], rtol=1e-5, atol=1e-5)
    state = _state(fs)
    assert sorted(state) == sorted(rec["state"])
    for name, expected in rec["state"].items():
        if hasattr(fs.preprocessors[name], "get_vocabulary"):
            assert state[name] == expected, name
        else:
            np.testing.assert_allclose(state[name], expected, rtol=1e-5, atol=1e-6, err_msg=name)
    enc = fs.get_encoded_features()
    shapes = {k: list(v.shape) for k, v in enc.items()} if isinstance(enc, dict) else list(enc.shape)
    assert shapes == rec["encoded_shape"]


def _layout(path):
    import io
    import h5py

    with zipfile.ZipFile(path) as z:
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        names = []
        f.visit(names.append)
        assets = sorted(n for n in z.namelist() if n.startswith("assets"))
    return sorted(names), assets


@pytest.mark.parametrize("case", CASES)
def test_outputs_state_and_file_layout_match_keras(case, tmp_path):
    rec = _GOLDENS["cases"][case]
    fs = FeatureSpace(**_specs(FeatureSpace, case))
    fs.adapt(_columns(DATA))
    _check_against(fs, rec)
    path = str(tmp_path / f"{case}.keras")
    fs.save(path)
    layout, assets = _layout(path)
    assert layout == sorted(rec["layout"])
    assert assets == rec["assets"]
    # the saved file loads back (keras.models.load_model, as Keras documents) with the same numbers
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, FeatureSpace)
    _check_against(reloaded, rec)


def test_config_matches_keras_and_round_trips():
    fs = FeatureSpace(**_specs(FeatureSpace, "basic"))
    fs.adapt(_columns(DATA))
    theirs = _GOLDENS["cases"]["basic"]["config"]
    from strided.saving.serialization_lib import to_jsonable

    ours = to_jsonable(fs.get_config())
    assert theirs["module"] == "keras.utils" and theirs["class_name"] == "FeatureSpace"
    assert sorted(ours) == sorted(theirs["config"])
    for key in ("output_mode", "crosses", "crossing_dim", "hashing_dim", "num_discretization_bins"):
        assert ours[key] == theirs["config"][key], key
    for name, spec in theirs["config"]["features"].items():
        mine = ours["features"][name]
        for key in ("module", "class_name", "registered_name"):
            assert mine[key] == spec[key]
        assert mine["config"]["dtype"] == spec["config"]["dtype"]
        assert mine["config"]["output_mode"] == spec["config"]["output_mode"]
        pre, kpre = mine["config"]["preprocessor"], spec["config"]["preprocessor"]
        assert (pre["module"], pre["class_name"], pre["config"]["name"]) == (
            kpre["module"],
            kpre["class_name"],
            kpre["config"]["name"],
        )
    # from_config gives an unadapted twin (the config holds no vocabulary), which adapts to the same numbers
    twin = FeatureSpace.from_config(json.loads(json.dumps(ours)))
    with pytest.raises(ValueError, match="adapt"):
        twin(_columns(QUERY, fs.features))
    twin.adapt(_columns(DATA))
    np.testing.assert_allclose(_np(twin(_columns(QUERY, fs.features))), _np(fs(_columns(QUERY, fs.features))))
    # and Keras's own config (with its DTypePolicy dicts) builds a strided FeatureSpace
    from strided.saving import deserialize_keras_object

    from_keras = deserialize_keras_object(theirs)
    assert isinstance(from_keras, FeatureSpace)
    assert isinstance(from_keras.features["city"], Feature)
    assert isinstance(from_keras.crosses[0], Cross) and from_keras.crosses[0].name == "city_X_code"
    from_keras.adapt(_columns(DATA))
    np.testing.assert_allclose(
        _np(from_keras(_columns(QUERY, fs.features))), _GOLDENS["cases"]["basic"]["out"], rtol=1e-5, atol=1e-5
    )


def test_hand_computed_case():
    # Vocabulary of s: "b" x3, then "c" and "a" x1 each (ties: the larger token first) -> [UNK], b, c, a.
    # Output columns: features sorted by name (n, s), n normalized: mean 2, variance 4/5 over [1, 2, 3, 1, 3].
    fs = FeatureSpace({"s": "string_categorical", "n": "float_normalized"})
    fs.adapt({"s": ["b", "c", "b", "a", "b"], "n": [1.0, 2.0, 3.0, 1.0, 3.0]})
    assert fs.preprocessors["s"].get_vocabulary() == ["[UNK]", "b", "c", "a"]
    out = _np(fs({"s": ["a", "zz", "b"], "n": [2.0, 3.0, 0.5]}))
    sd = np.sqrt(4 / 5)
    np.testing.assert_allclose(
        out, [[0, 0, 0, 0, 1], [1 / sd, 1, 0, 0, 0], [-1.5 / sd, 0, 1, 0, 0]], rtol=1e-5, atol=1e-6
    )
    # dict mode, int indices kept as int64
    fs = FeatureSpace({"s": FeatureSpace.string_categorical(output_mode="int")}, output_mode="dict")
    fs.adapt({"s": ["b", "c", "b"]})
    got = fs({"s": ["c", "q"]})["s"]
    assert got.dtype == torch.int64
    np.testing.assert_array_equal(_np(got), [[2], [0]])


def test_adapt_takes_lists_of_dicts_and_datasets():
    keys = ("age", "city", "code", "score")
    spec = lambda: dict(
        features={
            "age": "float_normalized",
            "city": "string_categorical",  # noqa: E731
            "code": "integer_categorical",
            "score": "float_discretized",
        },
        crosses=[("city", "code")],
        num_discretization_bins=4,
    )
    cols = _columns(DATA, keys)
    reference = FeatureSpace(**spec())
    reference.adapt(cols)
    expected = _np(reference(_columns(QUERY, keys)))
    n = len(DATA["age"])
    rows = [{k: cols[k][i] for k in keys} for i in range(n)]  # a list of samples
    batches = [
        ({k: cols[k][i : i + 32] for k in keys}, np.zeros(len(cols["age"][i : i + 32]))) for i in range(0, n, 32)
    ]  # (x, y) batches of 32

    class Tables(keras.utils.PyDataset):
        def __len__(self):
            return len(batches)

        def __getitem__(self, i):
            return batches[i]

    for data in (rows, batches, (b for b in batches), Tables()):
        fs = FeatureSpace(**spec())
        fs.adapt(data)
        np.testing.assert_allclose(_np(fs(_columns(QUERY, keys))), expected, rtol=1e-5, atol=1e-6)


def test_models_trained_with_fit_on_a_table(tmp_path):
    rng = np.random.RandomState(0)
    n = 256
    city = rng.choice(["paris", "oslo", "rome", "lima"], n)
    code = rng.choice([1, 2, 3], n)
    x1 = rng.normal(size=n).astype("float32") * 3 + 10
    label = ((city == "oslo") | (x1 > 11) | ((city == "rome") & (code == 3))).astype("float32")
    table = {"city": city, "code": code, "x1": x1}
    fs = FeatureSpace(
        {"city": "string_categorical", "code": "integer_categorical", "x1": "float_normalized"},
        crosses=[("city", "code")],
        crossing_dim=16,
    )
    fs.adapt(table)
    # 1) the tf.data recipe: preprocess with the FeatureSpace, train a model on the encoded vectors
    keras.utils.set_random_seed(1)
    encoded = fs(table)
    model = keras.Sequential(
        [
            keras.Input((encoded.shape[-1],)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(encoded, label, epochs=30, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95 and history.history["loss"][-1] < history.history["loss"][0]
    # 2) the functional recipe: inputs and encoded features of the FeatureSpace, raw columns to fit
    inputs = fs.get_inputs()
    outputs = keras.layers.Dense(1, activation="sigmoid")(fs.get_encoded_features())
    fmodel = keras.Model(inputs, outputs)
    fmodel.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    columns = {"city": city[:, None], "code": code[:, None], "x1": x1[:, None]}
    history = fmodel.fit(columns, label, epochs=40, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    # the model's preprocessing is the FeatureSpace's: the same prediction from the encoded vector
    dense = fmodel.layers[-1]
    w, b = dense.get_weights()
    manual = 1 / (1 + np.exp(-(_np(encoded) @ w + b)))
    np.testing.assert_allclose(fmodel.predict(columns, verbose=0), manual, rtol=1e-4, atol=1e-5)
    # gradients reach the dense layer through the encoded features (a one-hot column has the input's value)
    xt = encoded[:4].clone().requires_grad_(True)
    (dense(xt).sum()).backward()
    assert xt.grad is not None and torch.isfinite(xt.grad).all()
    # the FeatureSpace saved beside the model gives the same encodings after loading
    fs.save(str(tmp_path / "fs.keras"))
    again = keras.models.load_model(str(tmp_path / "fs.keras"))
    np.testing.assert_array_equal(_np(again(table)), _np(encoded))


def test_custom_feature_and_preprocessor_access():
    text = keras.layers.StringLookup(output_mode="multi_hot")
    fs = FeatureSpace(
        {
            "tags": FeatureSpace.feature(dtype="string", preprocessor=text, output_mode="float"),
            "v": FeatureSpace.float_rescaled(scale=2.0, offset=1.0),
        }
    )
    fs.adapt({"tags": ["x", "y", "x"], "v": [0.0, 1.0, 2.0]})
    assert fs.preprocessors["tags"] is text
    out = _np(fs({"tags": ["y", "z"], "v": [0.5, -1.0]}))
    # tags: multi_hot over [UNK], x, y; then v * 2 + 1
    np.testing.assert_allclose(out, [[0, 0, 1, 2.0], [1, 0, 0, -1.0]])
    # a preprocessor with given state needs no adapt
    fs = FeatureSpace({"v": "float", "w": FeatureSpace.float_rescaled(scale=0.5)})
    np.testing.assert_allclose(_np(fs({"v": [1.0, 2.0], "w": [4.0, 6.0]})), [[1.0, 2.0], [2.0, 3.0]])
    np.testing.assert_allclose(_np(fs({"v": 1.0, "w": 4.0})), [1.0, 2.0])


def test_errors():
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace({})
    with pytest.raises(TypeError, match="features"):
        FeatureSpace(["a", "b"])
    with pytest.raises(ValueError, match="Invalid feature type: 'floaty'"):
        FeatureSpace({"a": "floaty"})
    with pytest.raises(ValueError, match=r"unknown features: \['c'\]"):
        FeatureSpace({"a": "float", "b": "float"}, crosses=[("a", "c")])
    with pytest.raises(ValueError, match="crossing_dim"):
        FeatureSpace({"a": "integer_hashed", "b": "integer_hashed"}, crosses=[("a", "b")], crossing_dim=None)
    with pytest.raises(ValueError, match="output_mode=list"):
        FeatureSpace({"a": "float"}, output_mode="list")
    with pytest.raises(ValueError, match="output_mode=binary"):
        FeatureSpace.cross(("a", "b"), crossing_dim=4, output_mode="binary")
    with pytest.raises(ValueError, match="output_mode=sparse"):
        FeatureSpace.feature("float32", keras.layers.Rescaling(1.0), "sparse")
    with pytest.raises(TypeError, match="preprocessor"):
        FeatureSpace.feature("float32", 3, "float")
    fs = FeatureSpace({"a": "string_categorical"})
    with pytest.raises(ValueError, match=r"call `\.adapt\(dataset\)`"):
        fs({"a": ["x"]})
    with pytest.raises(ValueError, match="can only be called on a dict"):
        fs.adapt(np.array(["x", "y"]))
    with pytest.raises(ValueError, match="no feature 'a'"):
        fs.adapt({"b": ["x"]})
    fs.adapt({"a": ["x", "y"]})
    with pytest.raises(ValueError, match="can only be called with a dict"):
        fs(["x"])
    with pytest.raises(ValueError, match=r"missing the features \['a'\]"):
        fs({"b": ["x"]})
    # int features cannot be concatenated; one-hot needs integer indices and a known cardinality
    with pytest.raises(ValueError, match="Cannot concatenate features because feature 'a'"):
        FeatureSpace({"a": FeatureSpace.integer_hashed(4, output_mode="int")})({"a": [1]})
    with pytest.raises(ValueError, match="should return an integer dtype. Instead it returns a float32"):
        FeatureSpace({"a": FeatureSpace.feature("float32", keras.layers.Rescaling(2.0), "one_hot")})({"a": [1.0]})
    with pytest.raises(ValueError, match="dimensionality of its output space is not known"):
        FeatureSpace({"a": FeatureSpace.feature("int32", keras.layers.Identity(), "one_hot")})({"a": [1]})
    with pytest.raises(ValueError, match="expected a `.keras` extension"):
        FeatureSpace({"a": "float"}).save("fs.h5")


@pytest.fixture
def keras_tf(real_keras):
    """Real Keras with TensorFlow importable (its FeatureSpace runs on tf.data)."""
    pytest.importorskip("tensorflow")
    return real_keras


@pytest.mark.parametrize("case", CASES)
def test_live_against_keras(keras_tf, case, tmp_path):
    theirs = keras_tf.utils.FeatureSpace(**_specs(keras_tf.utils.FeatureSpace, case))
    theirs.adapt(_columns(DATA))
    query = _columns(QUERY, theirs.features)
    expected = theirs(query)
    rec = {
        "out": (
            {k: _np(v).tolist() for k, v in expected.items()} if isinstance(expected, dict) else _np(expected).tolist()
        ),
        "single": None,
        "state": _GOLDENS["cases"][case]["state"],
        "encoded_shape": _GOLDENS["cases"][case]["encoded_shape"],
    }
    single = theirs({k: v[1] for k, v in query.items()})
    rec["single"] = (
        {k: _np(v).tolist() for k, v in single.items()} if isinstance(single, dict) else _np(single).tolist()
    )
    if isinstance(expected, dict):
        rec["out_dtype"] = {k: str(_np(v).dtype) for k, v in expected.items()}
    # Keras's file loads in strided, and strided's file in Keras, with the same numbers
    theirs.save(str(tmp_path / "keras.keras"))
    _check_against(keras.models.load_model(str(tmp_path / "keras.keras")), rec)
    ours = FeatureSpace(**_specs(FeatureSpace, case))
    ours.adapt(_columns(DATA))
    _check_against(ours, rec)
    ours.save(str(tmp_path / "ours.keras"))
    loaded = keras_tf.saving.load_model(str(tmp_path / "ours.keras"))
    got = loaded(query)
    if isinstance(expected, dict):
        for k in expected:
            np.testing.assert_allclose(_np(got[k]), _np(expected[k]), rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-5, atol=1e-5)
