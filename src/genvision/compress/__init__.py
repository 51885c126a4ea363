"""Entropy coding with the models: PixelCNN (lossless), tokenizer code maps with a learned or uniform prior
(lossy), classic patch VQ; the .gv container (docs/compression.md)."""

from genvision.compress.api import CompressOptions, Decompressed, compress, decompress
from genvision.compress.container import Container, read, write

__all__ = ["CompressOptions", "Container", "Decompressed", "compress", "decompress", "read", "write"]
