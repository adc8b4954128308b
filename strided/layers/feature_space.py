"""``keras.utils.FeatureSpace``: preprocessing and encoding of structured (tabular) data.

A ``FeatureSpace`` holds one preprocessing layer per named feature (``Normalization``, ``Rescaling``,
``Discretization``, ``StringLookup``, ``IntegerLookup``, ``Hashing`` or a user's layer), optional hashed
crosses of features, and the one-hot encoders and concatenation that turn a dict of raw columns into one
float vector per sample (or a dict of encoded features). It follows Keras 3.15's class: the same feature
types, defaults, output order (features sorted by name, then crosses sorted by name), layer names, config
and ``.keras`` file layout, so files move between Keras and strided in both directions.

Keras's FeatureSpace runs on ``tf.data``; strided's takes what strided's ``fit`` takes: a dict of NumPy
arrays or lists (one column per feature), a list of such dicts (rows or batches), or any dataset or
iterable yielding dicts (``PyDataset``, ``BatchDataset``, generators; ``(x, y)`` batches give their ``x``).
Strings stay NumPy arrays on the host until the lookup and hashing layers turn them into integers.
"""

import datetime
import io
import json
import zipfile

import numpy as np
import torch

from strided.backend import keras_tensor as symbolic
from strided.backend.name_scope import to_snake_case
from strided.layers.base import Layer, unique_name
from strided.saving import serialization_lib
from strided.layers.categorical import CategoryEncoding, Discretization, HashedCrossing, Hashing, to_numpy
from strided.layers.feature_normalization import Normalization
from strided.layers.image_preprocessing import Rescaling
from strided.layers.input_layer import Input
from strided.layers.lookup import IntegerLookup, StringLookup
from strided.layers.text_vectorization import TextVectorization
from strided.utils.batch import unpack_x_y_sample_weight
from strided.utils.registry import FromConfig
from strided.config import __version__
from strided.saving.serialization_lib import _clean_value
from strided.saving.serialization_lib import _build_from_config
from strided.saving.serialization_lib import to_jsonable

_MODULE = "keras.src.layers.preprocessing.feature_space"
_FEATURE_TYPES = (
    "float",
    "float_normalized",
    "float_rescaled",
    "float_discretized",
    "integer_categorical",
    "string_categorical",
    "integer_hashed",
    "string_hashed",
)
_ADAPT_BATCH = 32  # Keras batches unbatched (scalar) samples by 32 before adapting


def _serialize(obj):
    """Keras's ``serialize_keras_object`` dict for a layer, a ``Feature`` or a ``Cross``."""
    if isinstance(obj, (Feature, Cross)):
        return {
            "module": _MODULE,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": type(obj).__name__,
        }
    return serialization_lib.serialize_layer(obj)


def _deserialize_layer(config):
    """A preprocessing layer from its Keras config dict (strided's layers, or this module's helpers)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(
            "Invalid type for argument `preprocessor`. Expected a Keras layer or its config dict. "
            f"Received: preprocessor={config!r}"
        )
    own = {"TFDIdentity": TFDIdentity, "TFDConcat": TFDConcat}.get(config["class_name"])
    if own is not None:
        return own.from_config(_clean_value(dict(config.get("config") or {}), True))
    return serialization_lib.deserialize_layer(config)


# ---------------------------------------------------------------------------- small layers
class TFDIdentity(Layer):
    """Returns its input unchanged: the preprocessor of ``FeatureSpace.float()`` features."""

    _keras_module = _MODULE

    def call(self, inputs):
        return inputs


class TFDConcat(Layer):
    """Concatenates a list of tensors along ``axis``: the last step of a ``"concat"`` FeatureSpace."""

    _keras_module = _MODULE

    _config_keys = ("axis",)

    def __init__(self, axis, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return torch.cat(list(inputs), dim=self.axis)


# ---------------------------------------------------------------------------- specs
class Cross(FromConfig):
    """A hashed cross of features in a ``FeatureSpace`` (made by ``FeatureSpace.cross``).

    Args:
        feature_names: the names of the features to cross (their preprocessed values are crossed).
        crossing_dim: the number of hash bins of the cross.
        output_mode: ``"one_hot"`` (default) or ``"int"``.
    """

    _config_keys = ("feature_names", "crossing_dim", "output_mode")

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                f"Received: output_mode={output_mode}"
            )
        if isinstance(feature_names, str) or not isinstance(feature_names, (list, tuple)):
            raise TypeError(
                "Invalid type for argument `feature_names`. Expected a tuple or list of feature names. "
                f"Received: feature_names={feature_names!r}"
            )
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        """The cross's name: its feature names joined by ``"_X_"``."""
        return "_X_".join(self.feature_names)

    def __repr__(self):
        return f"<Cross {self.name} crossing_dim={self.crossing_dim} output_mode={self.output_mode}>"


class Feature(FromConfig):
    """One feature of a ``FeatureSpace``: its input dtype, its preprocessing layer and its encoding.

    Made by the ``FeatureSpace`` constructors (``FeatureSpace.float_normalized()``...) or, for a custom
    layer, by ``FeatureSpace.feature(dtype, preprocessor, output_mode)``.

    Args:
        dtype: the dtype of the raw feature (``"float32"``, ``"int32"``, ``"string"``...).
        preprocessor: a preprocessing layer (or its Keras config dict).
        output_mode: ``"float"`` (the preprocessor's output is used as is), ``"int"`` (integer indices,
            kept as they are) or ``"one_hot"`` (indices one-hot encoded by the FeatureSpace).
    """

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot', 'float'}. "
                f"Received: output_mode={output_mode}"
            )
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize_layer(preprocessor)
        if not callable(preprocessor):
            raise TypeError(
                "Invalid type for argument `preprocessor`. Expected a Keras layer. "
                f"Received: preprocessor={preprocessor!r} (of type {type(preprocessor).__name__})"
            )
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        return {"dtype": self.dtype, "preprocessor": _serialize(self.preprocessor), "output_mode": self.output_mode}

    def __repr__(self):
        return (
            f"<Feature dtype={self.dtype} preprocessor={type(self.preprocessor).__name__} "
            f"output_mode={self.output_mode}>"
        )


def _spec_from_dict(config, expected):
    """A ``Feature``/``Cross`` from its serialized dict (``{'class_name': ..., 'config': ...}``)."""
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name not in ("Feature", "Cross") or (expected and class_name != expected):
        raise ValueError(f"Expected a serialized `{expected}`. Received: {config!r}")
    cls = Feature if class_name == "Feature" else Cross
    return cls.from_config(dict(config.get("config") or {}))


# ---------------------------------------------------------------------------- data helpers
def _as_array(value, dtype):
    """A raw feature column (list, NumPy array, tensor, scalar) as a NumPy array of the feature's dtype."""
    arr = to_numpy(value)
    if dtype == "string" or arr.dtype.kind in "OUS":
        return arr
    if dtype is not None and str(dtype).startswith(("float", "int", "uint", "bool")):
        return arr.astype(str(dtype) if str(dtype).startswith("float") else "int64")
    return arr


def _rows_of(dataset):
    """Batches of ``dataset`` (a list of dicts, or any iterable of dicts / ``(x, y)`` tuples) as dicts."""
    for batch in dataset:
        x = unpack_x_y_sample_weight(batch)[0] if isinstance(batch, (tuple, list)) else batch
        if not isinstance(x, dict):
            raise ValueError(
                "`adapt()` expects a dataset whose elements are dicts of features (or `(x, y)` "
                f"tuples with a dict `x`). Received an element of type {type(x).__name__}: {x!r}"
            )
        yield x


def _adapt_batches(columns, from_dict):
    """Keras's adapt batches for one feature: scalars grouped by 32, vectors get a trailing axis of 1.

    ``columns`` are a whole column (``from_dict``: its elements are the samples) or the dataset's batches.
    """
    if from_dict:
        (column,) = columns
        if column.ndim <= 1:  # elements are scalars: batched by 32, then (batch, 1)
            column = column.reshape(-1)
            return [column[i : i + _ADAPT_BATCH, None] for i in range(0, len(column), _ADAPT_BATCH)]
        if column.ndim == 2:  # elements are vectors: each becomes (k, 1), one element per batch
            return [row[:, None] for row in column]
        return list(column)
    out, pending = [], []
    for batch in columns:
        if batch.ndim == 0:
            pending.append(batch)
            if len(pending) == _ADAPT_BATCH:
                out.append(np.stack(pending)[:, None])
                pending = []
        elif batch.ndim == 1:
            out.append(batch[:, None])
        else:
            out.append(batch)
    if pending:
        out.append(np.stack(pending)[:, None])
    return out


# ---------------------------------------------------------------------------- FeatureSpace
class FeatureSpace(Layer):
    """One-stop utility for preprocessing and encoding structured data.

    Arguments:
        features: dict mapping the names of your features to their type specification, e.g.
            ``{"my_feature": "integer_categorical"}`` or ``{"my_feature": FeatureSpace.integer_categorical()}``.
            The available types are listed below.
        output_mode: one of ``"concat"`` or ``"dict"``. In concat mode, all features get concatenated
            together into a single vector. In dict mode, the FeatureSpace returns a dict of individually
            encoded features (with the same keys as the input dict keys).
        crosses: list of features to be crossed together, e.g. ``crosses=[("feature_1", "feature_2")]``.
            The features are "crossed" by hashing their combined (preprocessed) value into a fixed-length
            vector.
        crossing_dim: default vector size for hashing crossed features. Defaults to ``32``.
        hashing_dim: default vector size for hashing features of type ``"integer_hashed"`` and
            ``"string_hashed"``. Defaults to ``32``.
        num_discretization_bins: default number of bins to be used for discretizing features of type
            ``"float_discretized"``. Defaults to ``32``.
        name: name of the FeatureSpace (default ``"feature_space"``).

    **Available feature types** (a string name uses the default arguments):

    ```python
    FeatureSpace.float(name=None)                      # plain float values
    FeatureSpace.float_normalized(name=None)           # standardized by a Normalization layer
    FeatureSpace.float_rescaled(scale=1., offset=0., name=None)   # a Rescaling layer
    FeatureSpace.float_discretized(num_bins, bin_boundaries=None, output_mode="one_hot", name=None)
    FeatureSpace.integer_categorical(max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None)
    FeatureSpace.string_categorical(max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None)
    FeatureSpace.integer_hashed(num_bins, output_mode="one_hot", name=None)
    FeatureSpace.string_hashed(num_bins, output_mode="one_hot", name=None)
    FeatureSpace.feature(dtype, preprocessor, output_mode)        # your own preprocessing layer
    ```

    Example:

    ```python
    raw_data = {
        "float_values": [0.0, 0.1, 0.2, 0.3],
        "string_values": ["zero", "one", "two", "three"],
        "int_values": [0, 1, 2, 3],
    }
    feature_space = FeatureSpace(
        features={
            "float_values": "float_normalized",
            "string_values": "string_categorical",
            "int_values": "integer_categorical",
        },
        crosses=[("string_values", "int_values")],
        output_mode="concat",
    )
    feature_space.adapt(raw_data)              # learn the statistics and vocabularies
    output_vector = feature_space(raw_data)    # a (4, 1 + 5 + 5 + 32) float32 tensor

    # In a functional model:
    inputs = feature_space.get_inputs()                 # dict of keras.Input, shape (1,)
    encoded = feature_space.get_encoded_features()
    outputs = keras.layers.Dense(1, activation="sigmoid")(encoded)
    model = keras.Model(inputs, outputs)

    feature_space.save("featurespace.keras")
    reloaded = keras.models.load_model("featurespace.keras")
    ```

    The preprocessing layer of each feature is in ``feature_space.preprocessors[name]``, the
    ``HashedCrossing`` layer of each cross in ``feature_space.crossers["a_X_b"]``.
    """

    # ------------------------------------------------------------------ constructors of features
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        """A hashed cross of ``feature_names`` into ``crossing_dim`` bins (``output_mode`` ``"one_hot"``
        or ``"int"``), for the ``crosses`` argument."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        """A custom feature: raw ``dtype``, any preprocessing ``preprocessor`` layer, and ``output_mode``
        ``"float"``, ``"int"`` or ``"one_hot"``."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        """Float values used as they are."""
        name = name or unique_name("float")
        preprocessor = TFDIdentity(dtype="float32", name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        """Float values rescaled as ``x * scale + offset`` (a ``Rescaling`` layer)."""
        name = name or unique_name("float_rescaled")
        preprocessor = Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_normalized(cls, name=None):
        """Float values standardized to mean 0 and variance 1 (a ``Normalization`` layer, adapted)."""
        name = name or unique_name("float_normalized")
        preprocessor = Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        """Float values bucketed into ``num_bins`` quantile bins (a ``Discretization`` layer, adapted),
        one-hot encoded by default."""
        name = name or unique_name("float_discretized")
        preprocessor = Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None):
        """Integer values indexed by an ``IntegerLookup`` vocabulary (adapted), one-hot encoded by default."""
        name = name or unique_name("integer_categorical")
        preprocessor = IntegerLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature(dtype="int32", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None):
        """String values indexed by a ``StringLookup`` vocabulary (adapted), one-hot encoded by default."""
        name = name or unique_name("string_categorical")
        preprocessor = StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices)
        return Feature(dtype="string", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """String values hashed into ``num_bins`` bins (a ``Hashing`` layer), one-hot encoded by default."""
        name = name or unique_name("string_hashed")
        preprocessor = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="string", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """Integer values hashed into ``num_bins`` bins (a ``Hashing`` layer), one-hot encoded by default."""
        name = name or unique_name("integer_hashed")
        preprocessor = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="int32", preprocessor=preprocessor, output_mode=output_mode)

    # ------------------------------------------------------------------ construction
    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
    ):
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        if not isinstance(features, dict):
            raise TypeError(
                "Invalid type for argument `features`. Expected a dict mapping feature names to feature "
                f"types. Received: features={features!r} (of type {type(features).__name__})"
            )
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {name: self._standardize_feature(name, value) for name, value in features.items()}
        self.crosses = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = _spec_from_dict(cross, "Cross")
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError(
                        "When specifying `crosses`, the argument `crossing_dim` (dimensionality of the "
                        "crossing space) should be specified as well."
                    )
                if isinstance(cross, str) or not isinstance(cross, (list, tuple)):
                    raise TypeError(
                        "Invalid type for an entry of argument `crosses`. Expected a tuple of feature "
                        f"names or a `FeatureSpace.cross(...)`. Received: {cross!r}"
                    )
                cross = Cross(cross, crossing_dim=crossing_dim)
            unknown = [key for key in cross.feature_names if key not in self.features]
            if unknown:
                raise ValueError(
                    "All features referenced in the `crosses` argument should be present in the "
                    f"`features` dict. Received unknown features: {unknown} in cross "
                    f"{cross.feature_names}"
                )
            self.crosses.append(cross)
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                f"Received: output_mode={output_mode}"
            )
        self.output_mode = output_mode
        self.inputs = {
            name: Input(shape=(1,), dtype=feature.dtype, name=name) for name, feature in self.features.items()
        }
        self.preprocessors = {name: feature.preprocessor for name, feature in self.features.items()}
        self.encoded_features = None
        self.crossers = {cross.name: HashedCrossing(cross.crossing_dim, name=cross.name) for cross in self.crosses}
        self.one_hot_encoders = {}
        self._is_adapted = False
        self.concat = None
        self._preprocessed_features_names = None
        self._crossed_features_names = None
        self._sublayers_built = False

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _spec_from_dict(feature, "Feature")
        if feature == "float":
            return self.float(name=name)
        if feature == "float_normalized":
            return self.float_normalized(name=name)
        if feature == "float_rescaled":
            return self.float_rescaled(name=name)
        if feature == "float_discretized":
            return self.float_discretized(name=name, num_bins=self.num_discretization_bins)
        if feature == "integer_categorical":
            return self.integer_categorical(name=name)
        if feature == "string_categorical":
            return self.string_categorical(name=name)
        if feature == "integer_hashed":
            return self.integer_hashed(self.hashing_dim, name=name)
        if feature == "string_hashed":
            return self.string_hashed(self.hashing_dim, name=name)
        raise ValueError(
            f"Invalid feature type: {feature!r} for feature '{name}'. Expected one of "
            f"{list(_FEATURE_TYPES)} or a `FeatureSpace.<type>(...)` feature."
        )

    # ------------------------------------------------------------------ adapt
    def _list_adaptable_preprocessors(self):
        names = []
        for name in self.features:
            preprocessor = self.preprocessors[name]
            if isinstance(preprocessor, Normalization) and preprocessor.input_mean is not None:
                continue  # given mean and variance
            if isinstance(preprocessor, TextVectorization) and getattr(preprocessor, "_has_input_vocabulary", False):
                continue  # given vocabulary
            if isinstance(preprocessor, Discretization) and preprocessor.num_bins is None:
                continue  # given bin boundaries (Keras would refuse to adapt it)
            if hasattr(preprocessor, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset):
        """Adapts every adaptable preprocessor (normalization statistics, vocabularies, bin boundaries).

        Args:
            dataset: a dict of arrays or lists (one column per feature), a list of dicts (rows or batches),
                or a dataset / iterable yielding dicts of batches (or ``(x, y)`` tuples with a dict ``x``).
        """
        names = self._list_adaptable_preprocessors()
        from_dict = isinstance(dataset, dict)
        if from_dict:
            columns = {}
            for name in names:
                if name not in dataset:
                    raise ValueError(
                        f"The data passed to `adapt()` has no feature '{name}'. Received features: {list(dataset)}"
                    )
                columns[name] = [_as_array(dataset[name], self.features[name].dtype)]
        elif isinstance(dataset, (str, bytes, np.ndarray, torch.Tensor)) or not hasattr(dataset, "__iter__"):
            raise ValueError(
                "`adapt()` can only be called on a dict of arrays/lists, a list of dicts, or a dataset "
                f"yielding dicts. Received instead: {dataset!r} (of type {type(dataset).__name__})"
            )
        else:
            columns = {name: [] for name in names}
            for batch in _rows_of(dataset):
                for name in names:
                    if name not in batch:
                        raise ValueError(
                            f"The data passed to `adapt()` has no feature '{name}'. Received features: {list(batch)}"
                        )
                    columns[name].append(_as_array(batch[name], self.features[name].dtype))
            if names and not columns[names[0]]:
                raise ValueError("`adapt()` received an empty dataset (no batches).")
        for name in names:
            batches = _adapt_batches(columns[name], from_dict)
            preprocessor = self.preprocessors[name]
            if isinstance(preprocessor, Discretization):
                preprocessor.adapt(iter(batches))  # batch by batch, as Keras's quantile summaries are merged
            else:
                preprocessor.adapt(np.concatenate(batches, axis=0))
        self._is_adapted = True
        self.get_encoded_features()  # finish building the layer
        self.built = True
        self._sublayers_built = True

    # ------------------------------------------------------------------ symbolic graph
    def get_inputs(self):
        """The dict of ``keras.Input`` objects, one per feature (shape ``(1,)``, the feature's dtype)."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features as symbolic tensors of ``get_inputs()`` (one tensor in concat mode, a dict
        in dict mode), to build a functional model on."""
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess_features(self.inputs)
            crossed = self._cross_features(preprocessed)
            self.encoded_features = self._merge_features(preprocessed, crossed)
        return self.encoded_features

    def _preprocess_features(self, features):
        return {name: self.preprocessors[name](features[name]) for name in features}

    def _cross_features(self, features):
        return {
            cross.name: self.crossers[cross.name]([features[name] for name in cross.feature_names])
            for cross in self.crosses
        }

    def _merge_features(self, preprocessed_features, crossed_features):
        if not self._preprocessed_features_names:
            self._preprocessed_features_names = sorted(preprocessed_features)
            self._crossed_features_names = sorted(crossed_features)
        all_names = self._preprocessed_features_names + self._crossed_features_names
        all_features = [preprocessed_features[name] for name in self._preprocessed_features_names] + [
            crossed_features[name] for name in self._crossed_features_names
        ]
        if self._sublayers_built:  # fast path: the encoders exist
            encoded = {}
            for name, feature in zip(all_names, all_features):
                encoder = self.one_hot_encoders.get(name)
                encoded[name] = encoder(feature) if encoder is not None else feature
            if self.output_mode == "dict":
                return encoded
            return self.concat([encoded[name] for name in all_names])

        all_specs = [self.features[name] for name in self._preprocessed_features_names] + [
            self.crosses_by_name[name] for name in self._crossed_features_names
        ]
        output, to_concat = {}, []
        for name, feature, spec in zip(all_names, all_features, all_specs):
            dtype = _dtype_name(feature)
            if spec.output_mode == "one_hot":
                preprocessor = self.preprocessors.get(name) or self.crossers.get(name)
                if not dtype.startswith(("int", "uint")):
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. Thus its preprocessor should "
                        f"return an integer dtype. Instead it returns a {dtype} dtype."
                    )
                if isinstance(preprocessor, (IntegerLookup, StringLookup)):
                    cardinality = preprocessor.vocabulary_size()
                elif isinstance(preprocessor, CategoryEncoding):
                    cardinality = preprocessor.num_tokens
                elif isinstance(preprocessor, (Discretization, HashedCrossing, Hashing)):
                    cardinality = preprocessor.num_bins
                else:
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a standard "
                        "feature and the dimensionality of its output space is not known, thus it "
                        "cannot be one-hot encoded. Try using `output_mode='int'`."
                    )
                if cardinality is not None:
                    encoder = CategoryEncoding(num_tokens=cardinality, output_mode="multi_hot")
                    self.one_hot_encoders[name] = encoder
                    feature = encoder(feature)
            if self.output_mode == "concat":
                dtype = _dtype_name(feature)
                if dtype.startswith(("int", "uint")) or dtype == "string":
                    raise ValueError(
                        f"Cannot concatenate features because feature '{name}' has not been encoded "
                        f"(it has dtype {dtype}). Consider using `output_mode='dict'`."
                    )
                to_concat.append(feature)
            else:
                output[name] = feature
        if self.output_mode == "concat":
            self.concat = TFDConcat(axis=-1)
            return self.concat(to_concat)
        return output

    def _check_if_adapted(self):
        if not self._is_adapted:
            if not self._list_adaptable_preprocessors():
                self._is_adapted = True
            else:
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can start using it."
                )

    def _check_if_built(self):
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()  # finishes building
            self._sublayers_built = True

    # ------------------------------------------------------------------ call
    def __call__(self, data):
        """Preprocesses and encodes ``data``, a dict of raw features (batched columns, or one sample of
        scalars, which gives unbatched outputs)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                f"A FeatureSpace can only be called with a dict. Received: data={data!r} (of type {type(data)})"
            )
        missing = [name for name in self.features if name not in data]
        if missing:
            raise ValueError(
                f"The data passed to the FeatureSpace is missing the features {missing}. Received "
                f"features: {list(data)}"
            )
        if symbolic.is_symbolic(data):  # KerasTensors: the same graph, recorded on them
            preprocessed = self._preprocess_features({name: data[name] for name in self.features})
            return self._merge_features(preprocessed, self._cross_features(preprocessed))
        rebatched = False
        values = {}
        for name in self.features:
            x = data[name]
            if not isinstance(x, torch.Tensor):
                x = _as_array(x, self.features[name].dtype)
            if x.ndim == 0:
                x = x.reshape(1, 1)
                rebatched = True
            elif x.ndim == 1:
                x = x[:, None]
            values[name] = x
        with torch.no_grad():
            preprocessed = self._preprocess_features(values)
            merged = self._merge_features(preprocessed, self._cross_features(preprocessed))
        if rebatched:
            if self.output_mode == "concat":
                if merged.shape[0] != 1:
                    raise ValueError(f"Expected rebatched data to have batch size 1. Received: shape={merged.shape}")
                merged = merged.squeeze(0)
            else:
                merged = {name: x.squeeze(0) if x.ndim == 2 and x.shape[0] == 1 else x for name, x in merged.items()}
        return merged

    # ------------------------------------------------------------------ config and saving
    def get_config(self):
        return {
            "features": {name: _serialize(feature) for name, feature in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [_serialize(cross) for cross in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    def get_build_config(self):
        """Each preprocessor's build config (``{"input_shape": ...}`` for the layers with weights)."""
        out = {}
        for name, feature in self.features.items():
            shape = getattr(feature.preprocessor, "_build_input_shape", None)
            built = getattr(feature.preprocessor, "built", False) and feature.preprocessor.weights
            out[name] = {"input_shape": list(shape)} if built and shape is not None else {}
        return out

    def build_from_config(self, config):
        """Builds the preprocessors from ``get_build_config()`` (before their saved state is loaded)."""
        for name, build_config in (config or {}).items():
            if name in self.features:
                _build_from_config(self.features[name].preprocessor, build_config)
        self._is_adapted = True

    def _saved_layer_paths(self):
        """``(h5 path, layer, nested)`` of the layers whose state a ``.keras`` file holds, in Keras's layout:
        ``concat``, ``crossers/<class>``, ``one_hot_encoders/<class>``, ``preprocessors/<class>``."""
        out = []
        if self.concat is not None:
            out.append(("concat", self.concat, False))
        for group, holder in (
            ("crossers", self.crossers),
            ("one_hot_encoders", self.one_hot_encoders),
            ("preprocessors", self.preprocessors),
        ):
            used = {}
            for layer in holder.values():
                if not isinstance(layer, Layer):
                    continue
                base = to_snake_case(type(layer).__name__)  # Keras's saving names, as keras_format
                count = used.get(base, -1) + 1
                used[base] = count
                out.append((f"{group}/{base}" if count == 0 else f"{group}/{base}_{count}", layer, False))
        return out

    def save(self, filepath):
        """Saves the FeatureSpace to a ``.keras`` file (config, preprocessor state, vocabularies).

        Reload it with ``keras.models.load_model(filepath)``; the file has Keras's layout, so Keras loads it
        too.
        """
        from strided.saving import keras_format
        from strided.saving.saving_api import _path, atomic_path

        filepath = _path(filepath)
        if not filepath.endswith(".keras"):
            raise ValueError(
                f"Invalid `filepath` argument: expected a `.keras` extension. Received: filepath={filepath}"
            )
        config = {
            "module": "keras.utils",
            "class_name": "FeatureSpace",
            "config": to_jsonable(self.get_config()),
            "registered_name": None,
            "build_config": self.get_build_config(),
        }
        metadata = {
            "keras_version": keras_format.KERAS_VERSION,
            "strided_version": __version__,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }
        weights = io.BytesIO()
        with keras_format._h5py().File(weights, "w") as f:  # Keras's groups: no `layers`, no optimizer
            for path, layer, _ in self._saved_layer_paths():
                group = f.require_group(path).create_group("vars")
                group.attrs["name"] = layer.name
                for i, value in enumerate(layer.get_weights()):
                    group.create_dataset(str(i), data=np.asarray(value))
            f.create_group("vars").attrs["name"] = self.name
        with atomic_path(filepath) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
                z.writestr(keras_format.METADATA, json.dumps(metadata))
                z.writestr(keras_format.CONFIG, json.dumps(config))
                z.writestr(keras_format.WEIGHTS, weights.getvalue())
                keras_format.write_assets(z, self)

    def save_own_variables(self, store):
        return

    def load_own_variables(self, store):
        return


def _dtype_name(x):
    """The dtype name of a tensor, a KerasTensor or a NumPy array (``"string"`` for text)."""
    dtype = getattr(x, "dtype", None)
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if isinstance(dtype, np.dtype):
        return "string" if dtype.kind in "OUS" else dtype.name
    return str(dtype)
