# Two entry points: `make demo` (set up, run the quickstart campaign) and `make test`.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch is installed first so that pip does not pull a multi-GB CUDA build.
# With a GPU: `make demo TORCH=torch` (or install the build for your CUDA into .venv first).
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
READY := $(VENV)/.junkan-installed
ifndef STORE
STORE := runs/quickstart-$(shell date +%Y%m%d-%H%M%S)
endif

.PHONY: setup demo test lint figures services

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(READY)

demo: setup
	$(BIN)/junkan validate examples/quickstart.yaml
	$(BIN)/junkan run examples/quickstart.yaml --store $(STORE)
	@echo "store: $(STORE)   (inspect with: $(BIN)/junkan status $(STORE) --json)"

# lint-imports: the arrows between the rooms, as pyproject.toml's import-linter contracts state them
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The queue-server tests start a real Redis and the dashboard tests drive a real browser: Debian's
# redis-server and chromium (installed here when missing; Playwright uses this chromium, no download).
services:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

# the Tiled tests write to and read from real Tiled servers: the tiled extra (about 840 MB)
TILED_READY := $(VENV)/.junkan-tiled-installed
$(TILED_READY): $(READY)
	$(BIN)/python -m pip install --quiet -e '.[test,tiled]'
	touch $@

# Two workers, a file each (module fixtures stay shared), torch on one thread per worker: on
# two cores this halves the suite (519 s against 904 s serial; two threads each oversubscribe).
test: lint services $(TILED_READY)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest --numprocesses 2 --dist loadfile

figures: setup
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	$(BIN)/python docs/make_figures.py
