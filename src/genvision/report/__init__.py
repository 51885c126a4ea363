"""A static HTML report of trained models: `genvision report [RUN|pretrained:NAME ...] --out=DIR`.

One section per model: provenance, a sample grid, the training curve, the stored metrics and the family's
lecture figures (CFG grid and trade-off, denoising filmstrip, classifier guidance, PixelCNN completions and
receptive field, reconstructions, patch VQ, mixture components), as PNG files beside index.html.
"""

from genvision.report.build import build_report, cmd_report

__all__ = ["build_report", "cmd_report"]
