"""Keras layers. Each family lives in its own module; this package re-exports the public names."""

from strided.backend import clear_session
from strided.layers.base import Layer
from strided.saving import serialization_lib
from strided.layers import operation, ops_call  # noqa: F401  (register the symbolic-operation recorders)
from strided.layers.input_layer import Input, InputLayer
from strided.backend.keras_tensor import KerasTensor

from strided.layers.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from strided.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from strided.layers.convolutional import (
    BaseConv,
    BaseConvTranspose,
    BaseDepthwiseConv,
    BaseSeparableConv,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from strided.layers.core import Activation, Dense, Identity, Lambda
from strided.layers.image_preprocessing import CenterCrop, Rescaling, Resizing
from strided.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from strided.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from strided.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from strided.layers.regularization import (
    ActivityRegularization,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from strided.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from strided.layers.feature_normalization import Normalization
from strided.layers.time_distributed import TimeDistributed
from strided.layers.spectral_normalization import SpectralNormalization
from strided.layers.torch_module_wrapper import TorchModuleWrapper
from strided.layers.random_preprocessing import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomGrayscale,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from strided.layers.color_augmentation import (
    AutoContrast,
    CutMix,
    MixUp,
    RandomColorJitter,
    RandomErasing,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomShear,
    Solarization,
)
from strided.layers.filter_augmentation import (
    Equalization,
    RandomColorDegeneration,
    RandomGaussianBlur,
    RandomSharpness,
)
from strided.layers.warp_augmentation import RandomElasticTransform, RandomPerspective
from strided.layers.augmentation_policies import AugMix, RandAugment
from strided.layers.categorical import CategoryEncoding, Discretization, HashedCrossing, Hashing
from strided.layers.masking import Masking
from strided.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from strided.layers.recurrent import GRU, LSTM, RNN, Bidirectional, SimpleRNN
from strided.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from strided.layers.einsum_dense import EinsumDense
from strided.layers.embedding import Embedding, ReversibleEmbedding
from strided.layers.attention import GroupedQueryAttention, GroupQueryAttention, MultiHeadAttention
from strided.layers.dot_attention import AdditiveAttention, Attention
from strided.layers.lookup import IntegerLookup, StringLookup
from strided.layers.text_vectorization import TextVectorization
from strided.layers.structure import InputSpec, Pipeline, Wrapper, deserialize, serialize
from strided.layers.alpha_dropout import AlphaDropout
from strided.layers.clahe import ContrastLimitedAdaptiveHistogramEqualization
from strided.layers.bounding_boxes import MaxNumBoundingBoxes
from strided.layers.audio import MelSpectrogram, STFTSpectrogram


def _register_public_names():
    # Public aliases (Convolution2D, GroupQueryAttention...) name their class in configs too.
    for name, value in list(globals().items()):
        if isinstance(value, type) and issubclass(value, Layer):
            serialization_lib.register_layer_class(value, name)


_register_public_names()
