"""genvision: the fundamental image generative models, derived and tested."""

__version__ = "0.1.0"
