"""User-facing errors: one line that names the problem; the CLI prints it without a traceback."""


class GenvisionError(Exception):
    """A problem with the user's input (path, shape, dtype, label, config, checkpoint)."""
