"""What `compile` builds: the loss of every output and the metrics, with Keras's naming rules.

Metric state lives on the device; nothing here reads a value back to the host (`result()`
returns a 0-d tensor), so the trainer decides when to synchronise.
"""

import importlib

import numpy as np
import torch

from strided.utils import tree


def _module(name):
    try:
        return importlib.import_module(f"strided.{name}")
    except ImportError:
        return None


def _detached(y_pred):
    """``y_pred.detach()`` keeping the Keras mask a layer attached (metrics average over unmasked steps)."""
    out = y_pred.detach()
    mask = getattr(y_pred, "_keras_mask", None)
    if mask is not None:
        out._keras_mask = mask
    return out


class MeanTracker:
    """Weighted running mean kept on the device (the `loss` entry of the logs)."""

    _direction = "down"

    def __init__(self, name="loss"):
        self.name = name
        self.total = None
        self.count = None

    def update_state(self, value, sample_weight=None):
        value = value.detach().float()
        w = 1.0 if sample_weight is None else float(sample_weight)
        if self.total is None:
            self.total = torch.zeros((), dtype=torch.float32, device=value.device)
            self.count = torch.zeros((), dtype=torch.float32, device=value.device)
        # (one kernel each: `alpha` scales inside the add, and a 0-d loss needs no sum)
        self.total.add_(value if value.dim() == 0 else value.sum(), alpha=w)
        self.count.add_(w * value.numel())

    def result(self):
        if self.total is None:
            return torch.zeros(())
        return self.total / self.count.clamp_min(1e-12)

    def reset_state(self):
        if self.total is not None:
            self.total.zero_()
            self.count.zero_()

    @property
    def variables(self):
        """The state tensors (summed across ranks under data parallelism)."""
        return [] if self.total is None else [self.total, self.count]

    def __repr__(self):
        return f"<MeanTracker name={self.name}>"


class _FnMetric:
    """Mean of a per-sample function of `(y_true, y_pred)` (fallback until strided.metrics exists)."""

    def __init__(self, fn, name):
        self.fn = fn
        self.name = name
        self._tracker = MeanTracker(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.fn(y_true, y_pred).float()
        if sample_weight is not None:
            sw = sample_weight.float().reshape(sample_weight.shape[0], *([1] * (values.ndim - 1)))
            sw = torch.broadcast_to(sw, values.shape)
            if self._tracker.total is None:
                self._tracker.update_state(torch.zeros((), device=values.device), 0.0)
            self._tracker.total.add_((values * sw).sum())
            self._tracker.count.add_(sw.sum())
        else:
            self._tracker.update_state(values)

    def result(self):
        return self._tracker.result()

    def reset_state(self):
        self._tracker.reset_state()


def _binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true = y_true.reshape(y_pred.shape) if y_true.numel() == y_pred.numel() else y_true
    return (
        ((y_pred > threshold).to(y_true.dtype) == y_true).float().mean(dim=-1)
        if y_pred.ndim > 1
        else ((y_pred > threshold).to(y_true.dtype) == y_true).float()
    )


def _categorical_accuracy(y_true, y_pred):
    return (y_true.argmax(-1) == y_pred.argmax(-1)).float()


def _sparse_categorical_accuracy(y_true, y_pred):
    y_true = y_true.reshape(y_pred.shape[:-1]) if y_true.numel() == y_pred[..., 0].numel() else y_true
    return (y_true.long() == y_pred.argmax(-1)).float()


def is_binary_or_sparse_categorical(y_true_shape, y_pred_shape):
    """Keras's rule for 'accuracy'/'crossentropy': from the ranks and last dimensions of labels and predictions."""
    y_t_rank, y_p_rank = len(y_true_shape), len(y_pred_shape)
    y_t_last = y_true_shape[-1] if y_t_rank else 1
    y_p_last = y_pred_shape[-1] if y_p_rank else 1
    is_binary = y_p_last == 1
    is_sparse = y_t_rank < y_p_rank or (y_t_last == 1 and y_p_last > 1)
    return is_binary, is_sparse


def _accuracy_metric(identifier, y_true, y_pred, loss_name=None):
    name = str(identifier)
    metrics = _module("metrics")
    helper = getattr(metrics, "get_accuracy_metric", None) if metrics else None
    if helper is not None:
        return helper(tuple(y_true.shape), tuple(y_pred.shape), loss_name, name)
    is_binary, is_sparse = is_binary_or_sparse_categorical(tuple(y_true.shape), tuple(y_pred.shape))
    if is_binary:
        cls, fn = "BinaryAccuracy", _binary_accuracy
    elif is_sparse:
        cls, fn = "SparseCategoricalAccuracy", _sparse_categorical_accuracy
    else:
        cls, fn = "CategoricalAccuracy", _categorical_accuracy
    if metrics is not None and hasattr(metrics, cls):
        return getattr(metrics, cls)(name=name)
    return _FnMetric(fn, name)


def _is_accuracy(identifier):
    return isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")


def resolve_metric(identifier, y_true=None, y_pred=None, loss_name=None):
    """A metric object from a name, class, instance or function ('accuracy' needs the shapes)."""
    if _is_accuracy(identifier):
        return _accuracy_metric(identifier, y_true, y_pred, loss_name)
    metrics = _module("metrics")
    if metrics is None:
        if callable(identifier) and not isinstance(identifier, str):
            return _FnMetric(identifier, getattr(identifier, "__name__", "metric"))
        raise ValueError(f"Could not interpret metric identifier: {identifier!r} (strided.metrics is missing).")
    obj = metrics.get(identifier)
    if isinstance(obj, type):
        obj = obj()
    if not hasattr(obj, "update_state"):
        wrapper = getattr(metrics, "MeanMetricWrapper", None)
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "metric")
        obj = wrapper(obj, name=name) if wrapper is not None else _FnMetric(obj, name)
    if isinstance(identifier, str):
        # Logs keep the user's spelling, as Keras does (`metrics=['mae']` logs `mae`).
        try:
            obj.name = identifier
        except AttributeError:
            pass
    return obj


def resolve_loss(identifier, y_true=None, y_pred=None):
    """A callable `loss(y_true, y_pred, sample_weight)` with a `.name`, from what `compile` received."""
    if identifier is None:
        return None
    losses = _module("losses")
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(tuple(y_true.shape), tuple(y_pred.shape))
        identifier = (
            "binary_crossentropy"
            if is_binary
            else "sparse_categorical_crossentropy"
            if is_sparse
            else "categorical_crossentropy"
        )
    obj = losses.get(identifier)
    if isinstance(obj, type):
        obj = obj()
    if not isinstance(obj, losses.Loss):
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "loss")
        obj = losses.LossFunctionWrapper(obj, name=name)
    return obj


def needs_shapes(identifier):
    return isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")


def _check_output_keys(spec, output_names, what):
    """The keys of a dict argument (``loss``, ``metrics``...) must be model output names."""
    unknown = [k for k in spec if k not in output_names]
    if unknown:
        raise ValueError(
            f"In the dict argument `{what}`, key {unknown[0]!r} does not correspond to any model "
            f"output. Received:\n{what}={spec}. Model output names: {output_names}"
        )


def _per_output(spec, output_names, what):
    """Maps a single/list/dict spec onto output names (Keras rules), returning a list aligned with outputs."""
    n = len(output_names)
    if isinstance(spec, dict):
        _check_output_keys(spec, output_names, what)
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and n > 1:
        if len(spec) != n:
            raise ValueError(
                f"For a model with multiple outputs, when providing the `{what}` argument as a "
                f"list, it should have as many entries as the model has outputs. Received:\n"
                f"{what}={spec}\nof length {len(spec)} whereas the model has {n} outputs."
            )
        return list(spec)
    if n > 1 and what in ("loss", "loss_weights"):
        return [spec] * n  # one loss for every output, as Keras broadcasts a single loss
    return [spec] + [None] * (n - 1)


class CompileLoss:
    """Total loss of a (possibly multi-output) model: sum of `loss_weight * loss(y_true, y_pred, sw)`.

    With several outputs, each output's loss is also tracked as `<output_name>_loss`.
    """

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.loss = loss
        self.loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.losses = []
        self.weights = []
        self.trackers = []

    def build(self, y_true, y_pred):
        y_true_flat, y_pred_flat = _flat(y_true), _flat(y_pred)
        names = list(self.output_names or [])
        if len(names) != len(y_pred_flat):
            names = (
                [f"output_{i}" for i in range(len(y_pred_flat))] if len(y_pred_flat) > 1 else (names[:1] or ["output"])
            )
        if isinstance(y_pred, dict):
            names = list(y_pred.keys())
        specs = _per_output(self.loss, names, "loss") if len(y_pred_flat) > 1 else [self.loss]
        weights = self.loss_weights
        if weights is None:
            weights = [1.0] * len(specs)
        elif len(y_pred_flat) > 1:
            weights = [1.0 if w is None else w for w in _per_output(weights, names, "loss_weights")]
        else:
            if isinstance(weights, (list, tuple)) and len(weights) != 1:
                raise ValueError(
                    "For a model with a single output, `loss_weights` holds one value. Received:\n"
                    f"loss_weights={weights}\nof length {len(weights)} whereas the model has 1 output."
                )
            if isinstance(weights, dict):
                _per_output(weights, names, "loss_weights")  # refuses keys that name no output
            weights = [
                weights[0]
                if isinstance(weights, (list, tuple))
                else (list(weights.values())[0] if isinstance(weights, dict) else weights)
            ]
        for w in weights:
            if isinstance(w, bool) or not isinstance(w, (int, float, np.number)):
                raise TypeError(
                    f"Invalid type for argument `loss_weights`. Expected numbers. "
                    f"Received loss_weights={self.loss_weights!r}."
                )
        if isinstance(y_true, dict) and len(y_pred_flat) > 1:
            unknown = [k for k in y_true if k not in names]
            if unknown:
                raise ValueError(
                    f"The dict of targets `y` has the key {unknown[0]!r}, which does not correspond to "
                    f"any model output. Model output names: {names}. Received y keys: "
                    f"{list(y_true)}."
                )
            missing = [n for n, spec in zip(names, specs) if spec is not None and n not in y_true]
            if missing:
                raise ValueError(
                    f"The dict of targets `y` has no target for the output {missing[0]!r}, which has a "
                    f"loss. Model output names: {names}. Received y keys: {list(y_true)}."
                )
        y_true_flat = _flat(align_to_outputs(y_true, y_pred, names))
        if len(y_true_flat) != len(y_pred_flat) and any(s is not None for s in specs):
            raise ValueError(
                f"The model has {len(y_pred_flat)} outputs, but `y` holds {len(y_true_flat)} "
                "arrays. Pass one target array per output (a list in output order or a dict keyed "
                "by output name)."
            )
        self.losses = [
            resolve_loss(s, yt, yp) if s is not None else None for s, yt, yp in zip(specs, y_true_flat, y_pred_flat)
        ]
        self.weights = [float(w) for w in weights]
        self.names = names
        if len(y_pred_flat) > 1:
            self.trackers = [MeanTracker(f"{n}_loss") if l is not None else None for n, l in zip(names, self.losses)]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        y_true = align_to_outputs(y_true, y_pred, self.names)
        sample_weight = align_to_outputs(sample_weight, y_pred, self.names)
        y_true_flat, y_pred_flat = _flat(y_true), _flat(y_pred, like=y_true)
        sws = (
            _flat(sample_weight)
            if isinstance(sample_weight, (list, tuple, dict))
            else [sample_weight] * len(y_pred_flat)
        )
        total = None
        per_output = []
        for loss, w, yt, yp, sw in zip(self.losses, self.weights, y_true_flat, y_pred_flat, sws):
            if loss is None:
                per_output.append(None)
                continue
            value = loss(yt, yp, sample_weight=sw)
            per_output.append(value)
            value = value if w == 1 else value * w  # (the default weight: no multiply, forward and backward)
            total = value if total is None else total + value
        if total is None:
            total = torch.zeros((), device=y_pred_flat[0].device)
        self.last_per_output = per_output
        return total


def align_to_outputs(structure, y_pred, output_names):
    """Targets (or sample weights) given as a dict for a model whose outputs are a list: listed in output
    order, by output name (a dict's own order need not follow the outputs)."""
    if (
        isinstance(structure, dict)
        and isinstance(y_pred, (list, tuple))
        and output_names
        and len(output_names) == len(y_pred)
        and all(k in output_names for k in structure)
    ):
        return [structure.get(n) for n in output_names]
    return structure


def _flat(structure, like=None):
    if isinstance(structure, dict) and isinstance(like, dict):
        return [structure[k] for k in like]
    if isinstance(structure, dict):
        return list(structure.values())
    if isinstance(structure, (list, tuple)):
        return tree.flatten(list(structure), none_is_leaf=False)
    return [structure]


class CompileMetrics:
    """The metrics and weighted metrics of every output, built on the first batch (shapes decide 'accuracy')."""

    def __init__(self, metrics, weighted_metrics, output_names=None, loss=None):
        self.metrics_spec = metrics
        self.weighted_spec = weighted_metrics
        self.output_names = output_names
        self.loss = loss
        self.built = False
        self.entries = []  # (output index, metric, weighted)
        self._validate_names(metrics)
        self._validate_names(weighted_metrics)

    def _validate_names(self, spec):
        # Unknown metric names fail at compile() time, before any data is touched.
        for item in _spec_items(spec):
            if item is None or _is_accuracy(item) or not isinstance(item, str):
                continue
            metrics = _module("metrics")
            if metrics is not None:
                metrics.get(item)

    name = "compile_metrics"

    @property
    def metrics(self):
        return [m for _, m, _ in self.entries]

    @property
    def has_metrics(self):
        return bool(_spec_items(self.metrics_spec) or _spec_items(self.weighted_spec))

    @property
    def variables(self):
        return [v for _, m, _ in self.entries for v in m.variables]

    def build(self, y_true, y_pred):
        y_true_flat, y_pred_flat = _flat(y_true), _flat(y_pred)
        n = len(y_pred_flat)
        names = list(self.output_names or [])
        if isinstance(y_pred, dict):
            names = list(y_pred.keys())
        if len(names) != n:
            names = [f"output_{i}" for i in range(n)] if n > 1 else ["output"]
        self._names = names
        y_true_flat = _flat(align_to_outputs(y_true, y_pred, names))
        loss_names = _loss_names(self.loss, names)
        self.entries = []
        seen = set()
        for spec, weighted in ((self.metrics_spec, False), (self.weighted_spec, True)):
            if spec is None:
                continue
            per_output = _metrics_per_output(spec, names)
            for i, items in enumerate(per_output):
                for item in items or []:
                    yt = y_true_flat[i] if i < len(y_true_flat) else None
                    metric = resolve_metric(item, yt, y_pred_flat[i], loss_names[i])
                    if n > 1:
                        metric.name = f"{names[i]}_{metric.name}"
                    if metric.name in seen:
                        metric.name = ("weighted_" if weighted else "") + metric.name
                        k = 1
                        base = metric.name
                        while metric.name in seen:
                            metric.name, k = f"{base}_{k}", k + 1
                    seen.add(metric.name)
                    self.entries.append((i, metric, weighted))
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        names = getattr(self, "_names", None)
        y_true = align_to_outputs(y_true, y_pred, names)
        sample_weight = align_to_outputs(sample_weight, y_pred, names)
        y_true_flat, y_pred_flat = _flat(y_true), _flat(y_pred, like=y_true)
        sws = (
            _flat(sample_weight)
            if isinstance(sample_weight, (list, tuple, dict))
            else [sample_weight] * len(y_pred_flat)
        )
        for i, metric, weighted in self.entries:
            metric.update_state(y_true_flat[i], _detached(y_pred_flat[i]), sample_weight=sws[i] if weighted else None)

    def reset_state(self):
        for _, metric, _ in self.entries:
            metric.reset_state()

    def result(self):
        return {m.name: m.result() for _, m, _ in self.entries}


def _spec_items(spec):
    if spec is None:
        return []
    if isinstance(spec, dict):
        out = []
        for v in spec.values():
            out.extend(v if isinstance(v, (list, tuple)) else [v])
        return out
    if isinstance(spec, (list, tuple)):
        out = []
        for v in spec:
            out.extend(v if isinstance(v, (list, tuple)) else [v])
        return out
    return [spec]


def _metrics_per_output(spec, names):
    n = len(names)
    if isinstance(spec, dict):
        _check_output_keys(spec, names, "metrics")
        return [
            (
                spec.get(name)
                if isinstance(spec.get(name), (list, tuple)) or spec.get(name) is None
                else [spec.get(name)]
            )
            for name in names
        ]
    if not isinstance(spec, (list, tuple)):
        spec = [spec]
    if n > 1 and len(spec) == n and all(isinstance(s, (list, tuple)) or s is None for s in spec):
        return [list(s) if s is not None else [] for s in spec]
    if n > 1:
        return [list(spec) for _ in range(n)]  # the same metrics on every output
    return [list(spec)]


def _loss_names(loss, names):
    if isinstance(loss, dict):
        return [_name_of(loss.get(n)) for n in names]
    if isinstance(loss, (list, tuple)) and len(loss) == len(names):
        return [_name_of(l) for l in loss]
    return [_name_of(loss)] * len(names)


def _name_of(loss):
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    fn = getattr(loss, "fn", None)
    return getattr(fn, "__name__", None) or getattr(loss, "name", None) or getattr(loss, "__name__", None)
