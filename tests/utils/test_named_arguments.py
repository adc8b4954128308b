"""named_arguments (constructors handing their full signature on) and fill_doc's blank lines."""

from strided.utils.docstrings import fill_doc
from strided.utils.general_utils import named_arguments


class _Base:
    def __init__(self, **arguments):
        self.arguments = arguments


class _Child(_Base):
    def __init__(self, units, activation="tanh", seed=None, **kwargs):
        super().__init__(**named_arguments(locals()), **kwargs)


def test_named_arguments_are_the_parameters_positional_or_not():
    assert _Child(3, "relu").arguments == {"units": 3, "activation": "relu", "seed": None}
    assert _Child(units=4, seed=1, name="x").arguments == {"units": 4, "activation": "tanh", "seed": 1, "name": "x"}


def test_blank_lines_of_a_filled_value_stay_empty():
    out = fill_doc("    {{shapes}}\n", shapes="Input shape:\n    Any.\n\nOutput shape:\n    Same.")
    assert out == "    Input shape:\n        Any.\n\n    Output shape:\n        Same.\n"
