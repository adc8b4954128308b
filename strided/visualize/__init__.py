"""Teaching tools: look inside a convolutional network.

Kernels (``plot_filters``) and what they respond to (``plot_filter_patterns``), feature maps (``plot_feature_maps``), training curves
(``plot_history``), confusion matrices, Grad-CAM and saliency maps, sample grids, receptive fields
and the output-size formula. Plotting needs matplotlib (``pip install strided[plot]``), imported
only when a plot is drawn; every plotting function returns the Figure and takes ``save_path``.
"""

from strided.visualize.confusion import confusion_matrix, confusion_matrix_frame, plot_confusion_matrix
from strided.visualize.feature_maps import feature_maps, feature_model, plot_feature_maps
from strided.visualize.filter_patterns import filter_pattern, plot_filter_patterns
from strided.visualize.filters import filter_weights, plot_filters
from strided.visualize.gradcam import grad_cam, last_conv_layer, plot_grad_cam, saliency_map
from strided.visualize.history import plot_history
from strided.visualize.images import plot_images
from strided.models.receptive_field import ReceptiveField, output_size_table, receptive_field, receptive_fields

__all__ = [
    "confusion_matrix",
    "confusion_matrix_frame",
    "plot_confusion_matrix",
    "feature_maps",
    "feature_model",
    "plot_feature_maps",
    "filter_weights",
    "plot_filters",
    "filter_pattern",
    "plot_filter_patterns",
    "grad_cam",
    "last_conv_layer",
    "plot_grad_cam",
    "saliency_map",
    "plot_history",
    "plot_images",
    "ReceptiveField",
    "output_size_table",
    "receptive_field",
    "receptive_fields",
]
