"""Public namespaces that name things defined above them in the package order, and packages whose submodules
load on first use.

``strided.utils`` is both the bottom layer of the package and Keras's public ``keras.utils``, which also
holds ``image_dataset_from_directory``, ``plot_model``, ``FeatureSpace``... Importing those eagerly would
make every low module that imports ``strided.utils.validation`` import the whole package. A public
namespace therefore lists such names in one table, ``{name: defining module}``, and resolves each on
first use through a module ``__getattr__`` (PEP 562); ``import strided`` loads its submodules the same way.
"""

import importlib
import sys


def lazy_attributes(module_name, table=None, submodules=()):
    """The module ``__getattr__`` and ``__dir__`` of ``module_name``.

    ``__getattr__(name)`` imports ``table[name]`` and returns its ``name``, or, for a name in ``submodules``,
    imports and returns the submodule ``module_name.name``; the value is then kept on the module, so each name
    is resolved once. ``__dir__`` lists these names with the module's own.
    """
    table = table or {}

    def __getattr__(name):
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
        elif name in submodules:
            value = importlib.import_module(f"{module_name}.{name}")
        else:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        setattr(sys.modules[module_name], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[module_name])) | set(table) | set(submodules))

    return __getattr__, __dir__
