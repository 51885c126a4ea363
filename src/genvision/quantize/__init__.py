"""Vector quantisation: k-means, the VQ-VAE vector quantiser (EMA, restarts), classic patch VQ."""

from genvision.quantize.kmeans import KMeansResult, kmeans, kmeans_plusplus_init, nearest, squared_distances
from genvision.quantize.patch_vq import (
    PatchCodebook,
    decode,
    encode,
    fit_patch_codebook,
    rate_bits_per_pixel,
    rate_distortion_sweep,
)
from genvision.quantize.vector_quantizer import QuantizerOutput, VectorQuantizer

__all__ = [
    "KMeansResult",
    "PatchCodebook",
    "QuantizerOutput",
    "VectorQuantizer",
    "decode",
    "encode",
    "fit_patch_codebook",
    "kmeans",
    "kmeans_plusplus_init",
    "nearest",
    "rate_bits_per_pixel",
    "rate_distortion_sweep",
    "squared_distances",
]
