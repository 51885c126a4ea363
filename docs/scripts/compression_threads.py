"""Encode in one process with N threads, decode in another with M: the files must decode exactly.

    .venv/bin/python docs/scripts/compression_threads.py enc 2 && \
    .venv/bin/python docs/scripts/compression_threads.py dec 1

20 mnist5k val digits (every 25th), the shipped PixelCNN (binarised) and VQ-VAE prior; files in /tmp.
"""

import sys

import numpy as np
import torch

from genvision.compress import compress, decompress
from genvision.compress.container import pack, unpack
from genvision.data import load_dataset

x = load_dataset("mnist5k", split="val").images[::25].permute(0, 2, 3, 1).contiguous().numpy()  # 20 images
binary = (x >= 128).astype(np.uint8) * 255
mode = sys.argv[1]
torch.set_num_threads(int(sys.argv[2]))
if mode == "enc":
    open("/tmp/genvision_t_pix.gv", "wb").write(pack(compress("pretrained:pixelcnn-mnist", binary)))
    open("/tmp/genvision_t_vq.gv", "wb").write(pack(compress("pretrained:vqvae-prior-mnist", x)))
else:
    print(np.array_equal(decompress(unpack(open("/tmp/genvision_t_pix.gv", "rb").read())).images, binary))
    print(decompress(unpack(open("/tmp/genvision_t_vq.gv", "rb").read())).images.shape)
