"""Docstrings written once for a family of classes.

Conv1D, Conv2D and Conv3D (and each optimizer's shared arguments) document the same contract with a
few words changed. The text is written once as a template with ``{{name}}`` fields, and each class
fills it in, as Keras does for its optimizers (``{{base_optimizer_keyword_args}}``). ``{{`` is used
rather than ``str.format``'s ``{}`` because docstring examples contain dict and set literals.
"""

import re

_FIELD = re.compile(r"\{\{(\w+)\}\}")


def fill_doc(template, **fields):
    """Returns ``template`` with every ``{{name}}`` replaced by ``fields[name]``.

    A multi-line value is indented like the line its field stands on (its blank lines left empty), so a
    shared ``Args:`` block slots into any docstring. A field with no value is a programming error of the
    class that uses the template, reported with the field's name.

    Example:

    >>> fill_doc("{{rank}}D convolution over {{what}}.", rank=2, what="images")
    '2D convolution over images.'
    """

    def replace(match):
        name = match.group(1)
        if name not in fields:
            raise KeyError(f"Docstring template field `{{{{{name}}}}}` has no value; given: {sorted(fields)}")
        value = str(fields[name])
        line_start = template.rfind("\n", 0, match.start()) + 1
        indent = template[line_start : match.start()]
        if not indent.isspace():
            indent = ""
        return re.sub(r"\n(?=[^\n])", "\n" + indent, value)  # blank lines stay empty

    return _FIELD.sub(replace, template)
