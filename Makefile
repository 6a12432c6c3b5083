# dlkit labs. Every target sets up .venv itself when it is missing or older than pyproject.toml.
#   make run            execute every lab headless; executed notebooks + HTML in build/labs/; prints a results table
#   make run LAB=01     one lab (several: LAB="01 03")
#   make test           unit tests + nbval over labs/
#   make lab            self-study: the student versions in workspace/ (your edits kept), opened in JupyterLab
#   make lab-source     JupyterLab on labs/ (the sources, with solutions)
#   make bench          benchmarks/ (ratios vs Keras built-ins and peers)
#   make stress         distributed keras-tuner search 20 times under CPU load (STRESS_ARGS="--runs 5 --no-load"); not in CI
#   make lint           ruff check + ruff format --check

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dlkit-installed
LAB ?=
PYTEST_ARGS ?=
# Two pytest workers (pytest-xdist); each notebook stays on one worker (--dist loadfile). WORKERS=0: serial.
WORKERS ?= 2
export TF_CPP_MIN_LOG_LEVEL := 3
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test unit nbval lab lab-source bench stress lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/dlkit labs run $(LAB)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile tests labs --nbval --nbval-current-env --nbval-sanitize-with labs/nbval_sanitize.cfg $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/dlkit labs student
	$(BIN)/jupyter lab workspace/

lab-source: $(STAMP)
	$(BIN)/jupyter lab labs/

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

stress: $(STAMP)
	$(BIN)/python benchmarks/stress_distributed_search.py $(STRESS_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check dlkit tests benchmarks
	$(BIN)/ruff format --check dlkit tests benchmarks

clean:
	rm -rf build .pytest_cache
