"""KerasFileEditor: inspect, edit and resave the weights of ``.keras`` and ``.weights.h5`` files.

The editor reads the weights of a file into a nested dict that mirrors the file's groups
(``{"layers": {"conv2d": {"0": kernel, "1": bias}}, "optimizer": {...}}``), lets the user rename,
delete and add objects and weights in it, and writes it back as a ``.weights.h5`` file in the
Keras 3 layout (``layers/conv2d/vars/0``...), which ``model.load_weights`` reads in strided and in
Keras. It follows Keras 3.15's ``keras.saving.KerasFileEditor`` (``keras/src/saving/file_editor.py``)
in what it reads, what it counts in ``compare`` and what it prints, without ``rich``: the lines are
plain text.
"""

import collections
import io
import math
import os

import numpy as np

from strided.saving import keras_format
from strided.utils.file_utils import atomic_path

# Refuse to read a dataset larger than this: a malformed or hostile file could otherwise claim any size.
_MAX_DATASET_BYTES = 1 << 32  # 4 GiB, Keras's limit


class _WeightSpec:
    """Shape and dtype of one weight of a reference model (what ``compare`` checks)."""

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = dtype

    def __repr__(self):
        return f"<weight shape={self.shape}, dtype={self.dtype}>"


def _as_array(value):
    """A weight given by the user (array, list, torch tensor, strided Variable) as a NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def model_weight_spec(model):
    """The nested dict of ``_WeightSpec`` that ``model`` would write into a weights file.

    Its structure is that of the file (``layers/<class path>``, ``optimizer``), in the model's own
    order, keeping only the objects that own weights (as Keras's ``get_weight_spec_of_saveable``).
    """
    spec = {}

    def put(path, arrays):
        if not arrays:
            return
        node = spec
        for part in path.split("/"):
            node = node.setdefault(part, {})
        for key in sorted(arrays):
            value = arrays[key]
            node[key] = _WeightSpec(np.shape(value), np.asarray(value).dtype)

    for path, layer, nested in keras_format.walk_layers(model):
        arrays = keras_format._own_weights(layer, nested)
        put(path, {str(i): np.asarray(v) for i, v in enumerate(arrays)})
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        store = {}
        optimizer.save_own_variables(store)
        put("optimizer", keras_format.optimizer_store_layout(optimizer, store, to_keras=True))
        inner = getattr(optimizer, "inner_optimizer", None)
        if inner is not None and getattr(inner, "built", False):
            store = {}
            inner.save_own_variables(store)
            put("optimizer/inner_optimizer", keras_format.optimizer_store_layout(inner, store, to_keras=True))
    return spec


class KerasFileEditor:
    """Utility to inspect, edit, and resave Keras weights files.

    You will find this class useful when adapting
    an old saved weights file after having made
    architecture changes to a model.

    The file's weights are read into `weights_dict`, a nested dict that mirrors the groups of the
    file: `{"layers": {"dense": {"0": kernel, "1": bias}, ...}, "optimizer": {"0": ..., ...}}`.
    Objects are addressed by their path in the file (`"layers/dense_2"`) or, when unique, by their
    last name (`"dense_2"`). The edited weights are written with `save()` as a `.weights.h5` file
    that `model.load_weights()` reads (in strided and in Keras).

    As in Keras, an object whose own `vars` group is empty (a nested Sequential or functional
    model) is not read, nor is anything below it. Unlike Keras 3.15, a short name is found
    whatever objects follow it (Keras miscounts a name as ambiguous when another object, such as
    `"optimizer"`, comes after the one holding it).

    Args:
        filepath: The path to a local file to inspect and edit
            (a `.keras` or a `.weights.h5` file).

    Examples:

    ```python
    editor = KerasFileEditor("my_model.weights.h5")

    # Displays current contents
    editor.summary()

    # Remove the weights of an existing layer
    editor.delete_object("layers/dense_2")

    # Add the weights of a new layer
    editor.add_object("layers/einsum_dense", weights={"0": ..., "1": ...})

    # Save the weights of the edited model
    editor.resave_weights("edited_model.weights.h5")
    ```
    """

    def __init__(self, filepath):
        self.filepath = filepath
        self.metadata = None
        self.config = None
        self.model = None
        path = os.fspath(filepath) if isinstance(filepath, os.PathLike) else filepath
        if not isinstance(path, str):
            raise TypeError(
                "Invalid type for argument `filepath`. Expected a string or a path. "
                f"Received: filepath={filepath!r} of type {type(filepath).__name__}"
            )
        h5py = keras_format._h5py()
        if path.endswith(".keras"):
            config, metadata, weights = keras_format.read_keras_zip(path)
            self.config = config
            self.metadata = metadata or None
            source = h5py.File(io.BytesIO(weights), "r")
        elif path.endswith(".weights.h5"):
            if not os.path.exists(path):
                raise ValueError(f"File not found: filepath={path}")
            source = h5py.File(path, "r")
        else:
            raise ValueError(
                f"Invalid filename: expected a `.keras` `.weights.h5` extension. Received: filepath={path}"
            )
        with source:
            self.weights_dict, self.object_metadata = self._extract_weights_from_store(source)
        print(self._generate_filepath_info())
        if self.metadata is not None:
            print(self._generate_metadata_info())

    # ------------------------------------------------------------------ reading
    def _extract_weights_from_store(self, data, metadata=None, inner_path=""):
        """``(weights tree, {group path: attributes})`` of an h5py group, read as Keras reads it."""
        h5py = keras_format._h5py()

        metadata = metadata if metadata is not None else {}
        attributes = dict(data.attrs.items())
        if attributes:
            metadata[inner_path] = attributes
        result = collections.OrderedDict()
        for key in data.keys():
            current = f"{inner_path}/{key}"
            link = data.get(key, default=None, getclass=True, getlink=True)
            if link in (h5py.ExternalLink, h5py.SoftLink):
                raise ValueError(f"Not allowed: H5 file with {link.__name__} (at {current})")
            value = data[key]
            if isinstance(value, h5py.Group):
                if len(value) == 0:
                    continue
                if "vars" in value.keys():
                    # An object's weights are in its `vars` group; an empty one means the object holds none
                    # of its own, and Keras then skips the whole object (sub-objects included).
                    value = value["vars"]
                    if not isinstance(value, h5py.Group) or len(value) == 0:
                        continue
                result[key], metadata = self._extract_weights_from_store(value, metadata=metadata, inner_path=current)
                continue
            if not isinstance(value, h5py.Dataset):
                continue
            if value.external:
                raise ValueError(f"Not allowed: H5 file Dataset with external links: {value.external}")
            if value.is_virtual:
                raise ValueError(f"Not allowed: H5 file with virtual Dataset at {current}")
            shape = value.shape if value.shape is not None else ()
            if any(dim < 0 for dim in shape):
                raise ValueError(
                    "Malformed HDF5 dataset shape encountered in .keras file; negative dimension detected."
                )
            if len(shape) > 64:
                raise ValueError(
                    "Malformed HDF5 dataset shape encountered in .keras file; tensor rank exceeds safety limit."
                )
            size = math.prod(shape) * value.dtype.itemsize
            if size > _MAX_DATASET_BYTES:
                raise ValueError(
                    f"HDF5 dataset too large to load safely ({size} bytes; limit is {_MAX_DATASET_BYTES})."
                )
            result[key] = value[()]
        return result, metadata

    # ------------------------------------------------------------------ printing
    def _generate_filepath_info(self, rich_style=False):
        return f"Keras model file '{self.filepath}'"

    def _generate_config_info(self, rich_style=False):
        import pprint

        return pprint.pformat(self.config)

    def _generate_metadata_info(self, rich_style=False):
        version = self.metadata.get("keras_version")
        date = self.metadata.get("date_saved")
        return f"Saved with Keras {version} - date: {date}"

    def _print_weights_structure(self, weights_dict, indent=0, is_first=True, prefix="", inner_path=""):
        # Keras's tree drawing, line for line: only the very first entry gets "> ".
        for idx, (key, value) in enumerate(weights_dict.items()):
            inner_path = os.path.join(inner_path, key)
            is_last = idx == len(weights_dict) - 1
            if is_first:
                is_first = False
                connector = "> "
            elif is_last:
                connector = "└─ "
            else:
                connector = "├─ "
            if isinstance(value, dict):
                # Keras means to add " ('<layer name>')" here, but looks the name up under a path without
                # the leading "/" of its `object_metadata` keys, so it never shows; the lines are Keras's.
                print(f"{prefix}{connector}{key}")
                self._print_weights_structure(
                    value,
                    indent + 1,
                    is_first=is_first,
                    prefix=prefix + ("    " if is_last else "│   "),
                    inner_path=inner_path,
                )
            elif hasattr(value, "shape"):
                print(f"{prefix}{connector}{key}: shape={value.shape}, dtype={value.dtype}")
            else:
                print(f"{prefix}{connector}{key}: {value}")

    def summary(self):
        """Prints the weight structure of the opened file."""
        print("Weights structure")
        self._print_weights_structure(self.weights_dict, prefix=" " * 2)

    # ------------------------------------------------------------------ comparing
    def compare(self, reference_model):
        """Compares the opened file to a reference model.

        This method will list all mismatches between the
        currently opened file and the provided reference model.

        Args:
            reference_model: Model instance to compare to.

        Returns:
            Dict with the following keys:
            `'status'`, `'error_count'`, `'match_count'`.
            Status can be `'success'` or `'error'`.
            `'error_count'` is the number of mismatches found.
            `'match_count'` is the number of matching weights found.
            (The counts are Keras's: a nested object's count is added
            to the running total it started from, as Keras 3.15 does.)
        """
        if not hasattr(reference_model, "layers"):
            raise TypeError(
                "Invalid type for argument `reference_model`. Expected a Keras model (Sequential, "
                f"functional or subclassed). Received: reference_model={reference_model!r}"
            )
        print("Running comparison")
        ref_spec = model_weight_spec(reference_model)

        def _compare(target, ref, inner_path, target_name, ref_name, error_count, match_count, checked_paths):
            # Keras passes the running counts down and adds what comes back to them again; the
            # returned numbers (and thus `match_count`) follow that rule exactly.
            base_inner_path = inner_path
            for ref_key, ref_val in ref.items():
                inner_path = f"{base_inner_path}/{ref_key}"
                if inner_path in checked_paths:
                    continue
                if not isinstance(target, dict) or ref_key not in target:
                    error_count += 1
                    checked_paths.add(inner_path)
                    if isinstance(ref_val, dict):
                        print(f"...Object {inner_path} present in {ref_name}, missing from {target_name}")
                        print(f"    In {ref_name}, {inner_path} contains the following keys: {list(ref_val.keys())}")
                    else:
                        print(f"...Weight {inner_path} present in {ref_name}, missing from {target_name}")
                elif isinstance(ref_val, dict):
                    sub_errors, sub_matches = _compare(
                        target[ref_key],
                        ref_val,
                        inner_path,
                        target_name,
                        ref_name,
                        error_count=error_count,
                        match_count=match_count,
                        checked_paths=checked_paths,
                    )
                    error_count += sub_errors
                    match_count += sub_matches
                else:
                    target_shape = getattr(target[ref_key], "shape", None)
                    target_shape = tuple(target_shape) if target_shape is not None else None
                    if target_shape != tuple(ref_val.shape):
                        error_count += 1
                        checked_paths.add(inner_path)
                        print(
                            f"...Weight shape mismatch for {inner_path}\n"
                            f"    In {ref_name}: shape={tuple(ref_val.shape)}\n"
                            f"    In {target_name}: shape={target_shape}"
                        )
                    else:
                        match_count += 1
            return error_count, match_count

        checked_paths = set()
        error_count, match_count = _compare(
            self.weights_dict, ref_spec, "", "saved file", "reference model", 0, 0, checked_paths
        )
        reverse_errors, _ = _compare(
            ref_spec, self.weights_dict, "", "reference model", "saved file", 0, 0, checked_paths
        )
        error_count += reverse_errors
        print("─────────────────────")
        if error_count == 0:
            status = "success"
            print("Comparison successful: saved file is compatible with the reference model")
            print(f"    Found {match_count} matching weight{'' if match_count == 1 else 's'}")
        else:
            status = "error"
            print(
                f"Found {error_count} error{'' if error_count == 1 else 's'}: saved file is not compatible with "
                "the reference model"
            )
        return {"status": status, "error_count": error_count, "match_count": match_count}

    # ------------------------------------------------------------------ editing
    def _edit_object(self, edit_fn, source_name, target_name=None):
        if not isinstance(source_name, str):
            raise TypeError(
                "Invalid type for the object name. Expected a string (a name such as 'dense_2' or a "
                f"path such as 'layers/dense_2'). Received: {source_name!r}"
            )
        if target_name is not None and "/" in target_name:
            raise ValueError(
                "Argument `target_name` should be a leaf name, not a full path name. "
                f"Received: target_name='{target_name}'"
            )
        if "/" in source_name:
            elements = source_name.split("/")
            weights_dict = self.weights_dict
            for e in elements[:-1]:
                if not isinstance(weights_dict, dict) or e not in weights_dict:
                    raise ValueError(f"Path '{source_name}' not found in model.")
                weights_dict = weights_dict[e]
            if not isinstance(weights_dict, dict) or elements[-1] not in weights_dict:
                raise ValueError(f"Path '{source_name}' not found in model.")
            edit_fn(weights_dict, source_name=elements[-1], target_name=target_name)
            return

        def count_occurrences(d):
            count = 0
            for value in d.values():
                if isinstance(value, dict):
                    count += count_occurrences(value)
            return count + (1 if source_name in d else 0)

        occurrences = count_occurrences(self.weights_dict)
        if occurrences > 1:
            raise ValueError(f"Name '{source_name}' occurs more than once in the model; try passing a complete path")
        if occurrences == 0:
            raise ValueError(
                f"Source name '{source_name}' does not appear in the model. Use `editor.summary()` to list all objects."
            )

        def _edit(d):
            for key in list(d):
                if key in d and isinstance(d[key], dict):
                    _edit(d[key])
            if source_name in d:
                edit_fn(d, source_name=source_name, target_name=target_name)

        _edit(self.weights_dict)

    def rename_object(self, object_name, new_name):
        """Rename an object in the file (e.g. a layer).

        Args:
            object_name: String, name or path of the
                object to rename (e.g. `"dense_2"` or
                `"layers/dense_2"`).
            new_name: String, new name of the object.
        """
        if not isinstance(new_name, str) or not new_name:
            raise ValueError(f"Argument `new_name` should be a non-empty string. Received: new_name={new_name!r}")

        def rename_fn(weights_dict, source_name, target_name):
            weights_dict[target_name] = weights_dict.pop(source_name)

        self._edit_object(rename_fn, object_name, new_name)

    def delete_object(self, object_name):
        """Removes an object from the file (e.g. a layer).

        Args:
            object_name: String, name or path of the
                object to delete (e.g. `"dense_2"` or
                `"layers/dense_2"`).
        """

        def delete_fn(weights_dict, source_name, target_name=None):
            weights_dict.pop(source_name)

        self._edit_object(delete_fn, object_name)

    @staticmethod
    def _check_weights(weights):
        if not isinstance(weights, dict):
            raise ValueError(
                "Argument `weights` should be a dict where keys are weight names (usually '0', '1', "
                f"etc.) and values are NumPy arrays. Received: type(weights)={type(weights)}"
            )
        return {str(k): (v if isinstance(v, dict) else _as_array(v)) for k, v in weights.items()}

    def add_object(self, object_path, weights):
        """Add a new object to the file (e.g. a layer).

        Args:
            object_path: String, full path of the
                object to add (e.g. `"layers/dense_2"`).
            weights: Dict mapping weight names to weight
                values (arrays),
                e.g. `{"0": kernel_value, "1": bias_value}`.
        """
        weights = self._check_weights(weights)
        if not isinstance(object_path, str):
            raise TypeError(
                f"Invalid type for argument `object_path`. Expected a string such as 'layers/dense_2'. "
                f"Received: object_path={object_path!r}"
            )
        if "/" in object_path:
            elements = object_path.split("/")
            partial_path = "/".join(elements[:-1])
            weights_dict = self.weights_dict
            for e in elements[:-1]:
                if not isinstance(weights_dict, dict) or e not in weights_dict:
                    raise ValueError(f"Path '{partial_path}' not found in model.")
                weights_dict = weights_dict[e]
            weights_dict[elements[-1]] = weights
        else:
            self.weights_dict[object_path] = weights

    def delete_weight(self, object_name, weight_name):
        """Removes a weight from an existing object.

        Args:
            object_name: String, name or path of the
                object from which to remove the weight
                (e.g. `"dense_2"` or `"layers/dense_2"`).
            weight_name: String, name of the weight to
                delete (e.g. `"0"`).
        """

        def delete_weight_fn(weights_dict, source_name, target_name=None):
            holder = weights_dict[source_name]
            if not isinstance(holder, dict) or weight_name not in holder:
                found = list(holder.keys()) if isinstance(holder, dict) else []
                raise ValueError(f"Weight {weight_name} not found in object {object_name}. Weights found: {found}")
            holder.pop(weight_name)

        self._edit_object(delete_weight_fn, object_name)

    def add_weights(self, object_name, weights):
        """Add one or more new weights to an existing object.

        Args:
            object_name: String, name or path of the
                object to add the weights to
                (e.g. `"dense_2"` or `"layers/dense_2"`).
            weights: Dict mapping weight names to weight
                values (arrays),
                e.g. `{"0": kernel_value, "1": bias_value}`.
        """
        weights = self._check_weights(weights)

        def add_weight_fn(weights_dict, source_name, target_name=None):
            holder = weights_dict[source_name]
            if not isinstance(holder, dict):
                raise ValueError(
                    f"'{object_name}' is a weight, not an object: weights can only be added to an "
                    "object (e.g. a layer)."
                )
            holder.update(weights)

        self._edit_object(add_weight_fn, object_name)

    # ------------------------------------------------------------------ writing
    def save(self, filepath):
        """Save the edited weights file.

        Args:
            filepath: Path to save the file to.
                Must be a `.weights.h5` file.
        """
        filepath = os.fspath(filepath) if isinstance(filepath, os.PathLike) else str(filepath)
        if not filepath.endswith(".weights.h5"):
            raise ValueError(
                f"Invalid `filepath` argument: expected a `.weights.h5` extension. Received: filepath={filepath}"
            )
        h5py = keras_format._h5py()

        def write(h5file, weights_dict, inner_path):
            arrays = {}
            for name, value in weights_dict.items():
                if isinstance(value, dict):
                    if value:
                        write(h5file, value, f"{inner_path}/{name}" if inner_path else name)
                else:
                    arrays[name] = value
            if arrays:
                group = h5file.require_group(inner_path) if inner_path else h5file
                vars_group = group.create_group("vars")
                for name, value in arrays.items():
                    vars_group.create_dataset(name, data=_as_array(value))

        with atomic_path(filepath) as tmp:
            with h5py.File(tmp, "w") as f:
                write(f, self.weights_dict, "")

    def resave_weights(self, filepath):
        """Save the edited weights as a `.weights.h5` file (the same as `save`).

        Args:
            filepath: Path to save the file to.
                Must be a `.weights.h5` file.
        """
        self.save(filepath)
