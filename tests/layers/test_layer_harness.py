"""Every layer passes the public harness strided.testing.run_layer_test; the harness catches broken layers."""

import pytest

from strided import layers as L
from strided.testing import run_layer_test

CASES = [
    (L.Dense, {"units": 3}, (2, 4), (2, 3), 2, 0, 15),
    (L.Dense, {"units": 3, "use_bias": False, "activation": "relu"}, (2, 5, 4), (2, 5, 3), 1, 0, 12),
    (L.Activation, {"activation": "tanh"}, (2, 3), (2, 3), 0, 0, 0),
    (L.Identity, {}, (2, 3), (2, 3), 0, 0, 0),
    (L.Conv1D, {"filters": 3, "kernel_size": 2, "padding": "causal"}, (2, 7, 2), (2, 7, 3), 2, 0, 15),
    (
        L.Conv2D,
        {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 7, 6, 3),
        (2, 4, 3, 4),
        2,
        0,
        112,
    ),
    (
        L.Conv2D,
        {"filters": 4, "kernel_size": (2, 3), "dilation_rate": 2, "groups": 2},
        (2, 7, 8, 2),
        (2, 5, 4, 4),
        2,
        0,
        28,
    ),
    (L.Conv2D, {"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, (2, 3, 6, 5), (2, 2, 4, 3), 2, 0, 56),
    (L.Conv3D, {"filters": 2, "kernel_size": 2}, (1, 4, 4, 4, 2), (1, 3, 3, 3, 2), 2, 0, 34),
    (L.Conv1DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2}, (2, 5, 3), (2, 11, 2), 2, 0, 20),
    (
        L.Conv2DTranspose,
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 4, 5, 3),
        (2, 8, 10, 2),
        2,
        0,
        56,
    ),
    (L.Conv3DTranspose, {"filters": 1, "kernel_size": 2, "strides": 2}, (1, 2, 2, 2, 2), (1, 4, 4, 4, 1), 2, 0, 17),
    (L.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 6, 3), (2, 4, 6), 2, 0, 24),
    (
        L.DepthwiseConv2D,
        {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
        (2, 5, 5, 3),
        (2, 5, 5, 6),
        2,
        0,
        60,
    ),
    (L.SeparableConv1D, {"filters": 4, "kernel_size": 3}, (2, 6, 3), (2, 4, 4), 3, 0, 25),
    (L.SeparableConv2D, {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, (2, 6, 6, 3), (2, 4, 4, 4), 3, 0, 82),
    (L.MaxPooling1D, {}, (2, 7, 3), (2, 3, 3), 0, 0, 0),
    (L.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3), (2, 4, 3, 3), 0, 0, 0),
    (L.MaxPooling3D, {}, (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), 0, 0, 0),
    (L.AveragePooling1D, {"pool_size": 3, "padding": "same"}, (2, 7, 3), (2, 3, 3), 0, 0, 0),
    (L.AveragePooling2D, {}, (2, 6, 6, 3), (2, 3, 3, 3), 0, 0, 0),
    (L.AveragePooling3D, {"pool_size": 2}, (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), 0, 0, 0),
    (L.AdaptiveAveragePooling2D, {"output_size": (2, 3)}, (2, 7, 8, 3), (2, 2, 3, 3), 0, 0, 0),
    (L.AdaptiveMaxPooling1D, {"output_size": 3}, (2, 7, 2), (2, 3, 2), 0, 0, 0),
    (
        L.AdaptiveMaxPooling3D,
        {"output_size": 2, "data_format": "channels_first"},
        (1, 2, 5, 4, 3),
        (1, 2, 2, 2, 2),
        0,
        0,
        0,
    ),
    (L.GlobalMaxPooling1D, {}, (2, 5, 3), (2, 3), 0, 0, 0),
    (L.GlobalMaxPooling2D, {"keepdims": True}, (2, 5, 4, 3), (2, 1, 1, 3), 0, 0, 0),
    (L.GlobalMaxPooling3D, {}, (1, 3, 3, 3, 2), (1, 2), 0, 0, 0),
    (L.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3), 0, 0, 0),
    (L.GlobalAveragePooling2D, {"data_format": "channels_first"}, (2, 3, 5, 4), (2, 3), 0, 0, 0),
    (L.GlobalAveragePooling3D, {"keepdims": True}, (1, 3, 3, 3, 2), (1, 1, 1, 1, 2), 0, 0, 0),
    (L.BatchNormalization, {}, (4, 3, 3, 2), (4, 3, 3, 2), 2, 2, 8),
    (L.BatchNormalization, {"axis": 1, "center": False}, (4, 3, 5), (4, 3, 5), 1, 2, 9),
    (L.LayerNormalization, {}, (2, 3, 4), (2, 3, 4), 2, 0, 8),
    (L.LayerNormalization, {"axis": [1, 2]}, (2, 3, 4), (2, 3, 4), 2, 0, 24),
    (L.GroupNormalization, {"groups": 2}, (2, 3, 3, 4), (2, 3, 3, 4), 2, 0, 8),
    (L.GroupNormalization, {"groups": 3, "axis": 1, "scale": False}, (2, 6, 5), (2, 6, 5), 1, 0, 6),
    (L.UnitNormalization, {"axis": [1, 2]}, (2, 3, 4), (2, 3, 4), 0, 0, 0),
    (L.RMSNormalization, {}, (2, 3, 4), (2, 3, 4), 1, 0, 4),
    (L.Normalization, {}, (4, 3, 3, 2), (4, 3, 3, 2), 0, 3, 5),
    (L.Normalization, {"axis": None, "mean": 2.0, "variance": 4.0, "invert": True}, (2, 5), (2, 5), 0, 0, 0),
    (L.Flatten, {}, (2, 3, 4, 2), (2, 24), 0, 0, 0),
    (L.Reshape, {"target_shape": (-1, 2)}, (2, 3, 4), (2, 6, 2), 0, 0, 0),
    (L.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), 0, 0, 0),
    (L.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4), 0, 0, 0),
    (L.ZeroPadding1D, {"padding": (1, 2)}, (2, 4, 3), (2, 7, 3), 0, 0, 0),
    (L.ZeroPadding2D, {"padding": ((1, 0), (2, 1))}, (2, 4, 4, 3), (2, 5, 7, 3), 0, 0, 0),
    (L.ZeroPadding3D, {"padding": 1}, (1, 2, 2, 2, 1), (1, 4, 4, 4, 1), 0, 0, 0),
    (L.Cropping1D, {"cropping": (1, 2)}, (2, 6, 3), (2, 3, 3), 0, 0, 0),
    (L.Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 5, 6, 3), (2, 4, 3, 3), 0, 0, 0),
    (L.Cropping3D, {}, (1, 4, 4, 4, 1), (1, 2, 2, 2, 1), 0, 0, 0),
    (L.UpSampling1D, {"size": 3}, (2, 4, 3), (2, 12, 3), 0, 0, 0),
    (L.UpSampling2D, {"interpolation": "bilinear"}, (2, 3, 4, 2), (2, 6, 8, 2), 0, 0, 0),
    (L.UpSampling3D, {}, (1, 2, 2, 2, 1), (1, 4, 4, 4, 1), 0, 0, 0),
    (L.Dropout, {"rate": 0.5}, (2, 8), (2, 8), 0, 0, 0),
    (L.SpatialDropout1D, {"rate": 0.5}, (2, 4, 3), (2, 4, 3), 0, 0, 0),
    (L.SpatialDropout2D, {"rate": 0.5}, (2, 4, 4, 3), (2, 4, 4, 3), 0, 0, 0),
    (L.SpatialDropout3D, {"rate": 0.5}, (1, 2, 2, 2, 3), (1, 2, 2, 2, 3), 0, 0, 0),
    (L.GaussianNoise, {"stddev": 0.1}, (2, 5), (2, 5), 0, 0, 0),
    (L.GaussianDropout, {"rate": 0.1}, (2, 5), (2, 5), 0, 0, 0),
    (L.ActivityRegularization, {"l1": 0.01}, (2, 5), (2, 5), 0, 0, 0),
    (L.ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}, (2, 5), (2, 5), 0, 0, 0),
    (L.LeakyReLU, {}, (2, 5), (2, 5), 0, 0, 0),
    (L.PReLU, {"shared_axes": [1, 2]}, (2, 3, 3, 4), (2, 3, 3, 4), 1, 0, 4),
    (L.ELU, {"alpha": 0.5}, (2, 5), (2, 5), 0, 0, 0),
    (L.Softmax, {"axis": 1}, (2, 5, 3), (2, 5, 3), 0, 0, 0),
    (L.Rescaling, {"scale": 1 / 255.0, "offset": -0.5}, (2, 4, 4, 3), (2, 4, 4, 3), 0, 0, 0),
    (L.Resizing, {"height": 3, "width": 5}, (2, 6, 6, 3), (2, 3, 5, 3), 0, 0, 0),
    (L.CenterCrop, {"height": 3, "width": 2}, (2, 6, 5, 3), (2, 3, 2, 3), 0, 0, 0),
]


@pytest.mark.parametrize(
    "cls, kwargs, shape, out_shape, n_train, n_non_train, n_params",
    CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)],
)
def test_every_layer_passes_harness(cls, kwargs, shape, out_shape, n_train, n_non_train, n_params):
    layer = run_layer_test(
        cls,
        kwargs,
        shape,
        expected_output_shape=out_shape,
        expected_num_trainable_weights=n_train,
        expected_num_non_trainable_weights=n_non_train,
        expected_num_params=n_params,
    )
    assert layer.built


MERGE_CASES = [
    (L.Add, {}, [(2, 3), (2, 3)], (2, 3)),
    (L.Subtract, {}, [(2, 3), (2, 3)], (2, 3)),
    (L.Multiply, {}, [(2, 3), (2, 3), (2, 3)], (2, 3)),
    (L.Average, {}, [(2, 3), (2, 3)], (2, 3)),
    (L.Maximum, {}, [(2, 3), (2, 3)], (2, 3)),
    (L.Minimum, {}, [(2, 3), (2, 3)], (2, 3)),
    (L.Concatenate, {"axis": 1}, [(2, 3, 2), (2, 4, 2)], (2, 7, 2)),
    (L.Dot, {"axes": (1, 2)}, [(2, 3, 4), (2, 5, 3)], (2, 4, 5)),
]


@pytest.mark.parametrize("cls, kwargs, shapes, out_shape", MERGE_CASES, ids=[c[0].__name__ for c in MERGE_CASES])
def test_merge_layers_pass_harness(cls, kwargs, shapes, out_shape):
    run_layer_test(cls, kwargs, shapes, expected_output_shape=out_shape, expected_num_params=0)


def test_lambda_passes_harness():
    run_layer_test(
        L.Lambda, {"function": lambda x, k: x * k, "arguments": {"k": 3.0}}, (2, 3), expected_output_shape=(2, 3)
    )


class _ForgetsConfig(L.Layer):
    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return x * self.scale


class _DeadWeight(L.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.unused = self.add_weight(shape=(1,), initializer="ones", name="unused")

    def call(self, x):
        return x * self.w


class _EagerWeights(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = self.add_weight(shape=(3,), initializer="ones", name="w")
        self.built = True

    def call(self, x):
        return x * self.w


def test_harness_catches_missing_config():
    with pytest.raises(AssertionError, match="clone from get_config"):
        run_layer_test(_ForgetsConfig, {"scale": 3.0}, (2, 3))


def test_harness_catches_untrained_weight():
    with pytest.raises(AssertionError, match="did not change the trainable weights.*unused"):
        run_layer_test(_DeadWeight, {}, (2, 3))


def test_harness_catches_weights_made_in_init():
    with pytest.raises(AssertionError, match="lazy build"):
        run_layer_test(_EagerWeights, {}, (2, 3))


def test_harness_catches_wrong_expectations():
    with pytest.raises(AssertionError, match="output shape"):
        run_layer_test(L.Dense, {"units": 3}, (2, 4), expected_output_shape=(2, 4))
    with pytest.raises(AssertionError, match="parameters"):
        run_layer_test(L.Dense, {"units": 3}, (2, 4), expected_num_params=12)
