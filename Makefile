# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PY ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-data
DEMO_CLAIMS ?= 200000

.PHONY: setup demo test lint typecheck unit browser bench clean

$(UV):
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/claimrisk demo --dir $(DEMO_DIR) --claims $(DEMO_CLAIMS)

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

# Debian's Chromium for the browser test (needs root, as on CI and the dev machines).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

unit: setup browser
	$(BIN)/pytest

test: lint typecheck unit

bench: setup
	$(BIN)/python -m benchmarks.simulator
	$(BIN)/python -m benchmarks.features
	$(BIN)/python -m benchmarks.learning_curve
	$(BIN)/python -m benchmarks.training
	$(BIN)/python -m benchmarks.serving
	$(BIN)/python -m benchmarks.serving_load
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.patterns
	$(BIN)/python -m benchmarks.generalization
	$(BIN)/python -m benchmarks.duplicates

clean:
	rm -rf $(VENV) $(TOOLS) $(DEMO_DIR) mlruns mlartifacts mlflow.db .pytest_cache .mypy_cache .ruff_cache
