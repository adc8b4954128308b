"""Griffe extension of the API site (mkdocs.yml): reads Keras's docstring layout the way griffe's Google parser does.

Keras writes ``Example:`` followed by a blank line and unindented ``>>>`` lines; griffe's Google parser wants
``Examples:`` with the block indented under it, and then renders the ``>>>`` lines as Python console code. The
docstring is rewritten that way before parsing; the source keeps Keras's layout.
"""

import re

import griffe

_HEADING = re.compile(r"^(Examples?):\s*$")
_ANY_HEADING = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def keras_to_google(text):
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if not _HEADING.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        out.append("Examples:")
        i += 1
        block = []
        while i < len(lines) and not _ANY_HEADING.match(lines[i]):
            block.append(lines[i])
            i += 1
        while block and not block[0].strip():
            block.pop(0)
        indented = all(not line.strip() or line.startswith("    ") for line in block)
        out.extend(line if indented or not line.strip() else "    " + line for line in block)
    return "\n".join(out)


class KerasSections(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.is_attribute:
            # Inspection gives a class attribute (``supports_masking = True``) the docstring of its value's type
            # (``bool``): not documentation of ours, so the attribute is left undocumented (and hidden).
            obj.docstring = None
            return
        docstring = getattr(obj, "docstring", None)
        if docstring is not None and "Example" in docstring.value:
            docstring.value = keras_to_google(docstring.value)
