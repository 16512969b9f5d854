# Two entry points: `make demo` (set up, run the quickstart campaign) and `make test`.
PYTHON ?= python3
VENV ?= .venv
# torch is pinned and installed first, so that junkan's own install adds no other torch. Which
# build the pin gets is the package index's choice: on the CI machines pip finds a CPU build of
# 2.13.0 on disk; from PyPI on Linux x86_64 it is the CUDA build (several GB). For the CPU build
# anywhere: `make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu`; for another CUDA version,
# that version's index, or `make demo TORCH=torch` for PyPI's newest.
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin
READY := $(VENV)/.junkan-installed
ifndef STORE
STORE := runs/quickstart-$(shell date +%Y%m%d-%H%M%S)
endif

.PHONY: setup demo test lint figures services

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
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
# two cores this halves the suite (519 s against 904 s serial; two threads each oversubscribe). The
# slowest 15 tests are listed, to keep the suite inside its 15 minutes.
test: lint services $(TILED_READY)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest --numprocesses 2 --dist loadfile --durations=15

figures: setup
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	$(BIN)/python docs/make_figures.py
