"""Registry.register_all: a module states its table (objects and aliases) in one call."""

import pytest

from strided.utils.registry import Registry


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
