"""ops.ctc_loss / ops.ctc_decode and losses.CTC / losses.ctc vs real Keras: numbers, gradients, configs, errors."""

import numpy as np
import pytest
import torch

import strided
from strided import ops


def _labels(rng, batch, width, num_classes, mask_index):
    y = rng.integers(0, num_classes, size=(batch, width))
    return np.where(y == mask_index, (mask_index + 1) % num_classes, y).astype("int32")


def _grad(fn, logits):
    x = torch.tensor(logits, requires_grad=True)
    loss = fn(x)
    (loss * torch.arange(1, loss.shape[0] + 1, dtype=loss.dtype)).sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.keras
@pytest.mark.parametrize("seed", range(4))
def test_ctc_loss_matches_keras(real_keras, seed):
    rng = np.random.default_rng(seed)
    batch, steps, num_classes, width = 3, int(rng.integers(6, 12)), int(rng.integers(3, 7)), 4
    mask_index = [0, num_classes - 1, 1, 2][seed]
    logits = (rng.normal(size=(batch, steps, num_classes)) * 2).astype("float32")
    target = _labels(rng, batch, width, num_classes, mask_index)
    target_length = np.array([width, 1, int(rng.integers(0, width + 1))])
    output_length = np.array([steps, steps - 2, int(rng.integers(width + 2, steps + 1))])
    ours, ours_grad = _grad(lambda x: ops.ctc_loss(target, x, target_length, output_length, mask_index), logits)
    theirs, theirs_grad = _grad(
        lambda x: real_keras.ops.ctc_loss(target, x, target_length, output_length, mask_index=mask_index), logits
    )
    assert ours.shape == (batch,) and np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-5, atol=1e-6)
    assert np.abs(ours_grad).max() > 1e-3


@pytest.mark.keras
def test_ctc_loss_dtypes_and_impossible_alignment(real_keras):
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(2, 5, 4))
    target = np.array([[1, 1, 1, 1], [2, 3, 0, 0]])
    lengths = (np.array([4, 2]), np.array([5, 5]))
    ours = ops.ctc_loss(target, logits, *lengths)  # float64 logits give float32, as in Keras
    theirs = real_keras.ops.ctc_loss(target, logits, *lengths)
    assert ours.dtype == theirs.dtype == torch.float32
    # "1 1 1 1" needs 7 steps (a blank between repeats): impossible in 5, the loss is inf in both.
    assert np.isinf(ours[0].item()) and np.isinf(theirs[0].item())
    np.testing.assert_allclose(ours[1].item(), theirs[1].item(), rtol=1e-6)
    half = ops.ctc_loss(target.astype("float32"), torch.tensor(logits, dtype=torch.float16), *lengths)
    assert half.dtype == torch.float32
    decoded = ops.ctc_decode(torch.tensor(logits), [5, 5], strategy="beam_search")
    assert decoded[0].dtype == torch.int32 and decoded[1].dtype == torch.float32


@pytest.mark.keras
@pytest.mark.parametrize("seed", range(6))
def test_ctc_decode_matches_keras(real_keras, seed):
    rng = np.random.default_rng(100 + seed)
    batch, steps, num_classes = 3, int(rng.integers(4, 16)), int(rng.integers(2, 9))
    logits = (rng.normal(size=(batch, steps, num_classes)) * rng.uniform(0.5, 3)).astype("float32")
    lengths = np.array([steps, int(rng.integers(1, steps + 1)), int(rng.integers(0, steps + 1))])
    mask_index = [0, None, num_classes - 1, 1, 0, None][seed]
    cases = [
        dict(strategy="greedy"),
        dict(strategy="greedy", merge_repeated=False),
        dict(strategy="beam_search", beam_width=int(rng.integers(1, 12)), top_paths=int(rng.integers(1, 5))),
        dict(strategy="beam_search", beam_width=30, top_paths=3),
    ]
    for kw in cases:
        ours = ops.ctc_decode(logits, lengths, mask_index=mask_index, **kw)
        theirs = real_keras.ops.ctc_decode(logits, lengths, mask_index=mask_index, **kw)
        assert ours[0].dtype == theirs[0].dtype == torch.int32, kw
        np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy(), err_msg=str(kw))
        np.testing.assert_allclose(ours[1].numpy(), theirs[1].numpy(), rtol=1e-5, atol=1e-5, err_msg=str(kw))


@pytest.mark.keras
def test_ctc_decode_known_sequences(real_keras):
    # Step-by-step best classes (blank 0): 1 1 0 1 2 2 0 3 -> "1 1 2 3" merged, "1 1 0 1 2 2 0 3" unmerged.
    best = [1, 1, 0, 1, 2, 2, 0, 3]
    logits = np.full((1, 8, 4), -2.0, "float32")
    logits[0, np.arange(8), best] = 3.0
    paths, scores = ops.ctc_decode(logits, [8])
    assert paths.shape == (1, 1, 8)
    assert paths[0, 0].tolist() == [1, 1, 2, 3, -1, -1, -1, -1]
    assert scores.tolist() == [[-24.0]]
    paths, _ = ops.ctc_decode(logits, [8], merge_repeated=False)
    assert paths[0, 0].tolist() == [1, 1, 1, 2, 2, 3, -1, -1]
    paths, scores = ops.ctc_decode(logits, [8], strategy="beam_search", beam_width=10, top_paths=2)
    assert paths.shape == (2, 1, 8) and scores.shape == (1, 2)
    assert paths[0, 0].tolist() == [1, 1, 2, 3, -1, -1, -1, -1] and scores[0, 0] > scores[0, 1]
    theirs = real_keras.ops.ctc_decode(logits, [8], strategy="beam_search", beam_width=10, top_paths=2)
    np.testing.assert_allclose(scores.numpy(), theirs[1].numpy(), rtol=1e-5)
    # Keras keeps at most 2 * num_classes * beam_width candidates: 2 * 4 * 1 = 8 paths at most.
    paths, scores = ops.ctc_decode(logits[:, :1], [1], strategy="beam_search", beam_width=1, top_paths=9)
    assert paths.shape == (8, 1, 1) and scores.shape == (1, 8)
    assert paths[1:].eq(-1).all() and torch.isinf(scores[0, 1:]).all()


@pytest.mark.keras
def test_ctc_loss_class_matches_keras(real_keras):
    rng = np.random.default_rng(3)
    y_pred = rng.normal(size=(4, 9, 6)).astype("float32")
    y_true = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [4, 1, 3, 2], [5, 5, 0, 0]], "int32")
    weights = np.array([1.0, 0.5, 0.0, 2.0], "float32")
    for reduction in ("sum_over_batch_size", "sum", None, "mean_with_sample_weight"):
        ours = strided.losses.CTC(reduction=reduction)(y_true, y_pred, sample_weight=weights)
        theirs = real_keras.losses.CTC(reduction=reduction)(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        strided.losses.ctc(y_true, y_pred).numpy(), real_keras.losses.ctc(y_true, y_pred).numpy(), rtol=1e-6
    )
    ours, ours_grad = _grad(lambda x: strided.losses.ctc(y_true, x), y_pred)
    _, theirs_grad = _grad(lambda x: real_keras.losses.ctc(y_true, x), y_pred)
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-5, atol=1e-6)
    # Config round trips, both ways.
    loss = strided.losses.CTC(reduction="sum", name="my_ctc")
    assert loss.get_config() == real_keras.losses.CTC(reduction="sum", name="my_ctc").get_config()
    assert strided.losses.CTC.from_config(loss.get_config()).get_config() == loss.get_config()
    written = strided.losses.serialize(loss)
    assert written == real_keras.losses.serialize(real_keras.losses.CTC(reduction="sum", name="my_ctc"))
    assert type(real_keras.losses.deserialize(written)).__name__ == "CTC"
    back = strided.losses.deserialize(written)
    assert isinstance(back, strided.losses.CTC) and back.name == "my_ctc" and back.reduction == "sum"
    assert strided.losses.get("ctc") is strided.losses.ctc and isinstance(strided.losses.get("CTC"), strided.losses.CTC)


@pytest.mark.keras
def test_ctc_in_compiled_model_and_symbolic_ops(real_keras):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 7, 3)).astype("float32")
    y = np.array([[1, 2, 0], [3, 3, 0], [1, 0, 0], [2, 1, 3], [4, 0, 0], [1, 4, 2]], "int32")
    model = strided.Sequential([strided.Input((7, 3)), strided.layers.Dense(5)])
    model.compile(optimizer="sgd", loss="ctc")
    logits = model.predict(x, verbose=0)
    expected = real_keras.losses.CTC()(y, logits).item()
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=6, verbose=0), expected, rtol=1e-5)
    # On symbolic tensors the ops record graph nodes, as keras.ops does.
    inputs = strided.Input((7, 5))
    labels = strided.Input((3,), dtype="int32")
    lengths = ops.sum(ops.ones_like(inputs[..., 0], dtype="int32"), axis=-1)
    per_sample = ops.ctc_loss(labels, inputs, ops.sum(ops.cast(labels != 0, "int32"), axis=-1), lengths)
    decoded, scores = ops.ctc_decode(inputs, lengths, strategy="beam_search", beam_width=4, top_paths=2)
    assert per_sample.shape == (None,) and decoded.shape == (2, None, 7) and scores.shape == (None, 2)
    graph = strided.Model([inputs, labels], [per_sample, decoded])
    got_loss, got_paths = graph([logits, y])
    np.testing.assert_allclose(got_loss.numpy(), real_keras.losses.ctc(y, logits).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(
        got_paths.numpy(),
        real_keras.ops.ctc_decode(logits, [7] * 6, strategy="beam_search", beam_width=4, top_paths=2)[0].numpy(),
    )


def test_ctc_errors():
    logits = np.zeros((2, 5, 4), "float32")
    target = np.array([[1, 2], [3, 0]])
    with pytest.raises(ValueError, match=r"output.*\(batch_size, max_length, num_classes\).*\(2, 5\)"):
        ops.ctc_loss(target, logits[..., 0], [2, 1], [5, 5])
    with pytest.raises(ValueError, match="same first dimension"):
        ops.ctc_loss(target[:1], logits, [2, 1], [5, 5])
    with pytest.raises(ValueError, match=r"mask_index=4"):
        ops.ctc_loss(target, logits, [2, 1], [5, 5], mask_index=4)
    with pytest.raises(ValueError, match=r"output_length.*\[6, 5\]"):
        ops.ctc_loss(target, logits, [2, 1], [6, 5])
    with pytest.raises(ValueError, match="target_length"):
        ops.ctc_loss(target, logits, [2, 1, 1], [5, 5])
    with pytest.raises(ValueError, match="Invalid strategy beam. Supported values are 'greedy' and 'beam_search'"):
        ops.ctc_decode(logits, [5, 5], strategy="beam")
    with pytest.raises(ValueError, match="beam_width=0"):
        ops.ctc_decode(logits, [5, 5], strategy="beam_search", beam_width=0)
    with pytest.raises(ValueError, match=r"y_true.shape=\(2,\)"):
        strided.losses.CTC()(np.array([1, 2]), logits)
    with pytest.raises(ValueError, match=r"y_pred.shape=\(2, 5\)"):
        strided.losses.ctc(target, logits[..., 0])
