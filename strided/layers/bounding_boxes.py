"""Bounding-box preprocessing: MaxNumBoundingBoxes (Keras 3 ``keras.layers.MaxNumBoundingBoxes``).

Keras's image layers take either images or a dict ``{"images": ..., "bounding_boxes": {"boxes": ...,
"labels": ...}, "labels": ..., "segmentation_masks": ...}``. Boxes are ``(batch, num_boxes, 4)`` (or
``(num_boxes, 4)`` with a single ``(height, width, channels)`` image) and their labels
``(batch, num_boxes)``. This layer gives every image the same number of boxes, so that a batch of
detection targets stacks into fixed-shape tensors.
"""

import numbers

import torch

from strided.layers.base import Layer
from strided.ops.core import convert_to_tensor
from strided.utils import conv_utils


def _checked_int(value, name, allow_negative):
    """Keras converts with ``int()``; strided also refuses what ``int()`` would silently truncate."""
    bad = isinstance(value, bool) or (isinstance(value, numbers.Real) and not float(value).is_integer())
    try:
        number = int(value)
    except (TypeError, ValueError):
        bad = True
    if bad or (not allow_negative and number < 0):
        kind = "an integer" if allow_negative else "a non-negative integer"
        raise ValueError(f"Invalid value for argument `{name}`. Expected {kind}. Received: {name}={value!r}")
    return number


def _check_bounding_boxes(bounding_boxes):
    """Keras's ``validate_bounding_boxes`` (bounding_boxes/validation.py): keys and ranks."""
    if not isinstance(bounding_boxes, dict) or "labels" not in bounding_boxes or "boxes" not in bounding_boxes:
        raise ValueError(
            "Expected `bounding_boxes` argument to be a dict with keys 'boxes' and 'labels'. "
            f"Received: bounding_boxes={bounding_boxes}"
        )
    boxes_shape = tuple(bounding_boxes["boxes"].shape)
    labels_shape = tuple(bounding_boxes["labels"].shape)
    if len(boxes_shape) not in (2, 3):
        raise ValueError(
            "Expected `bounding_boxes['boxes']` to have rank 2 or 3, with shape (num_boxes, 4) or "
            f"(batch_size, num_boxes, 4). Received: bounding_boxes['boxes'].shape={boxes_shape}"
        )
    label_ranks = (len(boxes_shape) - 1, len(boxes_shape))  # (1, 2) for unbatched boxes, (2, 3) for a batch
    if len(labels_shape) not in label_ranks:
        raise ValueError(
            f"Found bounding_boxes['boxes'].shape={boxes_shape} and expected "
            f"bounding_boxes['labels'] to have rank {label_ranks[0]} or {label_ranks[1]}, but received: "
            f"bounding_boxes['labels'].shape={labels_shape}"
        )
    if boxes_shape[-1] != 4:
        raise ValueError(
            "Expected the last axis of `bounding_boxes['boxes']` to hold the 4 box coordinates. "
            f"Received: bounding_boxes['boxes'].shape={boxes_shape}"
        )


def _fit_axis1(x, size, fill_value):
    """``x`` cut to ``size`` entries along axis 1, or padded there with ``fill_value``."""
    x = x[:, :size]
    missing = size - x.shape[1]
    if missing > 0:
        pad = x.new_full((x.shape[0], missing, *x.shape[2:]), fill_value)
        x = torch.cat([x, pad], dim=1)
    return x


class MaxNumBoundingBoxes(Layer):
    """Ensure the maximum number of bounding boxes.

    Each image's boxes are cut to the first `max_number`, or padded up to `max_number` with
    `fill_value` (boxes and labels alike), so every image of the batch has exactly `max_number`
    boxes. Images, and the top-level `"labels"` and `"segmentation_masks"` of a dict input, pass
    through unchanged. Boxes come out as float32, labels keep their dtype.

    As in Keras, a dict input with a `"bounding_boxes"` key needs `bounding_box_format` to be
    given (any Keras format name, e.g. `"xyxy"`; the boxes are not converted).

    Args:
        max_number: Desired output number of bounding boxes.
        fill_value: The padding value of the `boxes` and `labels` in
            `bounding_boxes`. Defaults to `-1`.
        bounding_box_format: The format of the boxes (e.g. `"xyxy"`), recorded in the config.
        data_format: `"channels_last"` or `"channels_first"`; recorded in the config (the layer does
            not touch the images).

    Input shape:
        Images `(batch, height, width, channels)` or `(height, width, channels)`, or a dict with
        `"images"` and `"bounding_boxes"`: `{"boxes": (batch, num_boxes, 4), "labels": (batch,
        num_boxes)}` (without the batch axis for a single image).

    Output shape:
        The same structure, with boxes `(batch, max_number, 4)` and labels `(batch, max_number)`.

    Example:

    >>> max_boxes_layer = keras.layers.MaxNumBoundingBoxes(max_number=10, bounding_box_format="xyxy")
    >>> images = np.random.randint(0, 255, (1, 224, 224, 3), dtype="uint8")
    >>> bounding_boxes = {
    ...     "boxes": np.array([[[10, 20, 100, 150], [50, 60, 200, 250], [0, 0, 50, 50]]]),
    ...     "labels": np.array([[1, 2, 3]]),
    ... }
    >>> result = max_boxes_layer({"images": images, "bounding_boxes": bounding_boxes})
    >>> tuple(result["bounding_boxes"]["boxes"].shape), result["bounding_boxes"]["labels"].tolist()[0][:4]
    ((1, 10, 4), [1, 2, 3, -1])

    Keras 3.15 leaves `fill_value` out of `get_config()`, so a Keras layer reloaded from its config
    pads with -1 again; strided writes `fill_value` into the config when it is not -1 (Keras reads
    such a config too).
    """

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, data_format=None, **kwargs):
        self.max_number = _checked_int(max_number, "max_number", allow_negative=False)
        self.fill_value = _checked_int(fill_value, "fill_value", allow_negative=True)
        if bounding_box_format is not None and not isinstance(bounding_box_format, str):
            raise TypeError(
                "Invalid type for argument `bounding_box_format`. Expected a string such as 'xyxy' "
                f"(or None). Received: bounding_box_format={bounding_box_format!r}"
            )
        self.bounding_box_format = bounding_box_format
        self.data_format = conv_utils.normalize_data_format(data_format)
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ checks
    def _images_batched(self, shape):
        if len(shape) == 3:
            return False
        if len(shape) == 4:
            return True
        raise ValueError(
            f"Layer '{self.name}' expects images of rank 3 (single image) or 4 (batch of images). "
            f"Received: data.shape={tuple(shape)}"
        )

    def check_input(self, shape):
        if isinstance(shape, dict):
            if "images" not in shape:
                raise ValueError(
                    f"Layer '{self.name}' expects images or a dict with an 'images' key. Received keys: {sorted(shape)}"
                )
            self._images_batched(shape["images"])
            if "bounding_boxes" in shape and not self.bounding_box_format:
                raise ValueError(
                    "You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding "
                    "box format. Pass a `bounding_box_format` argument to your "
                    f"{type(self).__name__} layer, e.g. `bounding_box_format='xyxy'`."
                )
        else:
            self._images_batched(shape)

    def _check_build_shape(self, input_shape):
        self.check_input(input_shape if isinstance(input_shape, dict) else tuple(input_shape))

    # ------------------------------------------------------------------ the transformation
    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        """Cuts or pads a batch of boxes ``(batch, num_boxes, 4)`` and labels to ``max_number``."""
        out = dict(bounding_boxes)
        out["boxes"] = _fit_axis1(
            convert_to_tensor(bounding_boxes["boxes"], torch.float32), self.max_number, self.fill_value
        )
        out["labels"] = _fit_axis1(convert_to_tensor(bounding_boxes["labels"]), self.max_number, self.fill_value)
        return out

    def call(self, inputs):
        if not isinstance(inputs, dict):
            return convert_to_tensor(inputs)
        data = dict(inputs)
        batched = self._images_batched(tuple(data["images"].shape))
        data["images"] = convert_to_tensor(data["images"])
        if "bounding_boxes" in data:
            boxes = data["bounding_boxes"]
            _check_bounding_boxes(boxes)
            if batched:
                data["bounding_boxes"] = self.transform_bounding_boxes(boxes)
            else:
                single = dict(
                    boxes,
                    boxes=convert_to_tensor(boxes["boxes"]).unsqueeze(0),
                    labels=convert_to_tensor(boxes["labels"]).unsqueeze(0),
                )
                single = self.transform_bounding_boxes(single)
                single["boxes"] = single["boxes"].squeeze(0)
                single["labels"] = single["labels"].squeeze(0)
                data["bounding_boxes"] = single
        return data

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        config["max_number"] = self.max_number
        if self.fill_value != -1:
            config["fill_value"] = self.fill_value
        return config
