"""Custom objects for saving and loading: ``register_keras_serializable`` and ``custom_object_scope``.

A custom layer, model, loss or metric saved in a file is found again by name when the file is
loaded. Names are looked up, in this order, in the ``custom_objects`` argument of the loading
function, the innermost ``custom_object_scope``, and the global table that
``register_keras_serializable`` fills (by its registered name ``'package>Name'`` and by the bare name).
"""

import contextlib
import inspect

_GLOBAL_CUSTOM_OBJECTS = {}  # registered name ('Custom>MyLayer') -> object
_GLOBAL_CUSTOM_NAMES = {}  # object -> registered name
_SCOPES = []  # dicts pushed by custom_object_scope


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under ``'package>name'`` so saved files can find it.

    Args:
        package: a namespace for the name (default ``'Custom'``).
        name: the name within the package; default: the object's ``__name__``.

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="MyLayers")
    class Scale(keras.layers.Layer):
        ...
    model.save("m.keras"); keras.models.load_model("m.keras")  # no custom_objects needed
    ```
    """

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        if registered in _GLOBAL_CUSTOM_OBJECTS and _GLOBAL_CUSTOM_OBJECTS[registered] is not obj:
            raise ValueError(f"{registered} has already been registered to {_GLOBAL_CUSTOM_OBJECTS[registered]}")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj):
    """The name ``obj`` is saved under: its registered ``'package>name'``, else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object saved as ``name`` (see the module docstring for the lookup order), or None."""
    found = lookup(name, custom_objects)
    if found is None and module_objects:
        found = module_objects.get(name)
    return found


def get_custom_objects():
    """The global table of registered objects (a live dict: entries added to it are found on load)."""
    return _GLOBAL_CUSTOM_OBJECTS


@contextlib.contextmanager
def custom_object_scope(*scopes):
    """A ``with`` scope in which the given ``{name: object}`` dicts are found on load."""
    merged = {}
    for scope in scopes:
        merged.update(scope or {})
    _SCOPES.append(merged)
    try:
        yield merged
    finally:
        _SCOPES.pop()


CustomObjectScope = custom_object_scope


def lookup(name, custom_objects=None):
    """The object for ``name`` (a registered ``'package>name'`` or a bare name), or None."""
    if not name:
        return None
    bare = name.split(">", 1)[-1]
    for table in (custom_objects or {}, *reversed(_SCOPES)):
        for key in (name, bare):
            if key in table:
                return table[key]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    matches = [obj for registered, obj in _GLOBAL_CUSTOM_OBJECTS.items() if registered.split(">", 1)[-1] == bare]
    return matches[0] if len(matches) == 1 else None
