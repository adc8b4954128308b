"""Dtype policies: the dtype a layer computes in and the dtype its weights are stored in."""


class DTypePolicy:
    """A named policy: ``compute_dtype`` is what matmuls and convs run in, ``variable_dtype`` what weights are."""

    def __init__(self, name="float32"):
        # (a plain float dtype is a layer's own policy, as Keras's DTypePolicy("float64"))
        if name not in ("float32", "mixed_float16", "mixed_bfloat16", "float16", "bfloat16", "float64"):
            raise ValueError(
                "Invalid value for argument `name`. Expected 'float32', 'mixed_float16' or "
                f"'mixed_bfloat16'. Received: name={name!r}"
            )
        self.name = name

    @property
    def compute_dtype(self):
        return {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}.get(self.name, self.name)

    @property
    def variable_dtype(self):
        return "float32" if self.name.startswith("mixed_") else self.name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'
