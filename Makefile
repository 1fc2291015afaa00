# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PY ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-data
DEMO_CLAIMS ?= 200000

.PHONY: setup demo test lint typecheck unit bench clean

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

unit: setup
	$(BIN)/pytest -n 2

test: lint typecheck unit

bench: setup
	$(BIN)/python -m benchmarks.simulator
	$(BIN)/python -m benchmarks.features
	$(BIN)/python -m benchmarks.learning_curve
	$(BIN)/python -m benchmarks.training

clean:
	rm -rf $(VENV) $(TOOLS) $(DEMO_DIR) mlruns mlartifacts mlflow.db .pytest_cache .mypy_cache .ruff_cache
