"""``keras.quantizers``: quantization configs, quantizers and the int4 packing helpers.

See ``strided.layers.quantization`` for how Dense, EinsumDense and Embedding use them
(``model.quantize("int8")``, ``model.quantize(config=Int4QuantizationConfig(block_size=-1))``).
"""

from strided.layers.quantization import (  # noqa: F401
    AbsMaxQuantizer,
    Int4QuantizationConfig,
    Int8QuantizationConfig,
    QuantizationConfig,
    abs_max_quantize,
    abs_max_quantize_grouped_with_zero_point,
    pack_int4,
    unpack_int4,
)
