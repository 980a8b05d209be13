# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/modemctl demo

test: $(STAMP) lint
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check modemctl tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench

# Seeded fault-injection runs (bench/fault_soak.py): `make soak SEEDS=2000 FIRST=0`.
SEEDS ?= 2000
FIRST ?= 0
soak: $(STAMP)
	$(PY) -m bench.fault_soak --seeds $(SEEDS) --first $(FIRST)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
