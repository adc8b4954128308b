"""lazy_attributes: the one lazy __getattr__/__dir__ of strided's public namespaces and packages."""

import sys
import types

import pytest

from strided.utils.lazy_module import lazy_attributes


def test_table_names_submodules_and_unknown_names(monkeypatch):
    module = types.ModuleType("strided_lazy_probe")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(sys.modules, "strided_lazy_probe.sub", types.ModuleType("strided_lazy_probe.sub"))
    module.__getattr__, module.__dir__ = lazy_attributes(module.__name__, {"dumps": "json"}, ("sub",))

    import json

    assert module.dumps is json.dumps
    assert "dumps" in vars(module)  # kept on the module: resolved once
    assert module.sub is sys.modules["strided_lazy_probe.sub"]
    assert {"dumps", "sub"} <= set(dir(module))
    with pytest.raises(AttributeError, match="module 'strided_lazy_probe' has no attribute 'nope'"):
        module.nope


def test_packages_resolve_their_lazy_names():
    import strided

    assert strided.keras is strided
    assert "mnist" in dir(strided.datasets)
    assert strided.applications.ResNet50 is strided.applications.resnet.ResNet50
    assert strided.data.experimental.AUTOTUNE == strided.data.AUTOTUNE
