"""Registry.register_all: a module states its table (objects and aliases) in one call."""

import importlib

import pytest

from strided.utils.registry import Registry, public_classes


class Widget:
    pass


class BigWidget:
    pass


def widget_fn():
    return 1


def test_register_all_registers_objects_and_aliases():
    reg = Registry("widget", "keras.widgets", objects=(Widget, BigWidget, widget_fn), aliases={"bw": BigWidget})
    assert reg.lookup("BigWidget") is BigWidget
    assert reg.lookup("big_widget") is BigWidget
    assert reg.lookup("bw") is BigWidget
    assert reg.lookup("widget_fn") is widget_fn
    # aliases look an object up but are not listed among the valid names
    assert reg.valid_names() == ["big_widget", "widget", "widget_fn"]
    with pytest.raises(ValueError, match=r"Did you mean 'bw'\?") as info:
        reg.lookup("bww")
    assert "'bw'" not in str(info.value).split("Expected one of")[1]


def test_register_all_without_snake_names_and_case_insensitive_aliases():
    reg = Registry("widget", "keras.widgets", case_insensitive=True)
    reg.register_all((Widget, BigWidget), aliases={"BW": BigWidget}, snake=False)
    assert reg.lookup("bigwidget") is BigWidget
    assert reg.lookup("bw") is BigWidget
    with pytest.raises(ValueError, match="Unknown widget name"):
        reg.lookup("big_widget")
    assert reg.valid_names() == ["BigWidget", "Widget"]


def test_public_classes_reads_all():
    namespace = {"__all__": ["Widget", "widget_fn", "BigWidget"], "Widget": Widget, "BigWidget": BigWidget}
    namespace["widget_fn"] = widget_fn
    assert public_classes(namespace) == [Widget, BigWidget]


@pytest.mark.parametrize("module_name", ["constraints", "regularizers", "initializers", "metrics", "optimizers"])
def test_every_exported_class_is_registered(module_name):
    module = importlib.import_module(f"strided.{module_name}")
    registry = getattr(module, "_REGISTRY", None) or module.OPTIMIZERS
    for cls in public_classes(vars(module)):
        assert registry.lookup(cls.__name__) is cls
