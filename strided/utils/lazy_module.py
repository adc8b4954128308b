"""Public namespaces that name things defined above them in the package order.

``strided.utils`` is both the bottom layer of the package and Keras's public ``keras.utils``, which also
holds ``image_dataset_from_directory``, ``plot_model``, ``FeatureSpace``... Importing those eagerly would
make every low module that imports ``strided.utils.validation`` import the whole package. A public
namespace therefore lists such names in one table, ``{name: defining module}``, and resolves each on
first use through a module ``__getattr__`` (PEP 562).
"""

import importlib


def lazy_attributes(module_name, table):
    """The module ``__getattr__`` of ``module_name`` that imports ``table[name]`` and returns its ``name``."""

    def __getattr__(name):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
