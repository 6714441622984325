# tracegrad: every target sets up what it needs first, so any one of them works on a fresh clone.
#   make install    .venv with the package (editable) and everything the demo, tests and notebooks use
#   make demo       train the textbook network; plots and the graph go to out/
#   make test       the test suite and every notebook, each run top to bottom
#   make bench      timings against micrograd 0.1.0 and plain floats (installs micrograd into .venv;
#                   BENCH_ARGS=--quick for a short run)
#   make notebooks  re-execute notebooks/*.ipynb in place, keeping their outputs
#   make lint       ruff check (code and notebooks) and ruff format --check (code)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
CELL_TIMEOUT := 300
# Each notebook runs in a fresh kernel of .venv's Python, whatever kernel it was saved with.
NBMAKE := --nbmake --nbmake-timeout=$(CELL_TIMEOUT) --nbmake-kernel=python3

.PHONY: install graphviz demo test bench notebooks lint

install: $(STAMP) graphviz

# The stamp is newer than pyproject.toml once the install has succeeded; editing the dependencies
# reinstalls, anything else reuses the environment.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "tracegrad needs Python >= 3.10; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Run with a newer one, e.g.: make $(MAKECMDGOALS) PYTHON=python3.11"; \
	  exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt-get install python3-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Graphviz's `dot` program renders the computation graphs (the Python package only writes DOT).
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y graphviz; \
	  else \
	    echo "Graphviz's 'dot' program is missing. Install it with one of:"; \
	    echo "  sudo apt-get install graphviz                (Debian, Ubuntu)"; \
	    echo "  brew install graphviz                        (macOS)"; \
	    echo "  conda install -c conda-forge graphviz        (conda)"; \
	    echo "then run make again."; \
	    exit 1; \
	  fi; }

demo: install
	MPLBACKEND=Agg $(BIN)/python -m nn.demo

# pytest exits with 5 when it collects nothing, so an empty suite fails this target too.
test: install
	MPLBACKEND=Agg $(BIN)/python -m pytest tests $(if $(NOTEBOOKS),$(NBMAKE) $(NOTEBOOKS))

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet micrograd==0.1.0
	$(BIN)/python tests/benchmark.py $(BENCH_ARGS)

notebooks: install
	@test -n "$(NOTEBOOKS)" || { echo "No notebooks/*.ipynb to execute."; exit 1; }
	$(BIN)/jupyter-execute --inplace --timeout=$(CELL_TIMEOUT) --kernel_name=python3 $(NOTEBOOKS)

lint: $(STAMP)
	$(BIN)/ruff check --no-cache autodiff nn tests notebooks
	$(BIN)/ruff format --no-cache --check autodiff nn tests
