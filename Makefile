# gapscope: `make demo` opens the dashboard on the bundled store; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STORE ?= data/demo
# Amumo's exports (DiffusionDB part of the demo): the shared folder beside the repository, as the tests read it.
AMUMO_REFERENCE ?= ../shared/amumo-reference
PORT ?= 8501
APT_PACKAGES := chromium openclipart-svg openclipart-png fonts-dejavu-core
# Meta's ImageBind package and the two it imports; their metadata pins an older torch, so they go in without deps.
IMAGEBIND_NO_DEPS := imagebind-unofficial==0.1.1 torchaudio==2.11.0 pytorchvideo==0.1.5

.PHONY: demo test venv install-app install-dev imagebind system-packages demo-data demo-diffusiondb demo-refresh bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(BIN)/python

install-app: venv
	$(PIP) install -q -e .

install-dev: venv
	$(PIP) install -q -e ".[ingest,distributed,dev]"

imagebind: install-dev
	$(PIP) install -q -e ".[ingest,imagebind]"
	$(PIP) install -q --no-deps $(IMAGEBIND_NO_DEPS)

system-packages:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi; \
	else echo "not root: install $(APT_PACKAGES) yourself for the browser tests and demo data"; fi

demo: install-app
	$(BIN)/gapscope app --store $(STORE) --port $(PORT)

test: system-packages install-dev imagebind
	$(BIN)/python -m pytest

demo-data: system-packages install-dev
	$(BIN)/gapscope build-demo --store $(STORE)
	$(BIN)/gapscope build-demo-diffusiondb --store $(STORE) --reference $(AMUMO_REFERENCE)

# The DiffusionDB step alone, on the existing store (reimports nothing already there; recomputes its artefacts).
demo-diffusiondb: install-app
	$(BIN)/gapscope build-demo-diffusiondb --store $(STORE) --reference $(AMUMO_REFERENCE)

# After a change to the metrics: recompute every stored summary of the demo and its README tables.
demo-refresh: install-app
	$(BIN)/gapscope refresh-demo --store $(STORE)

bench: install-dev
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
