"""load_img / img_to_array / array_to_img / save_img / smart_resize vs real Keras and Pillow."""

import io

import numpy as np
import pytest

from strided.data import image_utils as iu


def _rgb(h=6, w=9, seed=0):
    return (np.random.RandomState(seed).rand(h, w, 3) * 255).astype("uint8")


def test_roundtrip_png_is_lossless(tmp_path):
    x = _rgb()
    iu.save_img(tmp_path / "a.png", x, scale=False)
    back = iu.img_to_array(iu.load_img(tmp_path / "a.png"))
    assert back.dtype == np.float32 and back.shape == (6, 9, 3)
    np.testing.assert_array_equal(back, x.astype("float32"))
    gray = iu.img_to_array(iu.load_img(tmp_path / "a.png", color_mode="grayscale"))
    assert gray.shape == (6, 9, 1)
    rgba = iu.img_to_array(iu.load_img(str(tmp_path / "a.png"), color_mode="rgba"), data_format="channels_first")
    assert rgba.shape == (4, 6, 9) and (rgba[3] == 255).all()


def test_matches_keras(tmp_path, real_keras):
    from keras.src.utils import image_utils as kiu

    x = np.random.RandomState(1).rand(5, 7, 3).astype("float32") * 3 - 1
    np.testing.assert_array_equal(np.asarray(iu.array_to_img(x)), np.asarray(kiu.array_to_img(x)))
    g = np.random.RandomState(2).rand(5, 7, 1).astype("float32")
    np.testing.assert_array_equal(np.asarray(iu.array_to_img(g)), np.asarray(kiu.array_to_img(g)))
    iu.save_img(tmp_path / "b.png", _rgb(12, 20), scale=False)
    for kw in (
        dict(target_size=(5, 8)),
        dict(target_size=(5, 8), interpolation="bilinear"),
        dict(target_size=(6, 6), keep_aspect_ratio=True, interpolation="bicubic"),
    ):
        ours = iu.img_to_array(iu.load_img(tmp_path / "b.png", **kw))
        ref = kiu.img_to_array(kiu.load_img(tmp_path / "b.png", **kw))
        np.testing.assert_array_equal(ours, ref)
    big = np.random.RandomState(3).rand(10, 16, 2).astype("float32")
    np.testing.assert_allclose(iu.smart_resize(big, (5, 5)), kiu.smart_resize(big, (5, 5)), atol=1e-5)


def test_bytesio_and_errors(tmp_path):
    buf = io.BytesIO()
    iu.save_img(buf, _rgb(), file_format="png", scale=False)
    buf.seek(0)
    assert iu.load_img(buf).size == (9, 6)
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.png"):
        iu.load_img(tmp_path / "bad.png")
    iu.save_img(tmp_path / "c.png", _rgb(), scale=False)
    with pytest.raises(ValueError, match="color_mode"):
        iu.load_img(tmp_path / "c.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="rank 3"):
        iu.array_to_img(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="interpolation"):
        iu.load_img(tmp_path / "c.png", target_size=(3, 3), interpolation="cubic-ish")


def test_utils_namespace_reaches_these():
    import strided

    assert strided.utils.load_img is iu.load_img and strided.utils.save_img is iu.save_img
    assert strided.preprocessing.image.img_to_array is iu.img_to_array
    assert callable(strided.utils.image_dataset_from_directory)
    assert strided.preprocessing.image_dataset_from_directory is strided.utils.image_dataset_from_directory
