"""Layer docstrings are the spec: the examples in them run (doctest), and the layer families that are fully
documented stay so (Args, Input shape, Output shape, a runnable Example). Counts: tools/docstring_coverage.py."""
import doctest
import pathlib
import sys

import numpy as np
import pytest

import strided
from strided import layers

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
import docstring_coverage  # noqa: E402

CLASSES = docstring_coverage.layer_classes(layers, layers.Layer)
WITH_EXAMPLES = [c for c in CLASSES if ">>>" in (c.__doc__ or "")]

# Families whose every public class must state all four sections (matched on the defining module's path, so that
# the list survives files moving inside strided/layers).
COMPLETE_FAMILIES = ("convolutional", "pooling", "core", "normalization", "reshaping", "merging", "regularization",
                     "dropout", "activation")


def _family(cls):
    parts = cls.__module__.split(".")
    return next((f for f in COMPLETE_FAMILIES if any(f in p for p in parts[2:])), None)


@pytest.mark.parametrize("cls", WITH_EXAMPLES, ids=[c.__name__ for c in WITH_EXAMPLES])
def test_docstring_example_runs(cls):
    strided.utils.set_random_seed(0)
    globs = dict(vars(sys.modules[cls.__module__]), np=np, keras=strided, layers=layers)  # as doctest does, plus
    test = doctest.DocTestParser().get_doctest(cls.__doc__, globs, f"{cls.__module__}.{cls.__name__}",
                                               sys.modules[cls.__module__].__file__, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert test.examples


@pytest.mark.parametrize("family", COMPLETE_FAMILIES)
def test_family_is_fully_documented(family):
    members = [c for c in CLASSES if _family(c) == family]
    missing = {c.__name__: [k for k, ok in docstring_coverage.sections(c).items() if not ok] for c in members}
    assert not {k: v for k, v in missing.items() if v}
