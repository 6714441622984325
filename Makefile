# tracegrad: every target sets up what it needs first, so any one of them works on a fresh clone.
#   make demo       train the textbook network; plots and the graph go to out/
#   make test       the test suite and every notebook, each run top to bottom
#   make lab        JupyterLab in .venv, opened on the notebooks (LAB_ARGS=... passes options)
#   make student    the student release of the notebooks, solutions stubbed, in out/student/
#   make notebooks  re-execute notebooks/*.ipynb in place, keeping their outputs
#   make bench      timings against micrograd 0.1.0 and plain floats (installs micrograd into .venv;
#                   BENCH_ARGS=--quick for a short run)
#   make lint       ruff check (code and notebooks) and ruff format --check (code)
#   make install    .venv with what the demo, tests, notebooks and lint use (not lab's JupyterLab)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
CELL_TIMEOUT := 300
# Each notebook runs in a fresh kernel of .venv's Python, whatever kernel it was saved with.
NBMAKE := --nbmake --nbmake-timeout=$(CELL_TIMEOUT) --nbmake-kernel=python3

.PHONY: install graphviz demo test lab student bench notebooks lint

install: $(VENV)/.installed-dev graphviz

# The virtual environment itself, made once.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "tracegrad needs Python >= 3.10; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Run with a newer one, e.g.: make $(MAKECMDGOALS) PYTHON=python3.11"; \
	  exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt-get install python3-venv"; \
	  exit 1; }

# One stamp per extra of pyproject.toml (demo, test, lab, ...): each target installs only the extra
# it needs. A stamp is newer than pyproject.toml once its install has succeeded; editing the
# dependencies reinstalls, anything else reuses the environment.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

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

demo: $(VENV)/.installed-demo graphviz
	MPLBACKEND=Agg $(BIN)/python -m nn.demo

# pytest exits with 5 when it collects nothing, so an empty suite fails this target too.
test: $(VENV)/.installed-test graphviz
	MPLBACKEND=Agg $(BIN)/python -m pytest tests $(if $(NOTEBOOKS),$(NBMAKE) $(NOTEBOOKS))

# The server runs until you stop it (Ctrl-C); it shows the whole repository (notebooks/ and, after
# make student, out/student/) and opens notebook 0. Jupyter refuses to run as root unless told to,
# and a container's only user often is root.
lab: $(VENV)/.installed-lab graphviz
	$(BIN)/jupyter lab --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root) \
	  $(LAB_ARGS) notebooks/00_build_your_own.ipynb

student: $(VENV)/.installed-notebooks
	$(BIN)/python notebooks/release.py --out out/student

bench: $(VENV)/.installed-demo
	$(BIN)/python -m pip install --quiet micrograd==0.1.0
	$(BIN)/python tests/benchmark.py $(BENCH_ARGS)

notebooks: $(VENV)/.installed-notebooks graphviz
	@test -n "$(NOTEBOOKS)" || { echo "No notebooks/*.ipynb to execute."; exit 1; }
	$(BIN)/jupyter-execute --inplace --timeout=$(CELL_TIMEOUT) --kernel_name=python3 $(NOTEBOOKS)

lint: $(VENV)/.installed-lint
	$(BIN)/ruff check --no-cache autodiff nn tests notebooks
	$(BIN)/ruff format --no-cache --check autodiff nn tests notebooks/release.py
