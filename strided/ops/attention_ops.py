"""Scaled dot-product attention (``keras.ops.dot_product_attention``) and the pieces the attention
layers share: Keras's masked softmax and the causal mask.

The fused path is ``torch.nn.functional.scaled_dot_product_attention``, as in Keras's torch backend;
layers that must return the attention scores, or drop some of them out, take the explicit path
(``scores -> masked softmax -> dropout -> weighted sum``) built from :func:`masked_softmax`.
"""

import torch
import torch.nn.functional as F

from strided.ops.core import convert_to_tensor

__all__ = ["dot_product_attention"]


def _large_negative(dtype):
    """The additive mask value Keras's torch backend uses (-0.7 x the dtype's largest finite value)."""
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


def _float(x):
    x = convert_to_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def causal_mask(q_len, k_len, device=None):
    """Boolean ``(q_len, k_len)`` lower-triangular mask: position ``i`` sees keys ``j <= i``."""
    rows = torch.arange(q_len, device=device).unsqueeze(-1)
    cols = torch.arange(k_len, device=device)
    return rows >= cols


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax of ``scores`` over ``axis`` (int or tuple), Keras's ``Softmax`` layer with a mask.

    Masked-out entries (``mask`` False, or <= 0.5 for a numeric mask) are set to -1e9 (-3e4 in float16)
    before the softmax and to exactly 0 after it, so a row with every entry masked is all zeros.
    """
    if mask is not None:
        mask = torch.as_tensor(mask, device=scores.device)
        if mask.dtype != torch.bool:
            mask = mask > 0.5
        if mask.dim() > scores.dim():
            raise ValueError(
                "The `mask` must be broadcastable to `inputs` and must not have more dimensions. "
                f"Received: inputs.shape={tuple(scores.shape)}, mask.shape={tuple(mask.shape)}"
            )
        fill = -3e4 if scores.dtype == torch.float16 else -1e9
        scores = torch.where(mask, scores, torch.tensor(fill, dtype=scores.dtype, device=scores.device))
    if isinstance(axis, (tuple, list)) and len(axis) > 1:
        out = torch.exp(scores - torch.logsumexp(scores, dim=tuple(axis), keepdim=True))
    else:
        out = F.softmax(scores, dim=axis[0] if isinstance(axis, (tuple, list)) else axis)
    if mask is not None:
        out = torch.where(mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
    return out


def _check_flash(query, key, value, mask, raise_error):
    """Whether torch's flash kernel can run these inputs (CUDA, half precision, no mask, head dim <= 256)."""
    reasons = []
    if not query.is_cuda:
        reasons.append("the inputs are not on a CUDA device")
    if query.dtype not in (torch.float16, torch.bfloat16):
        reasons.append(f"the dtype is {str(query.dtype).replace('torch.', '')} (float16 or bfloat16 needed)")
    if mask is not None:
        reasons.append("a mask or bias is given")
    if query.shape[-1] > 256 or query.shape[-1] % 8:
        reasons.append(f"the head dimension is {query.shape[-1]} (a multiple of 8, at most 256, needed)")
    if reasons and raise_error:
        raise ValueError(
            "Flash attention is not supported for these inputs: "
            + "; ".join(reasons)
            + ". Pass `flash_attention=None` (or False) to use the standard kernel."
        )
    return not reasons


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention: ``softmax(Q K^T * scale + bias) V``.

    Shapes (B batch, T query length, S key length, N query heads, K key/value heads, H head size):

    Args:
        query: ``(B, T, N, H)``.
        key: ``(B, S, K, H)``. ``K == N`` is multi-head attention; ``N`` a multiple of ``K`` is
            grouped-query attention (each key/value head serves ``N // K`` query heads).
        value: ``(B, S, K, H)``, the same shape as ``key``.
        bias: optional additive bias of the logits, broadcastable to ``(B, N, T, S)``.
        mask: optional boolean mask broadcastable to ``(B, N, T, S)``; True takes part in attention.
            Only one of ``bias`` and ``mask`` may be given.
        scale: logit scale (default ``1 / sqrt(H)``).
        is_causal: whether query position ``i`` may only attend to key positions ``j <= i``.
        flash_attention: ``None`` uses torch's flash kernel where it applies; ``True`` requires it
            (ValueError when the inputs do not allow it); ``False`` never uses it.
        attn_logits_soft_cap: only supported by Keras on JAX/TPU; must be ``None``.

    Returns:
        The attention output, ``(B, T, N, H)``.
    """
    if attn_logits_soft_cap is not None:
        raise ValueError(
            "attn_logits_soft_cap is only supported for JAX on TPU. Set attn_logits_soft_cap=None "
            f"when not using JAX on TPU. Received: attn_logits_soft_cap={attn_logits_soft_cap!r}"
        )
    query, key, value = _float(query), _float(key), _float(value)
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. Received: "
            f"query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}."
        )
    if bias is not None and mask is not None:
        raise ValueError("Only one of `bias` and `mask` can be provided. Received both.")
    num_heads, num_kv_heads = query.shape[2], key.shape[2]
    if num_heads % num_kv_heads or value.shape[2] != num_kv_heads:
        raise ValueError(
            "The number of query heads must be a multiple of the number of key/value heads, and key "
            f"and value must have the same number of heads. Received: query.shape={tuple(query.shape)}, "
            f"key.shape={tuple(key.shape)}, value.shape={tuple(value.shape)}."
        )
    dtype = torch.promote_types(torch.promote_types(query.dtype, key.dtype), value.dtype)
    query, key, value = query.to(dtype), key.to(dtype), value.to(dtype)
    additive = None
    if mask is not None:
        mask = convert_to_tensor(mask).to(device=query.device, dtype=torch.bool)
        if is_causal:  # torch treats attn_mask and is_causal as exclusive: fold the causal mask in
            mask = mask & causal_mask(query.shape[1], key.shape[1], query.device)
            is_causal = False
        # Additive, as Keras's torch backend: a fully masked row then attends uniformly, never NaN.
        additive = torch.where(
            mask,
            torch.zeros((), dtype=dtype, device=query.device),
            torch.tensor(_large_negative(dtype), dtype=dtype, device=query.device),
        )
    elif bias is not None:
        additive = convert_to_tensor(bias).to(device=query.device, dtype=dtype)
    q, k, v = query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2)
    if num_heads != num_kv_heads:
        k = k.repeat_interleave(num_heads // num_kv_heads, dim=1)
        v = v.repeat_interleave(num_heads // num_kv_heads, dim=1)
    use_flash = (
        _check_flash(q, k, v, additive, raise_error=False)
        if flash_attention is None
        else flash_attention and _check_flash(q, k, v, additive, raise_error=True)
    )
    if use_flash:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(backends=[SDPBackend.FLASH_ATTENTION]):
            out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale)
    else:
        out = F.scaled_dot_product_attention(
            q.contiguous(),
            k.contiguous(),
            v.contiguous(),
            attn_mask=None if additive is None else additive.contiguous(),
            is_causal=is_causal,
            scale=scale,
        )
    return out.transpose(1, 2)
