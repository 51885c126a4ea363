"""Datasets (embedded MNIST-5k, sklearn digits, IDX, CIFAR batches, image folders) and batch transforms."""

from genvision.data.config import DataConfig
from genvision.data.dataset import ImageDataset, split_indices, to_float, to_uint8
from genvision.data.idx import read_idx, write_idx
from genvision.data.registry import DATASETS, describe_dataset, list_datasets, load_dataset
from genvision.data.transforms import (
    binarize_dynamic,
    binarize_static,
    dequantize_uniform,
    from_levels,
    quantize,
    to_levels,
)

__all__ = [
    "DATASETS",
    "DataConfig",
    "ImageDataset",
    "binarize_dynamic",
    "binarize_static",
    "dequantize_uniform",
    "describe_dataset",
    "from_levels",
    "list_datasets",
    "load_dataset",
    "quantize",
    "read_idx",
    "split_indices",
    "to_float",
    "to_levels",
    "to_uint8",
    "write_idx",
]
