"""audio_dataset_from_directory (Keras reads WAV files through TensorFlow, absent here: decoding is checked
against the PCM values written, and the file order and split against Keras's own index_directory)."""

import wave

import numpy as np
import pytest

import strided
from strided.data.audio_dataset import _resample, read_wav


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
        names = [p.rsplit("/", 1)[-1] for p in ds.file_paths[seen : seen + len(labels)]]
        assert audio.shape[1] == max(len(clips[n]) for n in names)  # padded to the longest of the batch
        for k, name in enumerate(names):
            n = len(clips[name])
            np.testing.assert_array_equal(audio[k, :n], clips[name].astype(np.float32))
            assert not audio[k, n:].any()
            assert ds.class_names[labels[k]] == name.split("_")[0]
        seen += len(labels)

    fixed = strided.utils.audio_dataset_from_directory(
        root, batch_size=None, output_sequence_length=95, label_mode="categorical", shuffle=False, verbose=False
    )
    audio, label = next(iter(fixed))
    assert audio.shape == (95, 1) and label.shape == (3,) and label.dtype == np.float32
    np.testing.assert_array_equal(audio[:60, 0], clips["bird_0.wav"][:, 0].astype(np.float32))
    assert not audio[60:].any()
    only_audio = strided.utils.audio_dataset_from_directory(
        root, label_mode=None, output_sequence_length=50, batch_size=5, seed=1, verbose=False
    )
    batch = next(iter(only_audio))
    assert isinstance(batch, np.ndarray) and batch.shape == (5, 50, 1)


def test_audio_dataset_order_and_split_match_keras(real_keras, audio_dir):
    from keras.src.utils import dataset_utils

    root, _ = audio_dir
    paths, labels, names = dataset_utils.index_directory(
        str(root), "inferred", formats=(".wav",), shuffle=True, seed=11, verbose=False
    )
    for subset in ("training", "validation"):
        want, want_labels = dataset_utils.get_training_or_validation_split(paths, labels, 0.3, subset)
        ds = strided.utils.audio_dataset_from_directory(
            root, validation_split=0.3, subset=subset, seed=11, output_sequence_length=10, verbose=False
        )
        assert ds.file_paths == list(want) and ds.class_names == names
        np.testing.assert_array_equal(np.asarray(ds.labels), want_labels)
    train, val = strided.utils.audio_dataset_from_directory(
        root, validation_split=0.3, subset="both", seed=11, label_mode="int", verbose=False
    )
    assert len(train.file_paths) == 7 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)


def test_audio_dataset_stereo_bit_depths_and_resampling(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    stereo = np.stack([np.arange(-50, 50) * 300, np.arange(100) * -200], axis=1)
    _write_wav(tmp_path / "a" / "s.wav", stereo)
    _write_wav(tmp_path / "b" / "t.wav", stereo[:70])
    ds = strided.utils.audio_dataset_from_directory(
        tmp_path, label_mode="binary", batch_size=2, shuffle=False, verbose=False
    )
    audio, labels = next(iter(ds))
    assert audio.shape == (2, 100, 2) and labels.tolist() == [[0.0], [1.0]]
    np.testing.assert_array_equal(audio[0], (stereo / 32768.0).astype(np.float32))
    np.testing.assert_array_equal(audio[1, 70:], 0.0)

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
        np.testing.assert_allclose(
            _resample(x, 16000, rate_out), signal.resample(x, n_out, axis=0), rtol=1e-5, atol=1e-5
        )
    resampled = strided.utils.audio_dataset_from_directory(
        tmp_path, sampling_rate=8000, batch_size=2, shuffle=False, verbose=False
    )
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
