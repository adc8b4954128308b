"""Saving and loading models and weights: ``save_model``, ``load_model``, ``save_weights``,
``load_weights``.

Formats: ``.keras`` (Keras 3 zip, the default), ``.weights.h5`` (Keras 3 weights), and the Keras 2
``.h5`` files (full models and weight files such as Keras's published ImageNet weights). Every
write goes to a temporary file in the target directory and is moved into place with
``os.replace``, so an interrupted save leaves the previous file intact. Loading validates the
whole file against the model before assigning anything, and never unpickles or executes code
from the file (a ``Lambda`` layer's bytecode is refused unless ``safe_mode=False``).
"""

import contextlib
import io
import os

from strided.saving import keras_format, legacy_h5, serialization_lib
from strided.saving.serialization_lib import _clean_value
from strided.utils import object_registration
from strided import losses, metrics, optimizers
from strided.utils.file_utils import atomic_path, remove_stale_partials  # noqa: F401 (export.py, tests)


def _h5py():
    return keras_format._h5py()


def _check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"File {filepath} exists and overwrite=False.")


def _path(filepath, what="filepath"):
    if isinstance(filepath, os.PathLike):
        filepath = os.fspath(filepath)
    if not isinstance(filepath, str):
        raise TypeError(f"Invalid type for argument `{what}`. Expected a path string. Received: {what}={filepath!r}")
    return filepath


# ---------------------------------------------------------------------------- models
def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True, **kwargs):
    """Saves a model (architecture, weights, optimizer state) to ``filepath``.

    Args:
        model: a Sequential or functional model.
        filepath: ``*.keras`` (Keras 3 format) or ``*.h5`` (Keras 2 format).
        overwrite: whether to replace an existing file.
        zipped: ``None``/``True``: one file; ``False``: the ``.keras`` archive's files in the folder
            ``filepath`` (``config.json``, ``metadata.json``, ``model.weights.h5``, ``assets/``), as Keras writes
            them; ``load_model(filepath)`` reads the folder.
        include_optimizer: also save the compile configuration and optimizer state.
    """
    save_format = kwargs.pop("save_format", None)
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments passed to save_model: {kwargs}")
    filepath = _path(filepath)
    serialization_lib.serialize_model(model)  # a subclassed model fails here, before any file is touched
    if zipped is not None and not zipped:
        if filepath.endswith(".keras"):
            raise ValueError(
                "When using `zipped=False`, the `filepath` argument should not end in `.keras`. "
                f"Received: filepath={filepath}"
            )
        if os.path.exists(filepath) and not os.path.isdir(filepath):
            raise ValueError(f"With `zipped=False`, `filepath` names a folder; {filepath} is a file.")
        _check_overwrite(os.path.join(filepath, keras_format.CONFIG), overwrite)
        # Into the folder as Keras does (other files in it stay), each file replaced whole, config.json last.
        keras_format.write_keras_dir(filepath, model, include_optimizer=include_optimizer)
        return
    if filepath.endswith(".keras") or save_format == "keras":
        _check_overwrite(filepath, overwrite)
        with atomic_path(filepath) as tmp:
            with open(tmp, "wb") as f:
                keras_format.write_keras_zip(f, model, include_optimizer=include_optimizer)
        return
    if filepath.endswith((".h5", ".hdf5")) or save_format == "h5":
        _check_overwrite(filepath, overwrite)
        with atomic_path(filepath) as tmp:
            with _h5py().File(tmp, "w") as f:
                legacy_h5.save_model_to_h5(f, model, include_optimizer=include_optimizer)
        return
    raise ValueError(
        "Invalid filepath extension for saving. Please add either a `.keras` extension for the native "
        "Keras format (recommended) or a `.h5` extension. Use `model.export(filepath)` if you want to "
        f"export a SavedModel for use with TFLite/TFServing/etc. Received: filepath={filepath}."
    )


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with ``save_model`` (by strided or by Keras).

    Args:
        filepath: a ``.keras`` zip, a folder saved with ``zipped=False``, or a Keras 2 full-model ``.h5`` file.
        custom_objects: dict of custom layer classes/functions by name.
        compile: compile the model with the saved configuration and restore the optimizer state.
        safe_mode: refuse to load serialized Python bytecode (Lambda layers).

    Returns:
        The model.
    """
    filepath = _path(filepath)
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` zip file."
        )
    is_dir = keras_format.is_keras_dir(filepath)  # saved with zipped=False
    if not is_dir and _is_hdf5(filepath):
        with _open_h5(filepath) as f:
            return legacy_h5.load_model_from_h5(
                f, filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
            )
    if not is_dir and not filepath.endswith(".keras") and not _is_zip(filepath):
        raise ValueError(
            f"File format not supported: filepath={filepath}. strided supports `.keras` files, folders saved with "
            "`zipped=False`, and legacy Keras 2 `.h5` files."
        )
    config, _, weights = keras_format.read_keras_zip(filepath)
    compile_config = config.pop("compile_config", None) if isinstance(config, dict) else None
    model = serialization_lib.model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
    with _open_h5(io.BytesIO(weights), source=f"{filepath} (model.weights.h5)") as f:
        plan = keras_format.plan_weights(f, model, f"{filepath} (model.weights.h5)")
        optimizer_vars = keras_format.read_optimizer_vars(f)
    keras_format.apply_plan(plan)
    keras_format.read_assets(filepath, model)
    if compile and compile_config:
        with object_registration.custom_object_scope(custom_objects):  # e.g. a MultiOptimizer's selector
            compile_from_config(model, compile_config)
        if optimizer_vars:
            _restore_optimizer(model, optimizer_vars)
    return model


def compile_from_config(model, config):
    """Compiles ``model`` from a Keras ``compile_config`` / ``training_config`` dict."""
    config = _clean_value(dict(config), True)
    kwargs = {}
    for key in ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics"):
        if config.get(key) is not None:
            kwargs[key] = config[key]
    if isinstance(kwargs.get("optimizer"), dict):
        opt = dict(kwargs["optimizer"])
        opt.pop("module", None)
        opt["registered_name"] = None
        kwargs["optimizer"] = optimizers.deserialize(opt)
    for key, module in (("loss", losses), ("metrics", metrics), ("weighted_metrics", metrics)):
        if key in kwargs:
            kwargs[key] = _plain_names(kwargs[key], module.deserialize)
    model.compile(**kwargs)


def _plain_names(value, deserialize):
    """The objects of a saved ``loss``/``metrics`` entry.

    Keras writes functions as ``{'class_name': 'function', 'config': 'name'}`` (the name is used) and
    objects as ``{'module', 'class_name', 'config'}`` (deserialized here: ``compile`` would read a bare
    dict as one loss per output, keyed by output name); other dicts are those per-output mappings.
    """
    if isinstance(value, dict):
        if value.get("class_name") == "function":
            return value.get("config")
        if "class_name" in value and "config" in value:
            return deserialize(value)
        return {k: _plain_names(v, deserialize) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_names(v, deserialize) for v in value]
    return value


def _restore_optimizer(model, values):
    optimizer = model.optimizer
    if optimizer is None:
        return
    if not getattr(optimizer, "built", False) and hasattr(optimizer, "build"):
        optimizer.build(model.trainable_weights)
    optimizer.load_own_variables(keras_format.optimizer_store_layout(optimizer, values, to_keras=False))


# ---------------------------------------------------------------------------- weights
def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Saves the model's weights: ``*.weights.h5`` (Keras 3 layout) or ``*.h5`` (Keras 2 layout).

    Keras's sharded weights (``max_shard_size``, a ``.weights.json`` index) are not supported: a
    ValueError says so.
    """
    if max_shard_size is not None:
        raise ValueError(
            "strided saves the weights in one `.weights.h5` file; sharded weights are not supported. Pass "
            f"max_shard_size=None. Received: max_shard_size={max_shard_size!r}"
        )
    filepath = _path(filepath)
    if not filepath.endswith(".h5"):
        raise ValueError("The filename must end in `.weights.h5`. Received: filepath=" + filepath)
    _check_overwrite(filepath, overwrite)
    with atomic_path(filepath) as tmp:
        with _h5py().File(tmp, "w") as f:
            if filepath.endswith(".weights.h5"):
                keras_format.write_weights(f, model)
            else:
                legacy_h5.save_weights_to_group(f, model)


def load_weights(model, filepath, skip_mismatch=False, by_name=False, **kwargs):
    """Loads weights into ``model`` from a ``.weights.h5``, ``.keras`` or Keras 2 ``.h5`` file.

    The format is recognized from the file's content. Every layer's weights are checked against
    the model (count and shapes) before any is assigned: on a mismatch the model is unchanged and
    the ValueError names the file and the first offending layers.

    Args:
        model: the model to load into.
        filepath: path of the weights file.
        skip_mismatch: skip layers whose weight shapes differ instead of raising.
        by_name: (Keras 2 ``.h5`` only) match layers by name, ignoring layers not in the file.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments passed to load_weights: {kwargs}")
    filepath = _path(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"Weights file not found: filepath={filepath}")
    if filepath.endswith(".keras") or _is_zip(filepath):
        _, _, weights = keras_format.read_keras_zip(filepath)
        with _open_h5(io.BytesIO(weights), source=f"{filepath} (model.weights.h5)") as f:
            keras_format.load_weights_from_h5(f, model, filepath, skip_mismatch=skip_mismatch)
        return
    try:
        _load_h5_weights(model, filepath, skip_mismatch, by_name)
    except OSError as e:  # h5py reports truncated datasets as OSError
        raise ValueError(
            f"Could not read the weights in {filepath} ({e}). The file is truncated or corrupted; "
            "the model was not changed."
        ) from None


def _load_h5_weights(model, filepath, skip_mismatch, by_name):
    with _open_h5(filepath) as f:
        group = (
            f["model_weights"] if "model_weights" in f and legacy_h5.is_legacy_weights_group(f["model_weights"]) else f
        )
        if legacy_h5.is_legacy_weights_group(group):
            plan = legacy_h5.plan_legacy(group, model, filepath, by_name=by_name, skip_mismatch=skip_mismatch)
            legacy_h5.apply_plan(plan)
        elif "layers" in f or "vars" in f:
            keras_format.load_weights_from_h5(f, model, filepath, skip_mismatch=skip_mismatch)
        else:
            raise ValueError(
                f"The file {filepath} is an HDF5 file but holds no Keras weights (no 'layer_names' "
                "attribute and no 'layers' group)."
            )


# ---------------------------------------------------------------------------- file sniffing
def _is_hdf5(path):
    if not os.path.isfile(path):  # a folder: not a model file (a zipped=False folder is recognised first)
        return False
    with open(path, "rb") as f:
        return f.read(8) == b"\x89HDF\r\n\x1a\n"


def _is_zip(path):
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


@contextlib.contextmanager
def _open_h5(target, source=None):
    h5py = _h5py()
    source = source or target
    try:
        f = h5py.File(target, "r")
    except OSError as e:
        raise ValueError(
            f"Could not read {source} as an HDF5 weights file ({e}). The file is truncated, "
            "corrupted or in another format."
        ) from None
    try:
        yield f
    finally:
        f.close()
