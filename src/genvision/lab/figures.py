"""matplotlib figures as numpy images for the page (rendered on the Agg backend, then closed)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from genvision.viz.plots import pyplot


def figure_to_array(fig, *, dpi: int = 100) -> np.ndarray:
    """Render and close a matplotlib figure -> uint8 (H, W, 3)."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    pyplot().close(fig)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))
