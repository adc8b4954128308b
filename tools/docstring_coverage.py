"""Counts how many public layer classes document their contract: Args, Input shape, Output shape, Example.

    python tools/docstring_coverage.py [--missing]

A public layer class is a class exported by ``strided.layers`` (each object once, aliases such as ``MaxPool2D``
counted with their class) that subclasses ``strided.layers.Layer``. A docstring section counts when its heading
line (``Args:``, ``Input shape:``, ``Output shape:``, ``Example:``/``Examples:``) is present; an example counts when
it has a ``>>>`` line (the doctests run by tests/layers/test_docstrings.py). ``--missing`` lists the classes that
lack something. For comparison it counts Keras's own layer classes too when keras is installed.
"""

import argparse
import inspect
import os
import re
import sys

SECTIONS = {
    "args": r"^\s*Args:",
    "input_shape": r"^\s*Input shapes?:",
    "output_shape": r"^\s*Output shapes?:",
    "example": r"^\s*Examples?:",
}


def layer_classes(layers_module, base):
    seen, out = set(), []
    for name in sorted(dir(layers_module)):
        value = getattr(layers_module, name)
        if name.startswith("_") or not inspect.isclass(value) or not issubclass(value, base) or id(value) in seen:
            continue
        seen.add(id(value))
        out.append(value)
    return out


def sections(cls):
    doc = cls.__doc__ or ""
    found = {key: bool(re.search(pattern, doc, re.MULTILINE)) for key, pattern in SECTIONS.items()}
    found["example"] = found["example"] and ">>>" in doc
    return found


def report(title, classes):
    counts = {key: 0 for key in SECTIONS}
    complete = 0
    for cls in classes:
        found = sections(cls)
        for key, ok in found.items():
            counts[key] += ok
        complete += all(found.values())
    print(
        f"{title}: {len(classes)} public layer classes; "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f"; all four {complete}"
    )
    return counts, complete


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", action="store_true", help="list the classes that lack a section")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import strided.layers as layers

    classes = layer_classes(layers, layers.Layer)
    report("strided", classes)
    if args.missing:
        for cls in classes:
            lacking = [k for k, ok in sections(cls).items() if not ok]
            if lacking:
                print(f"  {cls.__module__}.{cls.__name__}: no {', '.join(lacking)}")
    try:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras
    except ImportError:
        return
    report("keras " + keras.__version__, layer_classes(keras.layers, keras.layers.Layer))


if __name__ == "__main__":
    main()
