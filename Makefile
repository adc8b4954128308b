# The two commands of the README. Each creates or reuses .venv by itself.
PYTHON ?= python3
VENV ?= .venv
# torch 2.13.0 CPU is what a fresh machine here installs quickly; override for CUDA builds,
# e.g. `make test TORCH_SPEC='torch==2.5.1'`.
TORCH_SPEC ?= torch==2.13.0
BIN = $(VENV)/bin
STAMP = $(VENV)/.strided-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m strided train --model seed-convnet --dataset mnist --epochs 2 --out runs/demo

test: $(STAMP)
	$(BIN)/python -m ruff check strided tests tools benchmarks examples
	$(BIN)/python -m pytest -q -x --durations=15 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
