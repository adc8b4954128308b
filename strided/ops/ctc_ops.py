"""Connectionist Temporal Classification (Graves et al., ICML 2006): ``ctc_loss`` and ``ctc_decode``.

Keras's conventions: the model outputs **logits** of shape ``(batch, max_length, num_classes)``
(time second, not first; no softmax applied), labels are padded integer sequences of shape
``(batch, max_label_length)`` with their lengths given apart, and ``mask_index`` is the class of
the CTC blank (0 by default). The loss is ``torch.nn.functional.ctc_loss`` on the log-softmax of the
logits, per sample (``inf`` where no alignment exists, as in Keras's torch backend).

``ctc_decode`` decodes greedily (best class per step, repeats merged, blanks dropped) or with a
prefix beam search that keeps, for each candidate label sequence, the probability of the
alignments ending in a blank and of those ending in a label, as Keras's beam search does.
"""

import numbers

import torch
import torch.nn.functional as F

from strided.ops.core import convert_to_tensor

__all__ = ["ctc_loss", "ctc_decode"]


def _float_logits(x, arg):
    x = convert_to_tensor(x).to(torch.float32)  # Keras: result_type(dtype, 'float32'), float32 for every dtype
    if x.dim() != 3:
        raise ValueError(
            f"Argument `{arg}` must be a tensor of shape (batch_size, max_length, num_classes). "
            f"Received: {arg}.shape={tuple(x.shape)}"
        )
    return x


def _int_vector(x, arg, batch_size, device):
    x = convert_to_tensor(x)
    if x.is_floating_point():
        x = x.round()
    x = x.to(device=device, dtype=torch.long)
    if x.dim() == 0:
        x = x.expand(batch_size)
    if tuple(x.shape) != (batch_size,):
        raise ValueError(
            f"Argument `{arg}` must be a vector of shape (batch_size,) = ({batch_size},). "
            f"Received: {arg}.shape={tuple(x.shape)}"
        )
    return x


def _check_index(mask_index, num_classes, allow_none=False):
    if mask_index is None and allow_none:
        return num_classes - 1
    if (
        isinstance(mask_index, bool)
        or not isinstance(mask_index, numbers.Integral)
        or not 0 <= mask_index < num_classes
    ):
        raise ValueError(
            f"Argument `mask_index` must be an integer in [0, num_classes) = [0, {num_classes}). "
            f"Received: mask_index={mask_index!r}"
        )
    return int(mask_index)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC (Connectionist Temporal Classification) loss, per sample.

    Args:
        target: integer tensor of shape ``(batch_size, max_label_length)``, the true label
            sequences (entries past each ``target_length`` are ignored).
        output: tensor of shape ``(batch_size, max_length, num_classes)``, the logits (the output of
            the model, not normalized by a softmax).
        target_length: tensor of shape ``(batch_size,)``, the length of each label sequence.
        output_length: tensor of shape ``(batch_size,)``, the number of valid time steps of each
            ``output`` sequence.
        mask_index: the class index of the CTC blank (mask) character. Defaults to ``0``.

    Returns:
        A float32 tensor of shape ``(batch_size,)`` (whatever the logits' dtype, as in Keras): the
        negative log likelihood of each label sequence; ``inf`` where the labels cannot be aligned.

    Example:

    >>> logits = np.random.normal(size=(2, 10, 5)).astype("float32")
    >>> labels = np.array([[1, 2, 2], [3, 0, 0]])
    >>> keras.ops.ctc_loss(labels, logits, np.array([3, 1]), np.array([10, 8]))
    """
    output = _float_logits(output, "output")
    batch_size, max_length, num_classes = output.shape
    target = convert_to_tensor(target)
    if target.dim() != 2 or target.shape[0] != batch_size:
        raise ValueError(
            "Arguments `target` and `output` must have the same first dimension, and `target` must "
            "have shape (batch_size, max_label_length). Received shapes: "
            f"`{tuple(target.shape)}` and `{tuple(output.shape)}`."
        )
    target = target.to(device=output.device, dtype=torch.long)
    target_length = _int_vector(target_length, "target_length", batch_size, output.device)
    output_length = _int_vector(output_length, "output_length", batch_size, output.device)
    mask_index = _check_index(mask_index, num_classes)
    if output.is_meta:  # shape inference for a symbolic call: nothing to compute
        return torch.empty((batch_size,), dtype=output.dtype, device=output.device)
    if bool((output_length > max_length).any()) or bool((output_length < 0).any()):
        raise ValueError(
            f"Argument `output_length` must be in [0, max_length] = [0, {max_length}]. "
            f"Received: output_length={output_length.tolist()}"
        )
    if bool((target_length > target.shape[1]).any()) or bool((target_length < 0).any()):
        raise ValueError(
            f"Argument `target_length` must be in [0, {target.shape[1]}] (the width of `target`). "
            f"Received: target_length={target_length.tolist()}"
        )
    log_probs = F.log_softmax(output, dim=-1).transpose(0, 1)  # (time, batch, classes), as torch wants
    return F.ctc_loss(log_probs, target, output_length, target_length, blank=mask_index, reduction="none")


def _greedy_decode(inputs, lengths, merge_repeated, mask_index):
    batch_size, max_length, _ = inputs.shape
    scores, best = inputs.max(dim=-1)
    best = best.to(torch.int32)
    steps = torch.arange(max_length, device=inputs.device)
    past_end = steps[None, :] >= lengths[:, None]
    best = torch.where(past_end, torch.full_like(best, mask_index), best)
    scores = torch.where(past_end, torch.zeros_like(scores), scores)
    if merge_repeated:
        repeated = torch.zeros_like(past_end)
        repeated[:, 1:] = best[:, 1:] == best[:, :-1]
        best = torch.where(repeated, torch.full_like(best, mask_index), best)
    dropped = best == mask_index
    # Move the kept labels to the front, in order; the dropped steps become -1 at the end.
    order = torch.argsort(torch.where(dropped, max_length, steps[None, :]), dim=-1, stable=True)
    decoded = torch.where(dropped, torch.full_like(best, -1), best).gather(1, order)
    return decoded[None], -scores.sum(dim=1, keepdim=True)


def _group_logsumexp(values, groups, num_groups):
    """``logsumexp`` of ``values`` within each group (``-inf`` for an empty or all ``-inf`` group)."""
    top = torch.full((num_groups,), float("-inf"), dtype=values.dtype, device=values.device)
    top = top.scatter_reduce(0, groups, values, reduce="amax", include_self=True)
    shift = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    total = torch.zeros(num_groups, dtype=values.dtype, device=values.device)
    total = total.scatter_add(0, groups, torch.exp(values - shift[groups]))
    return torch.log(total) + shift


def _beam_search_one(logp, length, beam_width, top_paths, blank):
    """Prefix beam search over one sequence's log-probabilities ``(max_length, num_classes)``."""
    max_length, num_classes = logp.shape
    device, dtype = logp.device, logp.dtype
    neg_inf = torch.tensor(float("-inf"), dtype=dtype, device=device)
    # Each beam entry: a label sequence (padded with -1), its length, and the log probability of
    # its alignments so far that end in a label (`emit`) and in a blank (`rest`).
    paths = torch.full((1, max_length), -1, dtype=torch.long, device=device)
    sizes = torch.zeros(1, dtype=torch.long, device=device)
    emit = neg_inf.reshape(1)
    rest = torch.zeros(1, dtype=dtype, device=device)
    labels = torch.tensor([c for c in range(num_classes) if c != blank], dtype=torch.long, device=device)
    for t in range(max(int(length), 1)):  # the first step is decoded even for an empty sequence, as Keras
        lp = logp[t]
        beam = paths.shape[0]
        total = torch.logaddexp(emit, rest)
        tails = paths.gather(1, (sizes - 1).clamp(min=0)[:, None])[:, 0]
        tails = torch.where(sizes > 0, tails, torch.full_like(tails, -1))
        n = len(labels)
        # 1. A blank: the same sequence, now ending in a blank.
        blank_scores = total + lp[blank]
        # 2. The last label again, merged with it: the same sequence, still ending in a label.
        repeat_scores = torch.where(sizes > 0, emit + lp[tails.clamp(min=0)], neg_inf)
        # 3. A new label appended (only after a blank when it equals the last label).
        grown = paths.repeat_interleave(n, dim=0)
        c = labels.repeat(beam)
        at = sizes.repeat_interleave(n)
        source = torch.where(c == tails.repeat_interleave(n), rest.repeat_interleave(n), total.repeat_interleave(n))
        grown[torch.arange(len(c), device=device), at.clamp(max=max_length - 1)] = c
        candidates = torch.cat([paths, paths, grown])
        scores = torch.cat([blank_scores, repeat_scores, source + lp[c]])
        ends_blank = torch.cat(
            [
                torch.ones(beam, dtype=torch.bool, device=device),
                torch.zeros(beam + len(c), dtype=torch.bool, device=device),
            ]
        )
        # Candidates reached in several ways are one sequence: add their probabilities, per ending.
        unique, inverse = torch.unique(candidates, dim=0, return_inverse=True)
        emit = _group_logsumexp(torch.where(ends_blank, neg_inf, scores), inverse, unique.shape[0])
        rest = _group_logsumexp(torch.where(ends_blank, scores, neg_inf), inverse, unique.shape[0])
        merged = torch.logaddexp(emit, rest)
        best = torch.argsort(merged, descending=True, stable=True)[:beam_width]
        best = best[torch.isfinite(merged[best])]
        paths, emit, rest = unique[best], emit[best], rest[best]
        sizes = (paths >= 0).sum(dim=1)
    total = torch.logaddexp(emit, rest)
    order = torch.argsort(total, descending=True, stable=True)[:top_paths]
    out_paths = torch.full((top_paths, max_length), -1, dtype=torch.int32, device=device)
    out_scores = torch.full((top_paths,), float("-inf"), dtype=dtype, device=device)
    out_paths[: len(order)] = paths[order].to(torch.int32)
    out_scores[: len(order)] = total[order]
    return out_paths, out_scores


def ctc_decode(
    inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True, mask_index=0
):
    """Decodes the output of a CTC model.

    Args:
        inputs: tensor of shape ``(batch_size, max_length, num_classes)``, the logits (the output of
            the model). They should *not* be normalized via softmax.
        sequence_lengths: tensor of shape ``(batch_size,)``, the number of valid steps of each sequence.
        strategy: ``"greedy"`` (the best class at each step) or ``"beam_search"``.
        beam_width: the number of candidate label sequences kept at each step of the beam search
            (default 100).
        top_paths: how many of the best sequences the beam search returns (default 1).
        merge_repeated: whether greedy decoding merges a label repeated at consecutive steps (the
            beam search always does, as CTC defines it). Defaults to ``True``.
        mask_index: the class index of the blank (mask) character; ``None`` means
            ``num_classes - 1``. Defaults to ``0``.

    Returns:
        A tuple ``(decoded, scores)``:

        - ``decoded``: int32 tensor of shape ``(1, batch_size, max_length)`` for ``"greedy"``,
            ``(top_paths, batch_size, max_length)`` for ``"beam_search"`` (at most
            ``2 * num_classes * beam_width`` paths, as in Keras): the label sequences, left-aligned and
            padded with ``-1`` (a path of ``-1`` with a score of ``-inf`` where fewer sequences exist).
        - ``scores``: for ``"greedy"``, shape ``(batch_size, 1)``, the negative sum of the best
            logits over the valid steps; for ``"beam_search"``, shape ``(batch_size, top_paths)``, the
            log probability of each sequence (best first).

    Example:

    >>> logits = np.random.normal(size=(2, 10, 5)).astype("float32")
    >>> decoded, scores = keras.ops.ctc_decode(logits, np.array([10, 7]))
    >>> decoded.shape
    torch.Size([1, 2, 10])
    """
    inputs = _float_logits(inputs, "inputs")
    batch_size, _, num_classes = inputs.shape
    lengths = _int_vector(sequence_lengths, "sequence_lengths", batch_size, inputs.device)
    mask_index = _check_index(mask_index, num_classes, allow_none=True)
    if strategy == "greedy":
        return _greedy_decode(inputs, lengths.to(torch.int32), merge_repeated, mask_index)
    if strategy != "beam_search":
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")
    for arg, value in (("beam_width", beam_width), ("top_paths", top_paths)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"Argument `{arg}` must be a strictly positive integer. Received: {arg}={value!r}")
    # Keras's beam search keeps at most 2 * num_classes * beam_width candidates, so never returns more.
    top_paths = min(int(top_paths), 2 * num_classes * int(beam_width))
    if inputs.is_meta:  # shape inference for a symbolic call: nothing to compute
        return (
            torch.empty((top_paths, batch_size, inputs.shape[1]), dtype=torch.int32, device=inputs.device),
            torch.empty((batch_size, top_paths), dtype=inputs.dtype, device=inputs.device),
        )
    with torch.no_grad():
        logp = F.log_softmax(inputs, dim=-1)
        results = [
            _beam_search_one(logp[b], lengths[b], int(beam_width), top_paths, mask_index) for b in range(batch_size)
        ]
    paths = torch.stack([p for p, _ in results], dim=1)
    scores = torch.stack([s for _, s in results], dim=0)
    return paths, scores
