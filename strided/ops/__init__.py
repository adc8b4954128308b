"""Tensor operations with Keras semantics on torch: ``strided.ops`` is ``keras.ops``.

Three levels, from slow-and-readable to fast:

- ``strided.ops.reference``: pure NumPy teaching code (the seeds' loops, one sliding-window
  primitive, conv/pool/transposed conv and hand-written backward passes). The test oracle.
- ``strided.ops._kernels`` (private): what the **layers** call. Weights in **torch layout**, as layers store
  them: ``_kernels.conv(x, weight (filters, in // groups, *k), bias, strides, padding, data_format,
  dilation_rate, groups)``, ``_kernels.conv_transpose(x, weight (in, filters, *k), ...)``,
  ``_kernels.depthwise_conv(x, weight (in * mult, 1, *k), ...)``, ``_kernels.separable_conv``,
  ``_kernels.max_pool``, ``_kernels.average_pool``; ``_kernels.to_torch_layout(kernel, kind)`` /
  ``_kernels.to_keras_layout(weight, kind)`` convert for ``get_weights``/``set_weights``.
- ``strided.ops.conv`` etc. (this namespace): ``keras.ops``-compatible, **Keras-layout kernels**:
  ``ops.conv(inputs, kernel (*k, in, out), strides=1, padding='valid', data_format=None,
  dilation_rate=1)``, ``ops.depthwise_conv``, ``ops.separable_conv``, ``ops.conv_transpose``,
  ``ops.max_pool``, ``ops.average_pool``; they convert the kernel and call ``_kernels``.

All take inputs in Keras layout: ``(N, *spatial, C)`` for channels_last (default) and
``(N, C, *spatial)`` for channels_first; inside, channels_last is a zero-copy ``movedim`` view.
'same' padding is TensorFlow's (odd pixel after), max pooling never picks padding, average pooling
does not count it. Activation functions (``ops.relu``, ``ops.softmax``...) have ``keras.ops``
defaults; ``ops.convert_to_tensor``/``convert_to_numpy``/``cast`` convert; a NumPy-like subset
(``ops.sum``, ``mean``, ``matmul``, ``where``, ``one_hot``...) is in ``strided.ops.numpy_ops``, and the
rest of the NumPy-like functions (``ops.cos``, ``quantile``, ``flip``, ``tril``, ``linspace``,
``bitwise_and``...) in ``strided.ops.math_ops``. Linear algebra (``ops.cholesky``, ``qr``, ``svd``... also
as ``strided.ops.linalg``, Keras's ``keras.ops.linalg``) is in ``linalg``; Fourier transforms, ``stft``
and window functions in ``signal_ops``; segment reductions, scatter/slice updates, ``unique``, the
``nan*`` statistics, ``rearrange`` and ``unfold``/``fold`` in ``array_ops``; ``cond``, ``while_loop``,
``scan``, ``vectorized_map``... in ``control_flow``.
"""

from strided.ops import _kernels, image, reference  # noqa: F401
from strided.ops.convolution import conv, conv_transpose, depthwise_conv, separable_conv  # noqa: F401
from strided.ops.core import cast, convert_to_numpy, convert_to_tensor, dtype_name, is_tensor, shape  # noqa: F401
from strided.ops._kernels import average_pool, max_pool  # noqa: F401
from strided.ops.numpy_ops import *  # noqa: F401,F403  (NumPy-like subset: sum, mean, matmul, where...)
from strided.ops.math_ops import *  # noqa: F401,F403  (trigonometry, logic, bitwise, quantiles, array building)
from strided.ops.nn_ops import *  # noqa: F401,F403  (moments, normalizations, cross-entropies, depth_to_space...)
from strided.ops import linalg  # noqa: F401,E402  (keras.ops.linalg)
from strided.ops.linalg import *  # noqa: F401,F403  (cholesky, eig, qr, svd, lstsq, solve_triangular...)
from strided.ops.signal_ops import *  # noqa: F401,F403  (fft, rfft, stft, istft, window functions, extract_sequences)
from strided.ops.array_ops import *  # noqa: F401,F403  (segment_*, scatter, slice, unique, nan*, rearrange, unfold...)
from strided.ops.control_flow import *  # noqa: F401,F403  (cond, switch, loops, scan, map, vectorize)
from strided.ops.nn_functions import (  # noqa: F401
    celu,
    elu,
    exponential,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    swish,
    tanh,
    tanh_shrink,
    threshold,
)
from strided.ops.attention_ops import dot_product_attention  # noqa: F401
from strided.ops.ctc_ops import ctc_decode, ctc_loss  # noqa: F401

# Last: every function above also takes symbolic tensors (keras.Input...), recording a graph node.
from strided.ops.symbolic_dispatch import accept_symbolic_everywhere as _accept_symbolic  # noqa: E402

_accept_symbolic(globals())
_accept_symbolic(vars(image))
