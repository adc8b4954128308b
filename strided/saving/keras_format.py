"""The Keras 3 file formats: ``.keras`` zips and ``.weights.h5`` weight files.

A ``.keras`` file is a zip holding ``metadata.json``, ``config.json`` (the model's Keras config,
with ``compile_config`` when compiled) and ``model.weights.h5``. The weights file has one group
per layer, addressed by the layer's *class* name made unique within its parent, not by the
layer name (Keras's rule, so two builds of a model line up): ``layers/conv2d/vars/0``,
``layers/conv2d_1/vars/0``..., nested models as ``layers/functional/layers/dense/vars/0``, and the
optimizer state under ``optimizer/vars/<i>``. Every weight is in Keras layout.
"""

import datetime
import io
import json
import os
import pathlib
import tempfile
import zipfile

import numpy as np

from strided.saving import serialization_lib
from strided.config import __version__
from strided.backend.name_scope import to_snake_case
from strided.models.functional import Functional
from strided.models.sequential import Sequential
from strided import optimizers
from strided.backend.variable import keras_shape, keras_view, stored_view
from strided.utils.file_utils import atomic_path
from strided.utils.optional import optional_import

METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
# The Keras format version these files follow (what real Keras reads).
KERAS_VERSION = "3.0.0"


def _h5py():
    return optional_import("h5py", "Saving and loading weight files")


def _snake(name):
    # Keras's saving names (keras.src.utils.naming): 'ConvLSTM2D' -> 'conv_lstm2d', not 'conv_lst_m2d'
    return to_snake_case(name)


def _is_graph_model(layer):
    return isinstance(layer, (Sequential, Functional))  # subclasses built from (inputs, outputs) included


def keras_layer_order(model):
    """``model.layers`` in the order Keras's Functional lists them (deepest first, ties by first visit).

    The Keras 3 weights layout numbers same-class layers in this order (``conv2d``, ``conv2d_1``...),
    so files line up only when both sides walk the graph the same way (Keras's ``map_graph``).
    """
    if not isinstance(model, Functional):
        return list(model.layers)
    input_ids = {id(t) for t in model.inputs}
    finished, in_progress, ordered_nodes, op_index = set(), set(), [], {}

    def visit(tensor):
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        is_input = not node.input_tensors
        if id(node) in finished:
            return
        if not is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        op_index.setdefault(id(layer), len(op_index))
        in_progress.add(id(node))
        if not is_input:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered_nodes.append(node)

    for t in model.outputs:
        visit(t)
    in_graph = {id(n) for n in ordered_nodes}
    node_depth, layer_depth = {}, {}
    for node in reversed(ordered_nodes):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in model.inputs:
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            op_index[id(layer)] = -1
    layers = list(model.layers)
    return sorted(layers, key=lambda l: (-layer_depth.get(id(l), 0), op_index.get(id(l), 0)))


def _children(model):
    """(path segment, layer) for the layers Keras saves under ``layers/``, in Keras's layer order."""
    used = {}
    out = []
    for layer in keras_layer_order(model):
        base = _snake(type(layer).__name__)
        if base in used:
            used[base] += 1
            key = f"{base}_{used[base]}"
        else:
            used[base] = 0
            key = base
        out.append((key, layer))
    return out


def walk_layers(model, prefix=""):
    """(h5 path, layer) for every layer whose variables are stored, depth first, as Keras writes them."""
    own_layout = getattr(model, "_saved_layer_paths", None)
    if own_layout is not None and not prefix:  # an object with Keras's own layout (FeatureSpace)
        return own_layout()
    out = []
    for key, layer in _children(model):
        out.extend(_walk_layer(f"{prefix}layers/{key}", layer))
    return out


def _walk_layer(path, layer):
    if _is_graph_model(layer):
        return [(path, layer, True)] + walk_layers(layer, prefix=path + "/")
    inner = getattr(layer, "layer", None)
    if type(layer).__name__ == "TimeDistributed" and inner is not None:
        # A wrapper holds no variables of its own; Keras stores the wrapped layer's under '<wrapper>/layer'.
        return [(path, layer, True)] + _walk_layer(path + "/layer", inner)
    if type(layer).__name__ == "SpectralNormalization" and inner is not None:
        # Its own variables (the wrapped kernel, vector_u) in '<wrapper>/vars', the wrapped layer's below.
        return [(path, layer, False)] + _walk_layer(path + "/layer", inner)
    children = getattr(layer, "_saved_children", None)
    if children is not None:
        # Layers held as attributes (an RNN's cell, Bidirectional's two RNNs, stacked cells): Keras stores
        # each under '<layer>/<attribute>', the holder's own (empty) variables in '<layer>/vars'.
        out = [(path, layer, True)]
        for segment, child in children():
            out.extend(_walk_layer(f"{path}/{segment}", child))
        return out
    return [(path, layer, False)]


def _own_weights(layer, nested):
    """The arrays Keras stores in a layer's ``vars`` group, Keras order and layout."""
    if nested:
        return []  # a nested model's weights live in its own layers' groups
    # A TorchModuleWrapper stores its module's whole state_dict (buffers too), not only its weights.
    saved = getattr(layer, "_saved_arrays", None)
    return saved() if saved is not None else layer.get_weights()


# ---------------------------------------------------------------------------- writing
def write_weights(h5file, model, include_optimizer=True):
    """Writes ``model``'s weights (and optimizer state) into an open h5py File, Keras 3 layout."""
    for path, layer, nested in walk_layers(model):
        group = h5file.require_group(path)
        vars_group = group.create_group("vars")
        vars_group.attrs["name"] = layer.name
        for i, value in enumerate(_own_weights(layer, nested)):
            vars_group.create_dataset(str(i), data=np.asarray(value))
    if "layers" not in h5file:
        h5file.create_group("layers")
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and getattr(optimizer, "built", False):
        _write_optimizer(h5file.create_group("optimizer"), optimizer)
    top = h5file.create_group("vars")
    top.attrs["name"] = model.name


def _write_optimizer(h5group, optimizer):
    """An optimizer's ``vars`` group, then those Keras also writes for the optimizers inside it."""
    group = h5group.create_group("vars")
    group.attrs["name"] = getattr(optimizer, "name", type(optimizer).__name__.lower())
    store = {}
    optimizer.save_own_variables(store)
    store = optimizer_store_layout(optimizer, store, to_keras=True)
    for key, value in store.items():
        group.create_dataset(str(key), data=np.asarray(value))
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None and getattr(inner, "built", False):
        # Keras also writes a LossScaleOptimizer's inner optimizer on its own, and reads it back
        _write_optimizer(h5group.create_group("inner_optimizer"), inner)
    if hasattr(optimizer, "_variable_segments"):
        # a MultiOptimizer's optimizers, each under its snake_case class name (adam, adam_1, ...) as Keras
        # names the items of a list attribute
        used = {}
        for _, child in optimizer._variable_segments():
            name = _snake(type(child).__name__)
            used[name] = used.get(name, -1) + 1
            key = name if used[name] == 0 else f"{name}_{used[name]}"
            _write_optimizer(h5group.require_group("optimizers").create_group(key), child)


def write_weights_file(path, model):
    """Writes a ``.weights.h5`` file at ``path`` (the caller makes the write atomic)."""
    h5py = _h5py()
    with h5py.File(path, "w") as f:
        write_weights(f, model)


def compile_config(model):
    """Keras's ``compile_config`` for a compiled model, else None."""
    if not getattr(model, "compiled", False):
        return None
    optimizer = getattr(model, "optimizer", None)
    opt = None
    if optimizer is not None:
        opt = optimizers.serialize(optimizer)
        if isinstance(opt, dict):
            opt = dict(opt)
            opt["module"] = "keras.optimizers"
            opt["registered_name"] = None
    return serialization_lib.to_jsonable(
        {
            "optimizer": opt,
            "loss": _serialize_loss_like(getattr(model, "loss", None)),
            "loss_weights": getattr(model, "loss_weights", None),
            "metrics": _serialize_loss_like(getattr(getattr(model, "compiled_metrics", None), "metrics_spec", None)),
            "weighted_metrics": _serialize_loss_like(
                getattr(getattr(model, "compiled_metrics", None), "weighted_spec", None)
            ),
            "run_eagerly": bool(getattr(model, "run_eagerly", False)),
            "steps_per_execution": getattr(model, "steps_per_execution", 1),
            "jit_compile": bool(getattr(model, "_jit_compile", False)),
        }
    )


def _serialize_loss_like(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {k: _serialize_loss_like(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_loss_like(v) for v in value]
    if hasattr(value, "get_config"):
        return serialization_lib.to_jsonable(value)
    name = getattr(value, "__name__", None)
    if name:
        return name
    return None


def write_keras_zip(fileobj, model, include_optimizer=True):
    """Writes the ``.keras`` zip for ``model`` into a binary file object."""
    h5py = _h5py()
    config = serialization_lib.serialize_model(model)
    cc = compile_config(model) if include_optimizer else None
    if cc is not None:
        config["compile_config"] = cc
    metadata = {
        "keras_version": KERAS_VERSION,
        "strided_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        write_weights(f, model, include_optimizer=include_optimizer)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA, json.dumps(metadata))
        z.writestr(CONFIG, json.dumps(config))
        z.writestr(WEIGHTS, weights.getvalue())
        write_assets(z, model)


def write_keras_dir(dirpath, model, include_optimizer=True):
    """Writes the members of the ``.keras`` zip as files in the folder ``dirpath`` (Keras's ``zipped=False``)."""
    archive = io.BytesIO()
    write_keras_zip(archive, model, include_optimizer=include_optimizer)
    with zipfile.ZipFile(archive) as z:
        # Each file is replaced whole (never half-written), config.json last: until it lands, the folder still
        # reads as the model it held. Member names are the ones written just above: none leaves dirpath.
        names = sorted(z.namelist(), key=lambda name: name == CONFIG)
        for name in names:
            target = os.path.join(dirpath, *name.split("/"))
            with atomic_path(target) as tmp, open(tmp, "wb") as f:
                f.write(z.read(name))


def is_keras_dir(path):
    """Whether ``path`` is a model saved with ``zipped=False``: a folder holding ``config.json``."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, CONFIG))


# ---------------------------------------------------------------------------- assets
ASSETS = "assets"


def write_assets(z, model):
    """Adds each layer's asset files (an adapted vocabulary...) under ``assets/<layer path>/``, as Keras does.

    A layer with ``save_assets(dir_path)`` writes its files into a folder of its own; they are copied
    into the archive beside the weights at the layer's weights path.
    """
    for path, layer, _ in walk_layers(model):
        if not hasattr(layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as folder:
            layer.save_assets(folder)
            for file in sorted(pathlib.Path(folder).rglob("*")):
                if file.is_file():
                    z.write(file, f"{ASSETS}/{path}/{file.relative_to(folder).as_posix()}")


def read_assets(filepath, model):
    """Hands each layer with ``load_assets`` the files saved under its path in the ``.keras`` archive."""
    holders = [(path, layer) for path, layer, _ in walk_layers(model) if hasattr(layer, "load_assets")]
    if not holders:
        return
    if is_keras_dir(filepath):
        for path, layer in holders:
            folder = os.path.join(filepath, ASSETS, *path.split("/"))
            if os.path.isdir(folder):
                layer.load_assets(folder)
        return
    with zipfile.ZipFile(filepath, "r") as z:
        check_zip_members(z, filepath)
        names = z.namelist()
        for path, layer in holders:
            prefix = f"{ASSETS}/{path}/"
            files = [n for n in names if n.startswith(prefix) and not n.endswith("/")]
            if not files:
                continue  # nothing saved (e.g. a vocabulary given in the config)
            with tempfile.TemporaryDirectory() as folder:
                for name in files:
                    target = pathlib.Path(folder, *name[len(prefix) :].split("/"))
                    if ".." in target.relative_to(folder).parts:
                        raise ValueError(f"The .keras file {filepath} holds an unsafe asset path: {name!r}")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(z.read(name))
                layer.load_assets(folder)


# ---------------------------------------------------------------------------- reading
def _read_vars(group):
    if group is None or "vars" not in group:
        return None
    vars_group = group["vars"]
    keys = sorted(vars_group.keys(), key=lambda k: int(k) if k.isdigit() else k)
    return [np.asarray(vars_group[k]) for k in keys]


def plan_weights(h5file, model, source, skip_mismatch=False):
    """Checks the file against the model and returns ``[(layer, arrays)]`` to assign.

    Nothing is assigned here, so a bad file leaves the model unchanged.
    """
    plan, problems = [], []
    for path, layer, nested in walk_layers(model):
        if nested:
            continue
        expected = [tuple(w.shape) for w in _own_weights(layer, False)] if layer.weights else []
        group = h5file.get(path)
        values = _read_vars(group)
        if values is None:
            if expected:
                problems.append(
                    f"layer '{layer.name}' ({type(layer).__name__}, h5 path '{path}') is missing from the file"
                )
            continue
        if len(values) != len(expected):
            problems.append(
                f"layer '{layer.name}' ({type(layer).__name__}) expects {len(expected)} variables, the "
                f"file has {len(values)} at '{path}'"
            )
            continue
        shapes = [tuple(v.shape) for v in values]
        if shapes != expected:
            if skip_mismatch:
                continue
            problems.append(
                f"layer '{layer.name}' ({type(layer).__name__}) expects shapes {expected}, the file has "
                f"{shapes} at '{path}'"
            )
            continue
        if expected:
            plan.append((layer, values))
    check_weight_problems(problems, source, model)
    return plan


def check_weight_problems(problems, source, model):
    """The error of a weights file that does not fit ``model`` (``.keras``, ``.weights.h5`` and Keras 2 ``.h5``
    loading): its first five problems, raised before any weight is set."""
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValueError(
            f"The weights in {source} do not match model '{model.name}': "
            + "; ".join(problems[:5])
            + more
            + ". The file was probably saved from a different architecture. The model was not changed."
        )


def optimizer_store_layout(optimizer, store, to_keras):
    """Converts slot variables between the optimizer's torch layout and Keras layout.

    Slots mirror their parameter (a conv kernel's momentum is ``(out, in, kh, kw)`` inside,
    ``(kh, kw, in, out)`` in a Keras file). Arrays already in the target layout are left alone.
    """
    segments = _store_segments(optimizer, store)
    if segments is not None:
        # a MultiOptimizer: each inner optimizer converts its own run of variables
        out = dict(store)
        for start, child in segments:
            count = len(child.variables)
            part = {str(k): out[str(start + k)] for k in range(count) if str(start + k) in out}
            for key, value in optimizer_store_layout(child, part, to_keras).items():
                out[str(start + int(key))] = value
        return out
    slot_order = getattr(optimizer, "_slot_order", None)
    params = getattr(optimizer, "_params", None)
    if not slot_order or params is None:
        return store
    offset = len(store) - len(slot_order) - len(getattr(optimizer, "_extra_variables", lambda: [])())
    out = dict(store)
    for k, (_, i) in enumerate(slot_order):
        key = str(offset + k)
        p = params[i]
        if key not in out or not getattr(p, "_keras_layout", None):
            continue
        arr = np.asarray(out[key])
        if to_keras and arr.shape == tuple(p.shape):
            out[key] = keras_view(p, arr)
        elif not to_keras and arr.shape == keras_shape(p):
            out[key] = stored_view(p, arr)
    return out


def _store_segments(optimizer, store):
    """``[(first key, inner optimizer)]`` for a MultiOptimizer (also inside a LossScaleOptimizer), else None."""
    if hasattr(optimizer, "_variable_segments"):
        return optimizer._variable_segments()
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None and hasattr(inner, "_variable_segments"):
        start = len(store) - len(inner.variables)
        return [(start + pos, child) for pos, child in inner._variable_segments()]
    return None


def read_optimizer_vars(h5file):
    group = h5file.get("optimizer")
    if group is None or "vars" not in group:
        return None
    return {k: np.asarray(v) for k, v in group["vars"].items()}


def apply_plan(plan):
    for layer, values in plan:
        load = getattr(layer, "_load_saved_arrays", None)
        load(values) if load is not None else layer.set_weights(values)


def load_weights_from_h5(h5file, model, source, skip_mismatch=False):
    """Loads a Keras 3 layout weights group into ``model`` (validated before anything is assigned)."""
    plan = plan_weights(h5file, model, source, skip_mismatch=skip_mismatch)
    apply_plan(plan)


# A .keras member is inflated in memory, so its declared sizes are checked first (a 255 KiB file can declare
# 256 MiB of zeros). Weights compress little (about 1.1x; a model of all-zero weights more), so only a member
# that is both large and compressed far beyond that is refused.
_BOMB_MIN_SIZE = 16 * 2**20
_BOMB_RATIO = 100
_MAX_JSON_SIZE = 256 * 2**20


def check_zip_members(z, path):
    """Refuses a zip whose members declare sizes that look like a compression bomb, before inflating any."""
    for info in z.infolist():
        ratio = info.file_size / max(info.compress_size, 1)
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > _BOMB_MIN_SIZE and ratio > _BOMB_RATIO:
            raise ValueError(
                f"The .keras file {path} was refused: its member {info.filename!r} declares "
                f"{info.file_size} bytes compressed into {info.compress_size} (a ratio of {ratio:.0f}:1), "
                "the signature of a compression bomb rather than saved weights. Nothing was inflated "
                "or loaded."
            )
        if info.filename in (CONFIG, METADATA) and info.file_size > _MAX_JSON_SIZE:
            raise ValueError(
                f"The .keras file {path} was refused: its {info.filename!r} declares {info.file_size} "
                "bytes, far more than any model configuration. Nothing was loaded."
            )


def read_keras_zip(path):
    """Opens a ``.keras`` file (or a folder saved with ``zipped=False``): returns (config dict, metadata dict,
    weights bytes)."""
    if is_keras_dir(path):
        return _read_keras_dir(path)
    try:
        z = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise ValueError(
            f"The file {path} is not a valid .keras file (not a zip archive; truncated or a different format?)."
        ) from None
    with z:
        check_zip_members(z, path)
        names = set(z.namelist())
        missing = [m for m in (CONFIG, WEIGHTS) if m not in names]
        if missing:
            raise ValueError(
                f"The .keras file {path} is missing {missing} (it contains {sorted(names)}); it is "
                "incomplete or was not written by Keras/strided."
            )
        try:
            config = json.loads(z.read(CONFIG).decode("utf-8"))
            metadata = json.loads(z.read(METADATA).decode("utf-8")) if METADATA in names else {}
            weights = z.read(WEIGHTS)
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as e:
            raise ValueError(f"The .keras file {path} is corrupted: {e}") from None
    return config, metadata, weights


def _read_keras_dir(path):
    files = {name: os.path.join(path, name) for name in (CONFIG, METADATA, WEIGHTS)}
    if not os.path.isfile(files[WEIGHTS]):
        raise ValueError(
            f"The model folder {path} has no {WEIGHTS}; it is incomplete or was not written by Keras/strided."
        )
    try:
        with open(files[CONFIG], encoding="utf-8") as f:
            config = json.load(f)
        metadata = {}
        if os.path.isfile(files[METADATA]):
            with open(files[METADATA], encoding="utf-8") as f:
                metadata = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"The model folder {path} is corrupted: {e}") from None
    with open(files[WEIGHTS], "rb") as f:
        return config, metadata, f.read()
