# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# The CPU wheel of torch 2.13.0 lies on the project machines' disk; override for other machines,
# e.g. `make test TORCH=torch` on a machine with CUDA.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.genvision-installed

.PHONY: install demo test lint bench clean pretrained lab

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test,lab]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/genvision demo

# The web lab on the shipped models: http://127.0.0.1:7860
lab: $(STAMP)
	$(BIN)/genvision lab

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs/scripts
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=10

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs/scripts

# Retrain every shipped model with its recorded command and fixed seed, then export and measure it
# (about 1.5-2 hours on 2 CPU cores; see README). `make pretrained-NAME` rebuilds one, e.g. pretrained-ddpm-mnist.
pretrained: $(STAMP)
	$(BIN)/python -m genvision.pretrained.build all

pretrained-%: $(STAMP)
	$(BIN)/python -m genvision.pretrained.build $*

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs report
