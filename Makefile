# The two commands of the README. Each creates or reuses .venv by itself.
PYTHON ?= python3
VENV ?= .venv
# torch 2.13.0 CPU is what a fresh machine here installs quickly; override for CUDA builds,
# e.g. `make test TORCH_SPEC='torch==2.5.1'`.
TORCH_SPEC ?= torch==2.13.0
BIN = $(VENV)/bin
STAMP = $(VENV)/.strided-installed

.PHONY: demo test docs docs-build bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m strided train --model seed-convnet --dataset mnist --epochs 2 --out runs/demo

test: $(STAMP) docs-build
	$(BIN)/python -m ruff check strided tests tools benchmarks examples
	$(BIN)/python -m ruff format --check strided tests tools benchmarks examples
	$(BIN)/python -m pytest -q -x --durations=15 $(PYTEST_ARGS)

# The API reference site (mkdocs.yml): `make docs` serves it at http://127.0.0.1:8000 and rebuilds on edits;
# `make docs-build` (part of `make test`) fails on any broken reference or missing page.
docs: $(STAMP)
	$(BIN)/python -m mkdocs serve

docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) runs .pytest_cache site
