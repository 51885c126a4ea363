"""genvision lab: a local web page with one tab per lecture slide, on the shipped weights.

Every action is a plain library function here (numbers and tensors in, numpy images / figures / text out),
tested on its own in tests/lab/; `app.py` only wires them into Gradio and `command.py` starts the server.
"""
