# dotsync: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck migrations bench clean fuzz soak

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[oscar,postgres,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/dotsync demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The schemathesis conformance lane against the sandbox (about 2 minutes; report in var/fuzz-report.json).
fuzz: $(STAMP)
	$(PY) -m pytest -m fuzz tests/fuzz $(PYTEST_ARGS)

# Soak: the model-based interleaving test with many examples, then bench/soak.py's SIGKILL trials.
SOAK_EXAMPLES ?= 200
SOAK_TRIALS ?= 100
soak: $(STAMP)
	DOTSYNC_SOAK_EXAMPLES=$(SOAK_EXAMPLES) $(PY) -m pytest tests/e2e/test_model_based.py -o timeout=0 $(PYTEST_ARGS)
	$(PY) bench/soak.py --trials $(SOAK_TRIALS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Regenerates the (not yet released) initial migration from the models.
migrations: $(STAMP)
	rm -f src/dotsync/migrations/0001_initial.py
	DOTSYNC_VAR_DIR=$$(mktemp -d) $(PY) -m django makemigrations dotsync --settings=dotsync.settings

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
