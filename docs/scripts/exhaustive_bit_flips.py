"""Every single-bit flip of a tiny checkpoint's length prefix and JSON header, and of every 97th data byte,
loaded through load_model: counts how many end in a GenvisionError, load silently, or raise anything else.
Run from the repository root: `.venv/bin/python docs/scripts/exhaustive_bit_flips.py` (about 10 minutes on
2 busy cores). The suite's fuzz test (tests/train/test_fuzz_files.py) samples 60 of these per run."""

import contextlib
import io
import struct
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path("tests/train").resolve()))
from test_fuzz_files import _tiny  # noqa: E402

from genvision.errors import GenvisionError  # noqa: E402
from genvision.loading import load_model  # noqa: E402

torch.set_num_threads(1)
raw, _, _ = _tiny()
header_end = 8 + struct.unpack("<Q", raw[:8])[0]
positions = list(range(header_end)) + list(range(header_end, len(raw), 97))
counts = {"error": 0, "loaded": 0, "other": 0}
t0 = time.time()
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "c.safetensors"
    for byte in positions:
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[byte] ^= 1 << bit
            path.write_bytes(bytes(flipped))
            try:
                with contextlib.redirect_stderr(io.StringIO()):
                    load_model(path)
                counts["loaded"] += 1
                print("LOADED", byte, bit)
            except GenvisionError:
                counts["error"] += 1
            except Exception as exc:  # a traceback in the CLI: must never happen
                counts["other"] += 1
                print("OTHER", byte, bit, type(exc).__name__, exc)
print(f"file {len(raw)} bytes, header {header_end} bytes; flips tried {8 * len(positions)}: {counts}; "
      f"{time.time() - t0:.0f} s")
