"""keras.utils.standardize_dtype, Config and the interactive-logging switch, against real Keras."""

import io
import logging

import numpy as np
import pytest
import torch

import strided
from strided.utils.progbar import Progbar


def test_standardize_dtype_and_config_match_keras(real_keras):
    for dtype in (None, float, int, bool, str, "float16", np.float64, np.dtype("int8"), torch.bfloat16, "int"):
        assert strided.utils.standardize_dtype(dtype) == real_keras.utils.standardize_dtype(dtype), dtype
    with pytest.raises(ValueError, match="Invalid dtype"):
        strided.utils.standardize_dtype("float128")
    ours, theirs = strided.utils.Config(learning_rate=0.1), real_keras.utils.Config(learning_rate=0.1)
    for c in (ours, theirs):
        c.momentum = 0.9
        c["nesterov"] = True
    assert ours.as_dict() == theirs.as_dict() and list(ours) == list(theirs) and repr(ours) == repr(theirs)
    assert ours.to_json() == theirs.to_json()
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        ours.momentun
    ours.freeze()
    with pytest.raises(ValueError, match="frozen"):
        ours.decay = 1


def test_interactive_logging_switch(caplog):
    assert strided.utils.is_interactive_logging_enabled()
    stream = io.StringIO()
    strided.utils.disable_interactive_logging()
    try:
        assert not strided.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="strided"):
            bar = Progbar(2, stream=stream)
            bar.update(1, [("loss", 1.0)])
            bar.update(2, [("loss", 0.5)])
        assert stream.getvalue() == ""
        assert any("2/2" in r.getMessage() and "loss" in r.getMessage() for r in caplog.records)
    finally:
        strided.utils.enable_interactive_logging()
    bar = Progbar(1, stream=stream)
    bar.update(1)
    assert "1/1" in stream.getvalue()
