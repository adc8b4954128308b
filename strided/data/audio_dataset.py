"""``audio_dataset_from_directory``: Keras's audio directory datasets, read with Python's ``wave`` and NumPy.

Files, class names, labels, shuffling and the validation split are the shared ones of
:mod:`strided.data.directory` (Keras's ``index_directory`` order, so a seed picks the same files as Keras). Samples are decoded as ``tf.audio.decode_wav`` does: PCM integers scaled to ``[-1, 1)`` floats
(16-bit: ``/ 32768``), shape ``(samples, channels)``, cut or zero-padded to ``output_sequence_length``
when it is given; without it a batch is zero-padded to its longest file (``padded_batch``).
"""

import math
import os
import wave

import numpy as np

from strided.data.directory import (
    DirectoryDataset,
    check_labels_args,
    dataset_from_directory,
    directory_arguments,
    directory_doc,
)

ALLOWED_FORMATS = (".wav",)


def _resample(audio, rate_in, rate_out):
    """Band-limited resampling along axis 0 by Fourier interpolation (the method of
    ``scipy.signal.resample``), to ``ceil(samples * rate_out / rate_in)`` samples."""
    n_in = audio.shape[0]
    n_out = int(math.ceil(n_in * rate_out / rate_in))
    if n_out == n_in or n_in == 0:
        return audio
    spectrum = np.fft.rfft(audio.astype(np.float64), axis=0)
    common = min(n_in, n_out)
    spectrum = spectrum[: common // 2 + 1]
    if common % 2 == 0:
        # the Nyquist bin of the shorter signal stands for a pair of bins of the longer one
        spectrum[common // 2] *= 2.0 if n_out < n_in else 0.5
    out = np.fft.irfft(spectrum * (n_out / n_in), n=n_out, axis=0)
    return out.astype(np.float32)


def read_wav(path, desired_samples=-1):
    """Reads a PCM WAV file into float32 samples, as ``tf.audio.decode_wav``.

    Args:
        path: the file.
        desired_samples: if not -1, the number of samples returned: longer files are cut, shorter ones
            zero-padded at the end.

    Returns:
        ``(audio, sample_rate)``: ``audio`` a float32 array of shape ``(samples, channels)`` in ``[-1, 1)``
        (8-bit unsigned, 16-, 24- and 32-bit signed integer PCM).
    """
    try:
        with wave.open(os.fspath(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            raw = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError(
            f"Cannot decode {os.fspath(path)!r} as a PCM WAV file ({e}). Only uncompressed integer "
            "PCM WAV files (8, 16, 24 or 32 bits) are supported."
        ) from None
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        samples = value.astype(np.float32) / float(1 << 23)
    elif width == 4:
        samples = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise ValueError(
            f"Cannot decode {os.fspath(path)!r}: {8 * width}-bit samples are not supported "
            "(8, 16, 24 or 32-bit integer PCM)."
        )
    audio = samples.reshape(-1, channels)
    if desired_samples is not None and desired_samples != -1:
        if audio.shape[0] >= desired_samples:
            audio = audio[:desired_samples]
        else:
            audio = np.concatenate([audio, np.zeros((desired_samples - audio.shape[0], channels), np.float32)])
    return np.ascontiguousarray(audio), rate


class AudioDirectoryDataset(DirectoryDataset):
    """Batches of ``(audio, labels)`` read from WAV files; returned by :func:`audio_dataset_from_directory`.

    Attributes:
        class_names: list of class names (None without labels).
        file_paths: the audio files, in dataset order.
    """

    formats, what = ALLOWED_FORMATS, "audio files"
    _options = ("sampling_rate", "output_sequence_length")

    def _read(self, path):
        desired = -1 if self.output_sequence_length is None else self.output_sequence_length
        audio, rate = read_wav(path, desired)
        if self.sampling_rate is not None and rate != self.sampling_rate:
            audio = _resample(audio, rate, self.sampling_rate)
        return audio

    def _stack(self, clips, indices):
        channels = {c.shape[1] for c in clips}
        if len(channels) > 1:
            names = [os.path.basename(self.file_paths[int(i)]) for i in indices]
            raise ValueError(
                "All audio files of a batch must have the same number of channels. Received files "
                f"{names} with {[c.shape[1] for c in clips]} channels."
            )
        length = max((c.shape[0] for c in clips), default=0)
        audio = np.zeros((len(clips), length, channels.pop() if channels else 1), np.float32)
        for k, clip in enumerate(clips):
            audio[k, : clip.shape[0]] = clip
        return audio


@directory_doc("audio")
def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Generates a dataset of audio batches from WAV files in a directory.

    With ``main_directory/class_a/*.wav`` and ``main_directory/class_b/*.wav``,
    ``audio_dataset_from_directory(main_directory, labels='inferred')`` yields batches of audio from
    both subdirectories with labels 0 (``class_a``) and 1 (``class_b``). Only ``.wav`` files (integer
    PCM, read with Python's ``wave`` module) are supported.

    Args:
        {{labels_args}}
        batch_size: files per batch (default 32); None yields single files ``(samples, channels)``.
        sampling_rate: if given, every file is resampled to this rate (samples per second), after
            ``output_sequence_length`` is applied, as Keras does; Keras needs tensorflow-io for it,
            strided resamples by Fourier interpolation (``scipy.signal.resample``'s method).
        output_sequence_length: every file is cut or zero-padded to this many samples. If None, the
            files of a batch are zero-padded to the longest of the batch.
        ragged: only False is supported (strided datasets yield dense NumPy batches).
        shuffle: shuffle the files (else alphanumeric order). Defaults to True.
        {{split_args}}
        follow_links: follow symbolic links to subfolders. Defaults to False.
        verbose: print how many files and classes were found. Defaults to True.

    Returns:
        An :class:`AudioDirectoryDataset` (``len()`` = batches per epoch) yielding
        ``(audio, labels)`` NumPy batches, ``audio`` float32 of shape
        ``(batch, samples, channels)`` in ``[-1, 1)``, or ``audio`` alone when ``label_mode`` is None;
        with ``.class_names`` and ``.file_paths``. A pair of them when ``subset="both"``.
    """
    labels, label_mode = check_labels_args(labels, label_mode, class_names, "audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise ValueError(
            "`ragged=True` is not supported: strided datasets yield dense NumPy batches. Pass "
            "`output_sequence_length=N` to cut or pad every file to N samples, or leave it None to pad "
            f"each batch to its longest file. Received: ragged={ragged!r}"
        )
    if output_sequence_length is not None:
        if (
            isinstance(output_sequence_length, bool)
            or not isinstance(output_sequence_length, (int, np.integer))
            or output_sequence_length <= 0
        ):
            raise ValueError(
                "`output_sequence_length` should be a positive integer or None. "
                f"Received: output_sequence_length={output_sequence_length!r}"
            )
        output_sequence_length = int(output_sequence_length)
    if sampling_rate is not None:
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, np.integer)):
            raise ValueError(f"`sampling_rate` should have an integer value. Received: sampling_rate={sampling_rate!r}")
        if sampling_rate <= 0:
            raise ValueError(f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}")
        sampling_rate = int(sampling_rate)

    options = {"sampling_rate": sampling_rate, "output_sequence_length": output_sequence_length}
    return dataset_from_directory(AudioDirectoryDataset, options, **directory_arguments(locals()))


__all__ = ["audio_dataset_from_directory", "AudioDirectoryDataset", "read_wav", "ALLOWED_FORMATS"]
