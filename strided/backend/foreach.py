"""Constants for torch's multi-tensor (``torch._foreach_*``) kernels.

On the CPU, a ``_foreach_*`` op given a Python number (``torch._foreach_mul_(tensors, 0.9)``) runs its slow
path, which wraps the number into a double tensor and casts it for every tensor of the list: about 4 us per
tensor. Given the same number as a 0-d tensor of the list's dtype it takes the fast path (about 0.75 us per
tensor), with the same result (the number is cast to the tensors' dtype either way). ``scalar(value, like)``
returns that 0-d tensor, made once per (value, dtype, device).

Only for the ops with a ``Tensor`` overload (``_foreach_mul``, ``_foreach_div``...): ``_foreach_add`` and
``_foreach_sub`` have none, and read a 0-d tensor back to a Python number (``.item()``, a device synchronisation
on a GPU); give them the number.
"""

import torch

_CACHE = {}
_CACHE_LIMIT = 512  # constants of the optimizers and layers of a session: a handful; batch-dependent ones vary


def scalar(value, like):
    """``value`` as a cached 0-d tensor with the dtype and device of the tensor ``like``."""
    key = (value, like.dtype, like.device)
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        found = _CACHE[key] = torch.tensor(value, dtype=like.dtype, device=like.device)
    return found
