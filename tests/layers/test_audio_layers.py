"""Audio front-ends against real Keras: STFTSpectrogram, MelSpectrogram and the STFT initializer."""

import json

import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.initializers.stft import get_window

RNG = np.random.default_rng(7)


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _perturbed(weights, seed=0):
    rng = np.random.default_rng(seed)
    return [w + 0.05 * rng.normal(size=w.shape).astype(w.dtype) for w in weights]


# ---------------------------------------------------------------- the STFT initializer


@pytest.mark.parametrize(
    "side, window, scaling, periodic",
    [
        ("real", "hann", "density", False),
        ("imag", "hann", "density", True),
        ("real", "hamming", "spectrum", True),
        ("imag", "blackman", None, False),
        ("real", None, "density", False),
        ("imag", "tukey", "spectrum", False),
        ("real", list(np.linspace(0.1, 1.0, 50)), "density", False),
    ],
)
def test_stft_initializer_matches_keras(real_keras, side, window, scaling, periodic):
    ours = strided.initializers.STFT(side, window, scaling, periodic)
    theirs = real_keras.initializers.STFT(side, window, scaling, periodic)
    for shape in ((50, 1, 33), (50, 1, 129)):
        np.testing.assert_allclose(_np(ours(shape)), _np(theirs(shape)), rtol=1e-6, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    back = strided.initializers.deserialize(strided.initializers.serialize(ours))
    assert isinstance(back, strided.initializers.STFT) and back.get_config() == ours.get_config()
    theirs_back = real_keras.initializers.deserialize(json.loads(json.dumps(strided.initializers.serialize(ours))))
    np.testing.assert_allclose(_np(theirs_back((50, 1, 33))), _np(ours((50, 1, 33))), rtol=1e-6, atol=1e-7)
    f64 = ours((50, 1, 33), dtype="float64")
    assert f64.dtype == torch.float64
    np.testing.assert_allclose(_np(f64), _np(theirs((50, 1, 33), dtype="float64")), rtol=1e-12, atol=1e-12)


def test_stft_initializer_names_and_errors():
    inits = strided.initializers
    assert inits.STFTInitializer is inits.STFT and inits.stft is inits.STFT
    for name in ("STFT", "stft", "STFTInitializer"):
        assert isinstance(inits.get(name), inits.STFT)
    with pytest.raises(ValueError, match=r"side='complex'"):
        inits.STFT(side="complex")
    with pytest.raises(ValueError, match=r"scaling='l2'"):
        inits.STFT(scaling="l2")
    with pytest.raises(ValueError, match=r"window='hannn'"):
        inits.STFT(window="hannn")
    with pytest.raises(ValueError, match="needs parameters"):
        inits.STFT(window="kaiser")
    with pytest.raises(ValueError, match=r"window shape=\(7,\)"):
        inits.STFT(window=np.ones(7))((8, 1, 5))


def test_windows_match_scipy():
    signal = pytest.importorskip("scipy.signal")
    names = [
        "hann",
        "hamming",
        "blackman",
        "bartlett",
        "boxcar",
        "triang",
        "flattop",
        "nuttall",
        "blackmanharris",
        "parzen",
        "bohman",
        "barthann",
        "cosine",
        "exponential",
        "tukey",
        "taylor",
        "lanczos",
        "han",
        "rect",
        "hann_periodic",
        "hamming_symmetric",
    ]
    for name in names:
        for length in (1, 2, 7, 16, 33):
            for periodic in (False, True):
                np.testing.assert_allclose(
                    get_window(name, length, periodic),
                    signal.get_window(name, length, fftbins=periodic),
                    rtol=0,
                    atol=1e-12,
                    err_msg=f"{name} {length} {periodic}",
                )


# ---------------------------------------------------------------- STFTSpectrogram


def _stft_pair(real_keras, **kwargs):
    channels_last = kwargs.get("data_format", "channels_last") == "channels_last"
    x = RNG.normal(size=(2, 200, 3) if channels_last else (2, 3, 200)).astype("float32")
    ours, theirs = layers.STFTSpectrogram(**kwargs), real_keras.layers.STFTSpectrogram(**kwargs)
    ours(x), theirs(x)
    weights = _perturbed(theirs.get_weights())
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return x, ours, theirs


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
def test_stft_spectrogram_matches_keras(real_keras, mode):
    for padding in ("valid", "same"):
        for expand_dims in (False, True):
            for data_format in ("channels_last", "channels_first"):
                kw = dict(
                    mode=mode,
                    frame_length=30,
                    frame_step=11,
                    fft_length=64,
                    padding=padding,
                    expand_dims=expand_dims,
                    data_format=data_format,
                )
                x, ours, theirs = _stft_pair(real_keras, **kw)
                assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
                want = _np(theirs(x))
                got = _np(ours(x))
                assert got.shape == want.shape, kw
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=str(kw))
                sym = strided.Input(x.shape[1:])
                assert tuple(ours(sym).shape) == tuple(theirs.compute_output_shape((None,) + x.shape[1:])), kw


@pytest.mark.parametrize(
    "kw",
    [
        dict(frame_length=33, window="hamming", periodic=True, scaling="spectrum"),
        dict(mode="magnitude", frame_length=32, window=None, scaling=None, padding="same"),
        dict(frame_length=24, frame_step=24, window="blackman"),
    ],
)
def test_stft_spectrogram_options_and_float64(real_keras, kw):
    x, ours, theirs = _stft_pair(real_keras, **kw)
    np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)), rtol=1e-5, atol=1e-5)
    x64 = x.astype("float64")
    got = ours(torch.from_numpy(x64))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(_np(got), _np(theirs(x64)), rtol=1e-5, atol=1e-5)


def test_stft_spectrogram_gradients_match_keras(real_keras):
    x, ours, theirs = _stft_pair(real_keras, mode="log", frame_length=20, frame_step=7, padding="same")
    xo, xt = torch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xo).square().sum().backward()
    theirs(xt).square().sum().backward()
    np.testing.assert_allclose(_np(xo.grad), _np(xt.grad), rtol=1e-4, atol=1e-4)
    for ow, tw in zip(ours.trainable_weights, theirs.trainable_weights):
        grad_ours = np.transpose(_np(ow.grad), (2, 1, 0))  # stored (bins, 1, frame) -> Keras (frame, 1, bins)
        np.testing.assert_allclose(grad_ours, _np(tw.value.grad), rtol=1e-4, atol=1e-3)


def test_stft_spectrogram_config_and_keras_files(real_keras, tmp_path):
    kw = dict(
        mode="stft",
        frame_length=32,
        frame_step=8,
        fft_length=64,
        window="hamming",
        periodic=True,
        scaling="spectrum",
        padding="same",
        expand_dims=True,
        data_format="channels_last",
    )
    ours = layers.STFTSpectrogram(**kw)
    theirs = real_keras.layers.STFTSpectrogram(**kw)
    cfg, kcfg = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "dtype")} == {
        k: v for k, v in kcfg.items() if k not in ("name", "dtype")
    }
    assert layers.STFTSpectrogram.from_config(cfg).get_config() == cfg
    real_keras.layers.STFTSpectrogram.from_config(json.loads(json.dumps(cfg)))

    x = RNG.normal(size=(2, 150, 2)).astype("float32")
    inp = strided.Input((150, 2))
    model = strided.Model(inp, layers.STFTSpectrogram(**kw)(inp))
    model.set_weights(_perturbed(model.get_weights(), 1))
    path = str(tmp_path / "ours.keras")
    model.save(path)
    loaded = real_keras.models.load_model(path)
    np.testing.assert_allclose(_np(loaded(x)), _np(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-5)

    kinp = real_keras.Input((150, 2))
    klayer = real_keras.layers.STFTSpectrogram(mode="log", frame_length=40, trainable=False)
    kmodel = real_keras.Model(kinp, klayer(kinp))
    kmodel.set_weights(_perturbed(kmodel.get_weights(), 2))
    kpath = str(tmp_path / "theirs.keras")
    kmodel.save(kpath)
    back = strided.models.load_model(kpath)
    assert back.layers[-1].trainable is False and not back.trainable_weights
    assert back.count_params() == kmodel.count_params()
    np.testing.assert_allclose(_np(back.predict(x, verbose=0)), _np(kmodel(x)), rtol=1e-5, atol=1e-5)


def test_stft_spectrogram_trains():
    inp = strided.Input((64, 1))
    x = layers.STFTSpectrogram(mode="magnitude", frame_length=16, frame_step=8, padding="same")(inp)
    model = strided.Model(inp, layers.Dense(1)(layers.Flatten()(x)))
    model.compile(optimizer="sgd", loss="mse")
    before = model.layers[1].get_weights()
    data = RNG.normal(size=(8, 64, 1)).astype("float32")
    model.fit(data, RNG.normal(size=(8, 1)).astype("float32"), epochs=1, verbose=0)
    assert not np.allclose(before[0], model.layers[1].get_weights()[0])


def test_stft_spectrogram_errors():
    with pytest.raises(ValueError, match=r"mode='power'"):
        layers.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match=r"frame_step=300, frame_length=256"):
        layers.STFTSpectrogram(frame_step=300)
    with pytest.raises(ValueError, match=r"fft_length=128, frame_length=256"):
        layers.STFTSpectrogram(fft_length=128)
    with pytest.raises(ValueError, match=r"padding='causal'"):
        layers.STFTSpectrogram(padding="causal")
    with pytest.raises(ValueError, match=r"scaling='l1'"):
        layers.STFTSpectrogram(scaling="l1")
    with pytest.raises(ValueError, match=r"window='hannn'"):
        layers.STFTSpectrogram(window="hannn")
    with pytest.raises(TypeError, match=r"frame_length='256'"):
        layers.STFTSpectrogram(frame_length="256")
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=100, fft_length=100)
    layer = layers.STFTSpectrogram(frame_length=16)
    with pytest.raises(TypeError, match="int32"):
        layer(torch.ones((1, 64, 1), dtype=torch.int32))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(np.ones((64, 1), "float32"))


# ---------------------------------------------------------------- MelSpectrogram


@pytest.mark.parametrize(
    "shape, kw",
    [
        ((2, 3000), dict(fft_length=256, sequence_stride=64, sampling_rate=8000, num_mel_bins=40)),
        (
            (3000,),
            dict(
                fft_length=256,
                sequence_stride=100,
                sequence_length=200,
                window="hamming",
                num_mel_bins=20,
                power_to_db=False,
                mag_exp=1.0,
            ),
        ),
        (
            (2, 2500),
            dict(fft_length=512, sequence_stride=128, min_freq=100.0, max_freq=3000, ref_power=2.0, top_db=30.0),
        ),
        ((2, 2000), dict(fft_length=128, sequence_stride=32, window=None, num_mel_bins=16, min_power=1e-6)),
    ],
)
def test_mel_spectrogram_matches_keras(real_keras, shape, kw):
    x = RNG.normal(size=shape).astype("float32")
    ours, theirs = layers.MelSpectrogram(**kw), real_keras.layers.MelSpectrogram(**kw)
    want, got = _np(theirs(x)), _np(ours(x))
    assert got.shape == want.shape and got.dtype == np.float32
    tol = 1e-4 if kw.get("power_to_db", True) else 1e-5  # decibels: float32 rounding of values near 50 dB
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=tol)
    np.testing.assert_allclose(
        _np(ours.linear_to_mel_weight_matrix(12, 65, 8000, 50.0, 3500.0)),
        _np(theirs.linear_to_mel_weight_matrix(12, 65, 8000, 50.0, 3500.0)),
        rtol=0,
        atol=1e-7,
    )
    cfg = ours.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "dtype")} == {
        k: v for k, v in theirs.get_config().items() if k not in ("name", "dtype")
    }
    assert layers.MelSpectrogram.from_config(cfg).get_config() == cfg


def test_mel_spectrogram_keras_files_and_float64(real_keras, tmp_path):
    x = RNG.normal(size=(2, 4000)).astype("float32")
    kinp = real_keras.Input((4000,))
    kmodel = real_keras.Model(
        kinp, real_keras.layers.MelSpectrogram(fft_length=256, sequence_stride=64, num_mel_bins=32)(kinp)
    )
    kpath = str(tmp_path / "theirs.keras")
    kmodel.save(kpath)
    ours = strided.models.load_model(kpath)
    assert ours.output_shape == (None, 32, 63)
    np.testing.assert_allclose(_np(ours.predict(x, verbose=0)), _np(kmodel(x)), rtol=1e-5, atol=1e-3)

    inp = strided.Input((4000,))
    model = strided.Model(
        inp, layers.MelSpectrogram(fft_length=512, sequence_stride=100, window="hamming", power_to_db=False)(inp)
    )
    path = str(tmp_path / "ours.keras")
    model.save(path)
    back = real_keras.models.load_model(path)
    np.testing.assert_allclose(_np(back(x)), _np(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-5)

    # Keras-torch rounds the filterbank product to float32 (its result_type(float64, float32) is float32);
    # strided keeps float64 throughout, so the two agree to float32 precision
    kw = dict(fft_length=256, sequence_stride=64, dtype="float64")
    got = layers.MelSpectrogram(**kw)(x.astype("float64"))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(
        _np(got), _np(real_keras.layers.MelSpectrogram(**kw)(x.astype("float64"))), rtol=1e-5, atol=1e-4
    )


def test_mel_spectrogram_errors():
    with pytest.raises(ValueError, match=r"`sequence_length`=512, `fft_length`=256"):
        layers.MelSpectrogram(fft_length=256, sequence_length=512)
    with pytest.raises(ValueError, match=r"window='blackman'"):
        layers.MelSpectrogram(window="blackman")
    with pytest.raises(ValueError, match=r"num_mel_bins=0"):
        layers.MelSpectrogram(num_mel_bins=0)
    with pytest.raises(ValueError, match=r"max_freq=10"):
        layers.MelSpectrogram(min_freq=20.0, max_freq=10)
    with pytest.raises(TypeError, match=r"top_db='80'"):
        layers.MelSpectrogram(top_db="80")
