"""Testing utilities for layers: ``run_layer_test`` checks a layer class the way Keras's own tests do.

Example::

    from strided.testing import run_layer_test
    run_layer_test(MyLayer, {"units": 3}, input_shape=(2, 4), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=2)
"""

import numpy as np
import torch
from strided.layers.input_layer import Input

__all__ = ["run_layer_test"]


def _fail(message):
    raise AssertionError(message)


def _to_numpy(x):
    if isinstance(x, (list, tuple)):
        return [_to_numpy(t) for t in x]
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _leaves(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _random_input(shape, dtype, rng):
    if np.dtype(dtype).kind in "iub":
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.standard_normal(size=shape).astype(dtype)


def _normalize(value):
    """Config values compared up to list/tuple spelling."""
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    return value


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    input_dtype="float32",
    expected_output_shape=None,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    expected_num_params=None,
    run_training_check=True,
    input_data=None,
    rtol=1e-6,
    atol=1e-6,
):
    """Checks a layer class end to end; raises AssertionError describing the first failure.

    Checks: construction leaves the layer unbuilt (lazy build); ``from_config(get_config())`` gives an
    equal config, and after copying the weights an equal output; the symbolic output shape (on an
    ``Input``) equals the eager one; weight and parameter counts; ``set_weights(get_weights())`` is a
    round trip; one SGD step on a random-weighted sum of the output changes every trainable weight.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict of constructor arguments.
        input_shape: full input shape including the batch size, e.g. ``(2, 8, 8, 3)``; a list of shapes
            for multi-input layers.
        input_dtype: dtype name of the random input.
        expected_output_shape: optional full output shape (or list of shapes).
        expected_num_trainable_weights, expected_num_non_trainable_weights, expected_num_params: optional counts.
        run_training_check: whether to run the optimisation-step check.
        input_data: optional input array(s) to use instead of random data.
        rtol, atol: tolerances for output comparisons.

    Returns:
        The built layer.
    """

    rng = np.random.default_rng(1234)
    multi = isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list))
    shapes = [tuple(s) for s in input_shape] if multi else [tuple(input_shape)]
    if input_data is None:
        data = [_random_input(s, input_dtype, rng) for s in shapes]
    else:
        data = [np.asarray(d) for d in _leaves(input_data)] if multi else [np.asarray(input_data)]

    def tensors():
        t = [torch.from_numpy(np.array(d)) for d in data]
        return t if multi else t[0]

    layer = layer_cls(**init_kwargs)
    if layer.built and layer.weights:
        _fail(f"{layer_cls.__name__} created weights in __init__; weights belong in build() (lazy build).")

    # Config round trip.
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    if _normalize(clone.get_config()) != _normalize(config):
        _fail(
            f"{layer_cls.__name__}: from_config(get_config()) changed the config.\nbefore: {config}\n"
            f"after:  {clone.get_config()}"
        )

    # Eager call builds the layer.
    out = layer(tensors(), training=False)
    if not layer.built:
        _fail(f"{layer_cls.__name__} is not marked built after its first call.")
    out_shapes = [tuple(o.shape) for o in _leaves(out)]
    if expected_output_shape is not None:
        expected = (
            [tuple(s) for s in expected_output_shape]
            if isinstance(expected_output_shape, list)
            else [tuple(expected_output_shape)]
        )
        if out_shapes != expected:
            _fail(f"{layer_cls.__name__}: output shape {out_shapes} != expected {expected}.")

    # Symbolic shape == eager shape (batch dimension None).
    sym_layer = layer_cls.from_config(config)
    sym_inputs = [Input(shape=s[1:], dtype=input_dtype) for s in shapes]
    sym_out = sym_layer(sym_inputs if multi else sym_inputs[0])
    sym_shapes = [tuple(t.shape) for t in _leaves(sym_out)]
    eager_as_sym = [(None,) + s[1:] if len(s) else s for s in out_shapes]
    if sym_shapes != eager_as_sym:
        _fail(f"{layer_cls.__name__}: symbolic output shape {sym_shapes} != eager output shape {out_shapes}.")

    # Counts.
    if expected_num_trainable_weights is not None and len(layer.trainable_weights) != expected_num_trainable_weights:
        _fail(
            f"{layer_cls.__name__}: {len(layer.trainable_weights)} trainable weights, expected "
            f"{expected_num_trainable_weights}."
        )
    if (
        expected_num_non_trainable_weights is not None
        and len(layer.non_trainable_weights) != expected_num_non_trainable_weights
    ):
        _fail(
            f"{layer_cls.__name__}: {len(layer.non_trainable_weights)} non-trainable weights, expected "
            f"{expected_num_non_trainable_weights}."
        )
    if expected_num_params is not None and layer.count_params() != expected_num_params:
        _fail(f"{layer_cls.__name__}: {layer.count_params()} parameters, expected {expected_num_params}.")
    if sym_layer.count_params() != layer.count_params():
        _fail(
            f"{layer_cls.__name__}: a symbolic build made {sym_layer.count_params()} parameters, an eager one "
            f"{layer.count_params()}."
        )

    # Copying the weights into the clone gives the same function.
    clone(tensors(), training=False)
    weights = layer.get_weights()
    clone.set_weights(weights)
    reference = _to_numpy(layer(tensors(), training=False))
    for a, b in zip(_leaves(reference), _leaves(_to_numpy(clone(tensors(), training=False)))):
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            _fail(f"{layer_cls.__name__}: the clone from get_config with copied weights computes a different output.")

    # get_weights/set_weights round trip, in Keras layout.
    if weights:
        perturbed = [
            w + rng.standard_normal(w.shape).astype(w.dtype) * 0.01 if w.dtype.kind == "f" else w for w in weights
        ]
        layer.set_weights(perturbed)
        for got, want in zip(layer.get_weights(), perturbed):
            if got.shape != want.shape or not np.array_equal(got, want):
                _fail(f"{layer_cls.__name__}: get_weights() after set_weights() returned different arrays.")
        layer.set_weights(weights)
        for a, b in zip(_leaves(reference), _leaves(_to_numpy(layer(tensors(), training=False)))):
            if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                _fail(f"{layer_cls.__name__}: restoring the weights did not restore the output.")

    # One optimisation step changes every trainable weight.
    if run_training_check and layer.trainable_weights:
        params = layer.trainable_weights
        before = [p.detach().clone() for p in params]
        optimizer = torch.optim.SGD(params, lr=0.1)
        optimizer.zero_grad()
        out = layer(tensors(), training=True)
        loss = 0.0
        for o in _leaves(out):
            # A random-weighted sum: a plain sum has zero gradient for e.g. BatchNormalization's gamma.
            r = torch.from_numpy(rng.standard_normal(tuple(o.shape)).astype(np.float32)).to(o.device, o.dtype)
            loss = loss + (o * r).sum()
        for extra in layer.losses:
            loss = loss + extra
        loss.backward()
        optimizer.step()
        unchanged = [
            p._keras_name if hasattr(p, "_keras_name") else str(i)
            for i, (p, b) in enumerate(zip(params, before))
            if torch.equal(p.detach(), b)
        ]
        if unchanged:
            _fail(f"{layer_cls.__name__}: one training step did not change the trainable weights {unchanged}.")
    return layer
