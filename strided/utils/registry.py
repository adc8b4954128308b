"""Name registries behind ``initializers.get``, ``losses.get``, ``optimizers.get``...

One small class gives every registry the same Keras behaviour: look up by Keras name or alias,
build from a ``{'class_name': ..., 'config': ...}`` dict (Keras 3 or tf.keras 2 layout), pass
instances and callables through, serialize back to the Keras 3 dict layout, and reject unknown
names with a ValueError that lists the valid ones and suggests the closest.
"""

import difflib
import inspect
import re

from strided.utils import object_registration


class FromConfig:
    """The Keras config round trip every (de)serializable object shares: ``from_config`` is ``cls(**config)``,
    and ``_config_keys`` names the constructor arguments an object keeps as attributes of the same name and
    writes in its config as they are. Each class lists its own; ``_keys_config()`` gathers those of the class
    and of its bases (bases first, so a subclass's keys follow its base's in the config): the whole
    ``get_config`` of an object that has no other entries."""

    _config_keys = ()

    def _keys_config(self):
        config = {}
        for klass in reversed(type(self).__mro__):
            config.update({key: getattr(self, key) for key in vars(klass).get("_config_keys", ())})
        return config

    def get_config(self):
        return self._keys_config()

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Configurable(FromConfig):
    """The base of the small objects a registry (de)serializes by their config (initializers, regularizers,
    constraints, learning-rate schedules): the ``repr`` shows the config (just the class name while
    ``get_config`` is not implemented)."""

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{self.__class__.__name__}({args})"


def to_snake_case(name):
    """``'GlorotUniform'`` -> ``'glorot_uniform'`` (Keras's rule)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


def public_classes(namespace):
    """The classes a module names in its ``__all__`` (``namespace`` is its ``globals()``), in that order: the table
    of a registry module, which registers the classes it exports."""
    return [value for value in map(namespace.get, namespace["__all__"]) if inspect.isclass(value)]


class Registry:
    """A table of Keras names -> classes or functions for one kind of object.

    Args:
        kind: what the objects are, for messages (``'initializer'``).
        module: the Keras module name written by ``serialize`` (``'keras.initializers'``).
        case_insensitive: look names up ignoring case (Keras does so for optimizers).
        objects, aliases, snake: the table to start with, registered by ``register_all``.
    """

    def __init__(self, kind, module, case_insensitive=False, objects=(), aliases=None, snake=True):
        self.kind = kind
        self.module = module
        self.case_insensitive = case_insensitive
        self.objects = {}
        self._primary = []  # names listed in error messages (no alias noise)
        self.register_all(objects, aliases, snake=snake)

    def _key(self, name):
        return name.lower() if self.case_insensitive else name

    def register(self, obj, *aliases, snake=True):
        """Registers ``obj`` under its ``__name__``, its snake_case name and ``aliases``."""
        names = [obj.__name__]
        if snake and inspect.isclass(obj):
            names.append(to_snake_case(obj.__name__))
        names.extend(aliases)
        for n in names:
            self.objects[self._key(n)] = obj
        self._primary.append(names[1] if len(names) > 1 and inspect.isclass(obj) and snake else names[0])
        return obj

    def register_all(self, objects, aliases=None, snake=True):
        """Registers each of ``objects`` as ``register`` does, then ``aliases`` (``{name: obj}``): other names
        (Keras's short and tf.keras 2 ones) that look an object up but are not listed in error messages."""
        for obj in objects:
            self.register(obj, snake=snake)
        for name, obj in (aliases or {}).items():
            self.objects[self._key(name)] = obj

    def valid_names(self):
        return sorted(set(self._primary))

    def lookup(self, name, arg_name="identifier"):
        """Returns the class or function registered as ``name`` (or a custom object registered with
        ``register_keras_serializable`` / in a ``custom_object_scope``); ValueError listing valid names."""
        obj = self.objects.get(self._key(name))
        if obj is None:
            obj = object_registration.lookup(name)
        if obj is None:
            raise ValueError(self._unknown_message(name, arg_name))
        return obj

    def _unknown_message(self, name, arg_name):
        close = difflib.get_close_matches(str(name), list(self.objects), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return (
            f"Could not interpret {self.kind} identifier: {name!r}. Unknown {self.kind} name.{hint} "
            f"Expected one of {self.valid_names()}. Received: {arg_name}={name!r}"
        )

    def serialize(self, obj):
        """Keras 3 layout: ``{'module', 'class_name', 'config', 'registered_name'}``."""
        if obj is None or isinstance(obj, str):
            return obj
        if inspect.isfunction(obj) or inspect.isbuiltin(obj):
            return {
                "module": "builtins",
                "class_name": "function",
                "config": obj.__name__,
                "registered_name": "function",
            }
        if not hasattr(obj, "get_config"):
            raise TypeError(f"Cannot serialize {self.kind} {obj!r}: it has no `get_config()` method.")
        cls = type(obj)
        registered = self.objects.get(self._key(cls.__name__)) is cls
        return {
            "module": self.module if registered else cls.__module__,
            "class_name": cls.__name__,
            "config": obj.get_config(),
            "registered_name": None if registered else object_registration.get_registered_name(cls),
        }

    def deserialize(self, config, custom_objects=None, arg_name="config"):
        """Builds an object from a serialized dict (or a bare name string)."""
        custom_objects = custom_objects or {}
        if isinstance(config, str):
            obj = object_registration.lookup(config, custom_objects) or self.lookup(config, arg_name)
            return obj() if inspect.isclass(obj) else obj
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(
                f"Could not deserialize {self.kind}: expected a string or a dict with a "
                f"'class_name' key. Received: {arg_name}={config!r}"
            )
        class_name = config["class_name"]
        inner = config.get("config", {})
        if class_name == "function":  # a serialized function: the name is the config
            name = inner
            return object_registration.lookup(name, custom_objects) or self.lookup(name, arg_name)
        name = config.get("registered_name") or class_name
        obj = object_registration.lookup(name, custom_objects) or object_registration.lookup(class_name, custom_objects)
        if obj is None:
            obj = self.lookup(class_name, arg_name)
        if not inspect.isclass(obj):
            return obj
        inner = dict(inner or {})
        if hasattr(obj, "from_config"):
            return obj.from_config(inner)
        return obj(**inner)

    def get(self, identifier, arg_name="identifier", instantiate_classes=True):
        """Keras ``get``: None, a name, a config dict, a class, an instance or a callable."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            return self.deserialize(identifier, arg_name=arg_name)
        if isinstance(identifier, str):
            obj = self.lookup(identifier, arg_name)
        else:
            obj = identifier
        if inspect.isclass(obj) and instantiate_classes:
            return obj()
        if callable(obj):
            return obj
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {identifier!r}. Expected a string "
            f"name, a config dict or a callable. Received: {arg_name}={identifier!r}"
        )
