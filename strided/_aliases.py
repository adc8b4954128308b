"""Import aliases so TensorFlow-Keras import lines keep working with one word changed.

``import strided.keras as keras`` and ``import strided.keras.layers as layers`` resolve to ``strided``
and ``strided.layers``: ``strided.keras.X`` is the module ``strided.X``.
"""

import importlib
import importlib.abc
import importlib.util
import sys

_PREFIX = "strided.keras"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        real = "strided" + fullname[len(_PREFIX) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def install():
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
