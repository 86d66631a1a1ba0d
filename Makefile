# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.simsrc-installed

.PHONY: install demo test test-slow bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/simsrc demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_equilibrium.py
	$(BIN)/python benchmarks/bench_batch.py

clean:
	rm -rf $(VENV) build *.egg-info
