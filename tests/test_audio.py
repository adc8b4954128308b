"""Audio front-ends against real Keras: STFTSpectrogram, MelSpectrogram, the STFT initializer, and
audio_dataset_from_directory (Keras reads WAV files through TensorFlow, absent here: decoding is checked
against the PCM values written, and the file order and split against Keras's own index_directory)."""
import json
import wave

import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.initializers_stft import get_window

RNG = np.random.default_rng(7)


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _perturbed(weights, seed=0):
    rng = np.random.default_rng(seed)
    return [w + 0.05 * rng.normal(size=w.shape).astype(w.dtype) for w in weights]


# ---------------------------------------------------------------- the STFT initializer

@pytest.mark.parametrize("side, window, scaling, periodic", [
    ("real", "hann", "density", False), ("imag", "hann", "density", True), ("real", "hamming", "spectrum", True),
    ("imag", "blackman", None, False), ("real", None, "density", False), ("imag", "tukey", "spectrum", False),
    ("real", list(np.linspace(0.1, 1.0, 50)), "density", False),
])
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
    names = ["hann", "hamming", "blackman", "bartlett", "boxcar", "triang", "flattop", "nuttall", "blackmanharris",
             "parzen", "bohman", "barthann", "cosine", "exponential", "tukey", "taylor", "lanczos", "han", "rect",
             "hann_periodic", "hamming_symmetric"]
    for name in names:
        for length in (1, 2, 7, 16, 33):
            for periodic in (False, True):
                np.testing.assert_allclose(get_window(name, length, periodic),
                                           signal.get_window(name, length, fftbins=periodic), rtol=0, atol=1e-12,
                                           err_msg=f"{name} {length} {periodic}")


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
                kw = dict(mode=mode, frame_length=30, frame_step=11, fft_length=64, padding=padding,
                          expand_dims=expand_dims, data_format=data_format)
                x, ours, theirs = _stft_pair(real_keras, **kw)
                assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
                want = _np(theirs(x))
                got = _np(ours(x))
                assert got.shape == want.shape, kw
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=str(kw))
                sym = strided.Input(x.shape[1:])
                assert tuple(ours(sym).shape) == tuple(theirs.compute_output_shape((None,) + x.shape[1:])), kw


@pytest.mark.parametrize("kw", [
    dict(frame_length=33, window="hamming", periodic=True, scaling="spectrum"),
    dict(mode="magnitude", frame_length=32, window=None, scaling=None, padding="same"),
    dict(frame_length=24, frame_step=24, window="blackman"),
])
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
    kw = dict(mode="stft", frame_length=32, frame_step=8, fft_length=64, window="hamming", periodic=True,
              scaling="spectrum", padding="same", expand_dims=True, data_format="channels_last")
    ours = layers.STFTSpectrogram(**kw)
    theirs = real_keras.layers.STFTSpectrogram(**kw)
    cfg, kcfg = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "dtype")} == \
           {k: v for k, v in kcfg.items() if k not in ("name", "dtype")}
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

@pytest.mark.parametrize("shape, kw", [
    ((2, 3000), dict(fft_length=256, sequence_stride=64, sampling_rate=8000, num_mel_bins=40)),
    ((3000,), dict(fft_length=256, sequence_stride=100, sequence_length=200, window="hamming", num_mel_bins=20,
                   power_to_db=False, mag_exp=1.0)),
    ((2, 2500), dict(fft_length=512, sequence_stride=128, min_freq=100.0, max_freq=3000, ref_power=2.0,
                     top_db=30.0)),
    ((2, 2000), dict(fft_length=128, sequence_stride=32, window=None, num_mel_bins=16, min_power=1e-6)),
])
def test_mel_spectrogram_matches_keras(real_keras, shape, kw):
    x = RNG.normal(size=shape).astype("float32")
    ours, theirs = layers.MelSpectrogram(**kw), real_keras.layers.MelSpectrogram(**kw)
    want, got = _np(theirs(x)), _np(ours(x))
    assert got.shape == want.shape and got.dtype == np.float32
    tol = 1e-4 if kw.get("power_to_db", True) else 1e-5  # decibels: float32 rounding of values near 50 dB
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=tol)
    np.testing.assert_allclose(_np(ours.linear_to_mel_weight_matrix(12, 65, 8000, 50.0, 3500.0)),
                               _np(theirs.linear_to_mel_weight_matrix(12, 65, 8000, 50.0, 3500.0)), rtol=0, atol=1e-7)
    cfg = ours.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "dtype")} == \
           {k: v for k, v in theirs.get_config().items() if k not in ("name", "dtype")}
    assert layers.MelSpectrogram.from_config(cfg).get_config() == cfg


def test_mel_spectrogram_keras_files_and_float64(real_keras, tmp_path):
    x = RNG.normal(size=(2, 4000)).astype("float32")
    kinp = real_keras.Input((4000,))
    kmodel = real_keras.Model(kinp, real_keras.layers.MelSpectrogram(fft_length=256, sequence_stride=64,
                                                                       num_mel_bins=32)(kinp))
    kpath = str(tmp_path / "theirs.keras")
    kmodel.save(kpath)
    ours = strided.models.load_model(kpath)
    assert ours.output_shape == (None, 32, 63)
    np.testing.assert_allclose(_np(ours.predict(x, verbose=0)), _np(kmodel(x)), rtol=1e-5, atol=1e-3)

    inp = strided.Input((4000,))
    model = strided.Model(inp, layers.MelSpectrogram(fft_length=512, sequence_stride=100, window="hamming",
                                                     power_to_db=False)(inp))
    path = str(tmp_path / "ours.keras")
    model.save(path)
    back = real_keras.models.load_model(path)
    np.testing.assert_allclose(_np(back(x)), _np(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-5)

    # Keras-torch rounds the filterbank product to float32 (its result_type(float64, float32) is float32);
    # strided keeps float64 throughout, so the two agree to float32 precision
    kw = dict(fft_length=256, sequence_stride=64, dtype="float64")
    got = layers.MelSpectrogram(**kw)(x.astype("float64"))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(_np(got), _np(real_keras.layers.MelSpectrogram(**kw)(x.astype("float64"))),
                               rtol=1e-5, atol=1e-4)


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


# ---------------------------------------------------------------- audio_dataset_from_directory

def _write_wav(path, samples, rate=16000, width=2):
    """``samples``: int array (frames, channels) in the sample width's range."""
    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[:, None]
    if width == 1:
        raw = (samples + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = samples.astype("<i2").tobytes()
    elif width == 3:
        v = samples.astype(np.int64) & 0xFFFFFF
        raw = np.stack([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF], -1).astype(np.uint8).tobytes()
    else:
        raw = samples.astype("<i4").tobytes()
    with wave.open(str(path), "wb") as f:
        f.setnchannels(samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(raw)


@pytest.fixture
def audio_dir(tmp_path):
    rng = np.random.default_rng(3)
    clips = {}
    for cls, lengths in (("dog", (100, 80, 120)), ("cat", (90, 100)), ("bird", (60, 100, 70, 110))):
        (tmp_path / cls).mkdir()
        for i, n in enumerate(lengths):
            pcm = rng.integers(-32768, 32768, size=(n, 1))
            _write_wav(tmp_path / cls / f"{cls}_{i}.wav", pcm)
            clips[f"{cls}_{i}.wav"] = pcm / 32768.0
    (tmp_path / "cat" / "notes.txt").write_text("not audio")
    return tmp_path, clips


def test_audio_dataset_values_labels_and_padding(audio_dir):
    root, clips = audio_dir
    ds = strided.utils.audio_dataset_from_directory(root, batch_size=4, shuffle=False, verbose=False)
    assert ds.class_names == ["bird", "cat", "dog"]
    assert len(ds) == 3 and len(ds.file_paths) == 9
    seen = 0
    for audio, labels in ds:
        assert audio.dtype == np.float32 and labels.dtype == np.int32 and audio.ndim == 3
        names = [p.rsplit("/", 1)[-1] for p in ds.file_paths[seen:seen + len(labels)]]
        assert audio.shape[1] == max(len(clips[n]) for n in names)  # padded to the longest of the batch
        for k, name in enumerate(names):
            n = len(clips[name])
            np.testing.assert_array_equal(audio[k, :n], clips[name].astype(np.float32))
            assert not audio[k, n:].any()
            assert ds.class_names[labels[k]] == name.split("_")[0]
        seen += len(labels)

    fixed = strided.utils.audio_dataset_from_directory(root, batch_size=None, output_sequence_length=95,
                                                       label_mode="categorical", shuffle=False, verbose=False)
    audio, label = next(iter(fixed))
    assert audio.shape == (95, 1) and label.shape == (3,) and label.dtype == np.float32
    np.testing.assert_array_equal(audio[:60, 0], clips["bird_0.wav"][:, 0].astype(np.float32))
    assert not audio[60:].any()
    only_audio = strided.utils.audio_dataset_from_directory(root, label_mode=None, output_sequence_length=50,
                                                            batch_size=5, seed=1, verbose=False)
    batch = next(iter(only_audio))
    assert isinstance(batch, np.ndarray) and batch.shape == (5, 50, 1)


def test_audio_dataset_order_and_split_match_keras(real_keras, audio_dir):
    from keras.src.utils import dataset_utils

    root, _ = audio_dir
    paths, labels, names = dataset_utils.index_directory(str(root), "inferred", formats=(".wav",), shuffle=True,
                                                         seed=11, verbose=False)
    for subset in ("training", "validation"):
        want, want_labels = dataset_utils.get_training_or_validation_split(paths, labels, 0.3, subset)
        ds = strided.utils.audio_dataset_from_directory(root, validation_split=0.3, subset=subset, seed=11,
                                                        output_sequence_length=10, verbose=False)
        assert ds.file_paths == list(want) and ds.class_names == names
        np.testing.assert_array_equal(np.asarray(ds.labels), want_labels)
    train, val = strided.utils.audio_dataset_from_directory(root, validation_split=0.3, subset="both", seed=11,
                                                            label_mode="int", verbose=False)
    assert len(train.file_paths) == 7 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)


def test_audio_dataset_stereo_bit_depths_and_resampling(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    stereo = np.stack([np.arange(-50, 50) * 300, np.arange(100) * -200], axis=1)
    _write_wav(tmp_path / "a" / "s.wav", stereo)
    _write_wav(tmp_path / "b" / "t.wav", stereo[:70])
    ds = strided.utils.audio_dataset_from_directory(tmp_path, label_mode="binary", batch_size=2, shuffle=False,
                                                    verbose=False)
    audio, labels = next(iter(ds))
    assert audio.shape == (2, 100, 2) and labels.tolist() == [[0.0], [1.0]]
    np.testing.assert_array_equal(audio[0], (stereo / 32768.0).astype(np.float32))
    np.testing.assert_array_equal(audio[1, 70:], 0.0)

    from strided.data.audio_dataset import _resample, read_wav
    pcm = np.array([[-128], [-1], [0], [5], [127]])
    _write_wav(tmp_path / "u8.wav", pcm, width=1)
    np.testing.assert_array_equal(read_wav(tmp_path / "u8.wav")[0], pcm / 128.0)
    pcm24 = np.array([[-(1 << 23)], [-1], [0], [12345], [(1 << 23) - 1]])
    _write_wav(tmp_path / "s24.wav", pcm24, rate=8000, width=3)
    audio24, rate = read_wav(tmp_path / "s24.wav", desired_samples=7)
    assert rate == 8000 and audio24.shape == (7, 1)
    np.testing.assert_allclose(audio24[:5], pcm24 / float(1 << 23), rtol=1e-7)
    pcm32 = np.array([[-(1 << 31)], [1 << 20], [(1 << 31) - 1]])
    _write_wav(tmp_path / "s32.wav", pcm32, width=4)
    np.testing.assert_allclose(read_wav(tmp_path / "s32.wav")[0], pcm32 / float(1 << 31), rtol=1e-7)

    signal = pytest.importorskip("scipy.signal")
    x = np.random.default_rng(0).normal(size=(101, 2)).astype(np.float32)
    for rate_out in (8000, 22050, 44100):
        n_out = int(np.ceil(101 * rate_out / 16000))
        np.testing.assert_allclose(_resample(x, 16000, rate_out), signal.resample(x, n_out, axis=0),
                                   rtol=1e-5, atol=1e-5)
    resampled = strided.utils.audio_dataset_from_directory(tmp_path, sampling_rate=8000, batch_size=2,
                                                           shuffle=False, verbose=False)
    assert next(iter(resampled))[0].shape == (2, 50, 2)


def test_audio_dataset_errors(audio_dir, tmp_path):
    root, _ = audio_dir
    make = strided.utils.audio_dataset_from_directory
    with pytest.raises(ValueError, match=r"label_mode='sparse'"):
        make(root, label_mode="sparse")
    with pytest.raises(ValueError, match="Cannot set both `ragged` and `output_sequence_length`"):
        make(root, ragged=True, output_sequence_length=10)
    with pytest.raises(ValueError, match=r"ragged=True"):
        make(root, ragged=True)
    with pytest.raises(ValueError, match=r"sampling_rate=16000.0"):
        make(root, sampling_rate=16000.0)
    with pytest.raises(ValueError, match=r"output_sequence_length=0"):
        make(root, output_sequence_length=0)
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        make(root, label_mode="binary")
    with pytest.raises(ValueError, match="must provide a `seed`"):
        make(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match=r"labels='dog'"):
        make(root, labels="dog")
    (tmp_path / "mixed" / "a").mkdir(parents=True)
    _write_wav(tmp_path / "mixed" / "a" / "1.wav", np.zeros((10, 1)))
    _write_wav(tmp_path / "mixed" / "a" / "2.wav", np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"same number of channels.*\[1, 2\]"):
        next(iter(make(tmp_path / "mixed", shuffle=False, verbose=False)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No audio files found"):
        make(tmp_path / "empty", verbose=False)
