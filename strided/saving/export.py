"""``Model.export``: an inference artifact for serving, as Keras 3 writes it on the torch backend.

Formats:

- ``"onnx"``: an ONNX graph (torch's dynamo-based exporter; needs the ``onnx`` and ``onnxscript``
  packages: ``pip install 'strided[export]'``), for onnxruntime, TensorRT, OpenVINO and the like;
- ``"torch"``: a ``torch.export`` ExportedProgram (``.pt2``), loaded with ``torch.export.load``.

Both trace the model in inference mode (``training=False``: Dropout off, BatchNormalization on its
moving statistics) and keep the batch dimension, and every other ``None`` dimension of the inputs,
dynamic: unlike Keras's torch backend, which fixes unknown dimensions to 1 unless told otherwise,
the artifact takes any batch size. The file is written under a temporary name and renamed into
place, so a failed export leaves an earlier file intact. TensorFlow formats (``tf_saved_model``,
``litert``) and ``openvino`` need TensorFlow or OpenVINO, which strided never imports.
"""

import contextlib
import logging
import warnings

import numpy as np
import torch
from strided.saving.saving_api import _path, atomic_path
from strided.utils.optional import optional_import

FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")


class _InferenceCall(torch.nn.Module):
    """The model called on flat positional inputs with ``training=False`` (what the exporters trace)."""

    def __init__(self, model, n_inputs):
        super().__init__()
        self.model = model
        self.n_inputs = n_inputs

    def forward(self, *inputs):
        return self.model(inputs[0] if self.n_inputs == 1 else list(inputs), training=False)


def _spec(entry, k):
    """(shape with None for dynamic dims, torch dtype, name) of one input description."""
    name = getattr(entry, "name", None)
    if isinstance(entry, (torch.Tensor, np.ndarray)):
        return (None,) + tuple(int(s) for s in entry.shape[1:]), torch.as_tensor(entry[:0]).dtype, name
    shape = getattr(entry, "shape", entry)
    try:
        shape = tuple(None if s is None else int(s) for s in shape)
    except TypeError:
        raise ValueError(
            f"Invalid value for argument `input_signature`: entry {k} should be a shape tuple, an "
            f"InputSpec/KerasTensor with a `shape`, or an array. Received: {entry!r}"
        ) from None
    dtype = getattr(entry, "dtype", None) or "float32"
    if not isinstance(dtype, torch.dtype):
        dtype = getattr(torch, str(dtype).replace("torch.", ""), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"Invalid dtype in `input_signature` entry {k}: {getattr(entry, 'dtype', None)!r}")
    return shape, dtype, name


def _input_specs(model, input_signature):
    if input_signature is None:
        inputs = getattr(model, "inputs", None)
        if not inputs:
            raise ValueError(
                f"Model '{model.name}' has no known input shape to export: give it an Input layer, "
                "call it on data once, or pass `input_signature=[(None, 28, 28, 1)]`."
            )
        return [_spec(t, k) for k, t in enumerate(inputs)]
    if (
        isinstance(input_signature, (tuple, list))
        and input_signature
        and all(s is None or isinstance(s, (int, np.integer)) for s in input_signature)
    ):
        input_signature = [tuple(input_signature)]  # one shape given as a bare tuple
    if not isinstance(input_signature, (list, tuple)):
        input_signature = [input_signature]
    return [_spec(entry, k) for k, entry in enumerate(input_signature)]


def _sample_and_dynamic_shapes(specs, device):
    """Sample inputs and their dynamic dims. A None batch is traced at 2 (torch.export fixes sizes
    traced at 1), other None sizes at 224: small images shrink to 1x1 feature maps whose layout
    checks would leave guards (like H * W <= W) that a larger image breaks."""
    batch = torch.export.Dim("batch")
    samples, dynamic = [], []
    for shape, dtype, _ in specs:
        sizes = [(2 if axis == 0 else 224) if s is None else s for axis, s in enumerate(shape)]
        samples.append(torch.zeros(sizes, dtype=dtype, device=device))
        dims = {}
        for axis, s in enumerate(shape):
            if s is None:
                # DYNAMIC, not AUTO: a dimension the trace would fix must fail the export, since an
                # ONNX graph does not check the sizes it was traced for.
                dims[axis] = batch if axis == 0 else torch.export.Dim.DYNAMIC
        dynamic.append(dims or None)
    return tuple(samples), {"inputs": tuple(dynamic)}


def export_model(model, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
    """Writes ``model`` as an inference artifact; see :meth:`strided.Model.export`."""
    filepath = _path(filepath)
    if format not in FORMATS:
        raise ValueError(f"Unrecognized format={format}. Supported formats are: {list(FORMATS)}.")
    if format in ("tf_saved_model", "litert", "openvino"):
        raise ValueError(
            f"format='{format}' needs {'OpenVINO' if format == 'openvino' else 'TensorFlow'}, which "
            "strided does not use. Export with format='onnx' (served by onnxruntime, TensorRT, OpenVINO "
            "and TensorFlow's ONNX importers) or format='torch' (a torch.export program, '.pt2')."
        )
    if format == "torch" and not filepath.endswith(".pt2"):
        raise ValueError(f"The PyTorch export requires the filepath to end with '.pt2'. Got: {filepath}")
    opset_version = kwargs.pop("opset_version", None) if format == "onnx" else None
    if kwargs:
        raise ValueError(f"Unsupported arguments for format='{format}': {sorted(kwargs)}.")
    specs = _input_specs(model, input_signature)
    device = next((w.device for w in model.weights), torch.device("cpu"))
    samples, dynamic_shapes = _sample_and_dynamic_shapes(specs, device)
    module = _InferenceCall(model, len(specs)).eval()
    if not getattr(model, "built", True) or not model.weights:
        with torch.no_grad():  # build the weights eagerly: they must not be created while tracing
            module(*samples)
    # torch.export wants its archive to end in .pt2, also the temporary one
    with warnings.catch_warnings(), _quiet_torch_logs(), atomic_path(filepath, suffix=".tmp.pt2") as tmp:
        warnings.simplefilter("ignore")  # tracing chatter (deprecations inside the exporters)
        if format == "torch":
            program = torch.export.export(module, samples, dynamic_shapes=dynamic_shapes)
            torch.export.save(program, tmp)
        else:
            _export_onnx(module, samples, dynamic_shapes, specs, tmp, opset_version)
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'.")
    return filepath


@contextlib.contextmanager
def _quiet_torch_logs():
    """The exporters log notes that are not the user's business (e.g. "torchvision is not installed")."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _export_onnx(module, samples, dynamic_shapes, specs, path, opset_version):
    names = [name or f"input_{k}" for k, (_, _, name) in enumerate(specs)]
    optional_import("onnx", "format='onnx'")  # the exporter needs both packages; say so before tracing
    optional_import("onnxscript", "format='onnx'")
    program = torch.onnx.export(
        module,
        samples,
        dynamo=True,
        dynamic_shapes=dynamic_shapes,
        input_names=names,
        opset_version=opset_version,
        verbose=False,
    )
    program.save(path)
