"""fill_doc: the one docstring-template helper that class families share."""

import pytest

from strided.utils.docstrings import fill_doc


def test_fields_are_filled_and_multiline_values_keep_the_indent():
    template = "Conv{{rank}}D.\n\n    Args:\n        {{shared}}\n        own: {'a': 1}\n"
    out = fill_doc(template, rank=2, shared="x: one.\ny: two.")
    assert out == "Conv2D.\n\n    Args:\n        x: one.\n        y: two.\n        own: {'a': 1}\n"


def test_a_missing_field_is_named():
    with pytest.raises(KeyError, match="rank"):
        fill_doc("Conv{{rank}}D", filters=3)
