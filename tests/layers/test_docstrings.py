"""Layer docstrings are the spec: every public layer class states Args, Input shape, Output shape and an Example,
and the examples run (doctest). Counts: tools/docstring_coverage.py."""

import doctest
import pathlib
import sys

import numpy as np
import pytest

import strided
from strided import layers

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools"))
import docstring_coverage  # noqa: E402

CLASSES = docstring_coverage.layer_classes(layers, layers.Layer)
WITH_EXAMPLES = [c for c in CLASSES if ">>>" in (c.__doc__ or "")]


@pytest.mark.parametrize("cls", WITH_EXAMPLES, ids=[c.__name__ for c in WITH_EXAMPLES])
def test_docstring_example_runs(cls):
    strided.utils.set_random_seed(0)
    globs = dict(vars(sys.modules[cls.__module__]), np=np, keras=strided, layers=layers)  # as doctest does, plus
    test = doctest.DocTestParser().get_doctest(
        cls.__doc__, globs, f"{cls.__module__}.{cls.__name__}", sys.modules[cls.__module__].__file__, 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert test.examples


def test_every_public_layer_is_fully_documented():
    missing = {c.__name__: [k for k, ok in docstring_coverage.sections(c).items() if not ok] for c in CLASSES}
    assert len(CLASSES) > 100
    assert not {k: v for k, v in missing.items() if v}
