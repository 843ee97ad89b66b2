# The two commands of the README:  `make smoke` (install + offline smoke pipeline) and `make test` (install + tests).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install smoke test lint paper-dry-run clean-smoke

$(BIN)/ttur: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,slurm]'
	touch $@

install: $(BIN)/ttur

smoke: install
	$(BIN)/snakemake --cores 2 --configfile config/smoke.yaml

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/snakemake --lint

paper-dry-run: install
	$(BIN)/snakemake -n --cores 8 --resources gpu=4 results/table1.csv

clean-smoke:
	rm -rf results/smoke
