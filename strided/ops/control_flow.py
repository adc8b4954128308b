"""``keras.ops`` control flow on torch: ``cond``, ``switch``, loops, scans and maps.

Torch runs eagerly, so these are Python control flow with Keras's signatures and semantics: the
loop state may be any nested structure (tuples, lists, dicts) of tensors, ``scan`` stacks the
per-step outputs, ``vectorized_map``/``vectorize`` batch a per-example function with
``torch.vmap``. Inside a layer's shape inference (tensors on the ``meta`` device, no values),
``cond`` takes the true branch, as Keras does on its torch backend.
"""

import builtins
import re

import torch

from strided.ops.core import convert_to_tensor
from strided.utils import tree

__all__ = [
    "cond",
    "switch",
    "fori_loop",
    "while_loop",
    "scan",
    "associative_scan",
    "map",
    "vectorized_map",
    "vectorize",
    "custom_gradient",
]

_t = convert_to_tensor


def _callable(fn, name):
    if not callable(fn):
        raise TypeError(f"`{name}` should be a callable. Received: {name}={fn!r}")


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``.

    Args:
        pred: boolean scalar (Python bool or tensor).
        true_fn: callable with no arguments.
        false_fn: callable with no arguments.

    Returns:
        The output of the branch taken.
    """
    _callable(true_fn, "true_fn")
    _callable(false_fn, "false_fn")
    if isinstance(pred, torch.Tensor):
        if pred.device.type == "meta":  # shape inference: no value to decide on
            return true_fn()
        if pred.numel() != 1:
            raise ValueError(f"`pred` must be a scalar. Received: pred.shape={tuple(pred.shape)}")
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to ``[0, len(branches) - 1]``.

    Args:
        index: integer scalar.
        branches: sequence of callables.
        *operands: arguments for the chosen branch.

    Returns:
        The output of the chosen branch.
    """
    if not isinstance(branches, (list, tuple)) or not branches:
        raise ValueError(f"`branches` must be a non-empty list or tuple of callables. Received: branches={branches!r}")
    for i, fn in enumerate(branches):
        _callable(fn, f"branches[{i}]")
    i = int(_t(index).reshape(()).item()) if not isinstance(index, int) else index
    return branches[builtins.min(builtins.max(i, 0), len(branches) - 1)](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``, starting from ``init_val``.

    Args:
        lower: first value of the loop index.
        upper: the loop stops before this value.
        body_fun: callable ``(i, val) -> val``.
        init_val: initial state (any nested structure).

    Returns:
        The final state.
    """
    _callable(body_fun, "body_fun")
    lower = int(lower) if not isinstance(lower, int) else lower
    upper = int(upper) if not isinstance(upper, int) else upper
    val = init_val
    for i in range(lower, upper):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds.

    Args:
        cond: callable returning a boolean scalar; takes the elements of ``loop_vars`` positionally
            when it is a tuple or list, else ``loop_vars`` itself.
        body: callable with the same arguments, returning new loop variables of the same structure.
        loop_vars: the initial state: a tensor, or a tuple/list of (nested) tensors.
        maximum_iterations: optional cap on the number of iterations.

    Returns:
        The final loop variables, in the structure of ``loop_vars``.
    """
    _callable(cond, "cond")
    _callable(body, "body")
    if maximum_iterations is not None and int(maximum_iterations) < 0:
        raise ValueError(f"`maximum_iterations` must be >= 0. Received: maximum_iterations={maximum_iterations}")
    as_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if as_tuple else (loop_vars,)
    state = tree.map_structure(_t, state)
    steps = 0
    while (maximum_iterations is None or steps < int(maximum_iterations)) and bool(cond(*state)):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        steps += 1
    return state if as_tuple else state[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loops ``carry, y = f(carry, x)`` over the leading axis of ``xs`` and stacks the ``y``.

    Args:
        f: callable ``(carry, x) -> (carry, y)``; ``carry`` keeps the structure of ``init``.
        init: initial carry (any nested structure of tensors).
        xs: values to loop over along their leading axis (a nested structure of tensors), or None.
        length: number of steps; needed when ``xs`` is None.
        reverse: loop from the last element to the first (the outputs stay aligned with ``xs``).
        unroll: accepted for compatibility (a positive int or a bool); torch runs eagerly.

    Returns:
        ``(final_carry, stacked_ys)``.
    """
    _callable(f, "f")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"`unroll` must be an positive integer or boolean. Received: unroll={unroll!r}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    if xs is not None:
        leaves = [_t(leaf) for leaf in tree.flatten(xs)]
        n = int(length) if length is not None else (leaves[0].shape[0] if leaves else 0)
        if any(leaf.shape[0] != n for leaf in leaves):
            raise ValueError(
                f"All `xs` must have the same leading length {n}. Received shapes "
                f"{[tuple(leaf.shape) for leaf in leaves]}"
            )
    else:
        leaves, n = [], int(length)
    carry = tree.map_structure(_t, init)
    ys = [None] * n
    for i in range(n - 1, -1, -1) if reverse else range(n):
        x = tree.pack_sequence_as(xs, [leaf[i] for leaf in leaves]) if xs is not None else None
        carry, y = f(carry, x)
        ys[i] = y
    if n == 0 or ys[0] is None:
        return carry, None if n == 0 else tree.map_structure(lambda c: torch.stack([torch.zeros_like(c)] * n), carry)
    return carry, tree.map_structure(lambda *steps: torch.stack([_t(s) for s in steps]), ys[0], *ys[1:])


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with an associative ``f``: ``[a, f(a, b), f(f(a, b), c), ...]`` along ``axis``.

    Computed in ``O(log n)`` rounds of vectorized calls (the Blelloch-style odd/even recursion), so
    ``f`` must work elementwise on whole slices.

    Args:
        f: associative callable ``(a, b) -> c`` on (nested structures of) tensors shaped like
            ``elems`` slices.
        elems: tensor or nested structure of tensors, all with the same length along ``axis``.
        reverse: scan from the end.
        axis: the scanned axis.

    Returns:
        The scan, in the structure and shapes of ``elems``.
    """
    _callable(f, "f")
    leaves = [_t(leaf) for leaf in tree.flatten(elems)]
    if not leaves:
        raise ValueError(f"`elems` must hold at least one tensor. Received: elems={elems!r}")
    n = leaves[0].shape[axis]
    if any(leaf.shape[axis] != n for leaf in leaves):
        raise ValueError(
            "Array inputs to associative_scan must have the same length along `axis`. Received "
            f"shapes {[tuple(leaf.shape) for leaf in leaves]}"
        )
    axis = axis % leaves[0].ndim
    if reverse:
        leaves = [torch.flip(leaf, (axis,)) for leaf in leaves]

    def combine(a, b):
        out = f(tree.pack_sequence_as(elems, a), tree.pack_sequence_as(elems, b))
        return [_t(leaf) for leaf in tree.flatten(out)]

    def take(leaf, start, stop=None, step=1):
        index = [builtins.slice(None)] * leaf.ndim
        index[axis] = builtins.slice(start, stop, step)
        return leaf[tuple(index)]

    def scan_(parts):
        count = parts[0].shape[axis]
        if count < 2:
            return parts
        # pairs (0,1), (2,3)...: scanning their sums gives the odd positions of the result
        odd = scan_(combine([take(p, 0, -1, 2) for p in parts], [take(p, 1, None, 2) for p in parts]))
        # even positions (after the first): previous odd result combined with the element
        even = combine(
            [take(o, 0, count // 2 - (1 if count % 2 == 0 else 0)) for o in odd], [take(p, 2, None, 2) for p in parts]
        )
        even = [torch.cat([take(p, 0, 1), e], dim=axis) for p, e in zip(parts, even)]
        out = []
        for e, o in zip(even, odd):  # interleave: e0 o0 e1 o1 ... (one more e when the count is odd)
            k = o.shape[axis]
            merged = torch.stack([take(e, 0, k), o], dim=axis + 1).flatten(axis, axis + 1)
            out.append(torch.cat([merged, take(e, k)], dim=axis) if e.shape[axis] > k else merged)
        return out

    result = scan_(leaves)
    if reverse:
        result = [torch.flip(leaf, (axis,)) for leaf in result]
    return tree.pack_sequence_as(elems, result)


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along its leading axis, results stacked.

    Args:
        f: callable on one slice (a nested structure when ``xs`` is one).
        xs: tensor or nested structure of tensors with a common leading length.

    Returns:
        The stacked outputs (in the structure ``f`` returns).
    """
    _callable(f, "f")
    _, ys = scan(lambda carry, x: ((), f(x)), (), xs)
    return ys


def vectorized_map(function, elements):
    """``function`` applied to each slice of ``elements`` along axis 0, in one batched call
    (``torch.vmap``).

    Args:
        function: callable on one example (a nested structure when ``elements`` is one).
        elements: tensor or nested structure of tensors with a common leading length.

    Returns:
        The batched outputs.
    """
    _callable(function, "function")
    return torch.vmap(function)(tree.map_structure(_t, elements))


_DIMS = r"\w+(?:,\w+)*"
_ARG = rf"\((?:{_DIMS})?\)"
_SIGNATURE = re.compile(rf"^{_ARG}(?:,{_ARG})*->{_ARG}(?:,{_ARG})*$")


def _parse_signature(signature):
    text = signature.replace(" ", "")
    if not _SIGNATURE.match(text):
        raise ValueError(
            f"Not a valid gufunc signature. Expected e.g. '(m,n),(n)->(m)'. Received: signature={signature!r}"
        )
    left, right = text.split("->")
    parse = lambda side: [tuple(d for d in group.split(",") if d) for group in re.findall(r"\(([^)]*)\)", side)]
    return parse(left), parse(right)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Turns ``pyfunc`` into a function that maps over the leading (broadcast) axes of its arguments.

    Args:
        pyfunc: callable. Without ``signature`` it takes scalar tensors; with one, tensors with the
            core dimensions the signature names.
        excluded: set of positional argument indices passed to ``pyfunc`` unchanged.
        signature: generalized ufunc signature, e.g. ``"(m,n),(n)->(m)"`` for matrix-vector products.

    Returns:
        The vectorized function: arguments broadcast over their non-core axes, ``pyfunc`` runs
        once per element (batched with ``torch.vmap``) and outputs gain the broadcast axes.
    """
    if not callable(pyfunc):
        raise ValueError(f"Expected argument `pyfunc` to be a callable. Received: pyfunc={pyfunc!r}")
    excluded = set(excluded or ())
    core_in, core_out = _parse_signature(signature) if signature is not None else (None, None)

    def wrapped(*args):
        fixed = {i: a for i, a in enumerate(args) if i in excluded or a is None}
        mapped = [(i, _t(a)) for i, a in enumerate(args) if i not in fixed]
        cores = core_in if core_in is not None else [()] * len(mapped)
        if len(cores) != len(mapped):
            raise ValueError(
                f"`signature` {signature!r} describes {len(cores)} arguments, the call passed "
                f"{len(mapped)} vectorized ones."
            )
        sizes = {}
        for (_, a), core in zip(mapped, cores):
            if a.ndim < len(core):
                raise ValueError(
                    f"An argument of shape {tuple(a.shape)} has fewer axes than its core dimensions "
                    f"{core} in signature={signature!r}"
                )
            for name, size in zip(core, a.shape[a.ndim - len(core) :]):
                if sizes.setdefault(name, size) != size:
                    raise ValueError(f"Inconsistent size for core dimension {name!r}: {sizes[name]} vs {size}")
        batch = torch.broadcast_shapes(*[a.shape[: a.ndim - len(core)] for (_, a), core in zip(mapped, cores)])
        flat = [
            a.expand(*batch, *a.shape[a.ndim - len(core) :]).reshape(-1, *a.shape[a.ndim - len(core) :])
            for (_, a), core in zip(mapped, cores)
        ]

        def call(*slices):
            full = dict(fixed)
            full.update({i: s for (i, _), s in zip(mapped, slices)})
            return pyfunc(*[full[i] for i in range(len(args))])

        count = 1
        for d in batch:
            count *= d
        out = torch.vmap(call)(*flat) if flat and count > 0 else call(*[f[0] for f in flat])
        return tree.map_structure(lambda o: o.reshape(*batch, *o.shape[1:]), out)

    wrapped.__name__ = getattr(pyfunc, "__name__", "vectorized")
    wrapped.__doc__ = pyfunc.__doc__
    return wrapped


def custom_gradient(f):
    """Decorator for a function with a hand-written gradient.

    ``f(*args)`` returns ``(output, grad_fn)``; in the backward pass ``grad_fn(*args, upstream=g)``
    receives the inputs and the gradient ``g`` of the (single) output, and returns the gradient
    with respect to each argument (a tensor, or a tuple for several arguments). This is Keras's
    convention on its torch backend: write ``def grad_fn(*args, upstream=None)``.

    Args:
        f: the function.

    Returns:
        A function computing ``output`` whose backward pass calls ``grad_fn``.
    """
    _callable(f, "f")

    class _Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            output, grad_fn = f(*args)
            if not callable(grad_fn):
                raise TypeError(
                    f"The decorated function must return `(output, grad_fn)` with a callable "
                    f"`grad_fn`. Received: grad_fn={grad_fn!r}"
                )
            ctx.grad_fn = grad_fn
            ctx.save_for_backward(*args)
            return output

        @staticmethod
        def backward(ctx, upstream):
            grads = ctx.grad_fn(*ctx.saved_tensors, upstream=upstream)
            return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)

    def wrapper(*args):
        return _Function.apply(*[_t(a) for a in args])

    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper
