"""validation.shape: the one check of shape arguments (initializers, strided.random, MultiHeadAttention's
output_shape), naming each argument."""

import numpy as np
import pytest
import torch

import strided
from strided import initializers, layers
from strided.utils import validation


def test_shapes_are_taken_as_tuples_of_ints():
    assert validation.shape(3, "shape") == (3,)
    assert validation.shape([2, np.int64(4)], "shape") == (2, 4)
    assert validation.shape(torch.Size([5, 1]), "shape") == (5, 1)
    assert validation.shape((), "shape") == ()


@pytest.mark.parametrize("bad", ["32", (2, -1), (2, None), True, 2.5j])
def test_bad_shapes_are_refused_by_name(bad):
    with pytest.raises(ValueError, match=r"argument `output_shape`.*Received: output_shape="):
        validation.shape(bad, "output_shape")


def test_each_caller_names_its_argument():
    with pytest.raises(ValueError, match="`shape`"):
        initializers.Zeros()((2, -3))
    with pytest.raises(ValueError, match="`shape`"):
        strided.random.normal("ab")
    with pytest.raises(ValueError, match="`output_shape`"):
        layers.MultiHeadAttention(2, 4, output_shape=(4, "x"))
    assert layers.MultiHeadAttention(2, 4, output_shape=6).get_config()["output_shape"] == (6,)
