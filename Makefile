# One entry point for humans and CI: the same targets run everywhere.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: venv run test check lint format typecheck imports rules-check docs chaos chaos-short chaos-rabbitmq bench clean

# The matcher's compiled parts (setup.py) are built in place, next to their sources: when
# one of those changes, the project is reinstalled (without its dependencies), since a stale
# build would shadow the edited module. A new pyproject.toml installs everything afresh.
COMPILED_SOURCES := setup.py alerts/matching/_wordkeys.c alerts/ingest/_langwalk.c alerts/delivery/_minhash.c alerts/matching/scan.py \
	alerts/matching/evaluate.py alerts/matching/matcher.py alerts/matching/index.py \
	alerts/matching/guard.py alerts/matching/anchors.py alerts/matching/termkeys.py \
	alerts/matching/made.py

$(VENV)/.installed: pyproject.toml $(COMPILED_SOURCES)
	@if [ ! -f $(VENV)/.deps ] || [ pyproject.toml -nt $(VENV)/.deps ]; then \
		set -x; $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip \
		&& $(PY) -m pip install --quiet -e '.[dev]' && touch $(VENV)/.deps; \
	else \
		set -x; $(PY) -m pip install --quiet --no-deps -e .; \
	fi
	touch $@

venv: $(VENV)/.installed

## Start the whole service (embedded Redis unless ALERTS_REDIS_URL is set) and show the example's alerts.
run: venv
	$(BIN)/alerts run --example

## The whole test suite against real Redis, Celery, SMTP and a Slack-like server. Most of its
## time the end-to-end tests wait (for workers, digests, retries): two pytest-xdist workers run it,
## each with a Redis database of its own and a test file at a time; then the `serial` files
## (failovers, Redis restarts: tests/conftest.py) run alone. TEST_WORKERS=0: all in one process.
TEST_WORKERS ?= 2
test: venv
ifeq ($(TEST_WORKERS),0)
	$(PY) -m pytest -q
else
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not serial"; \
	parallel=$$?; $(PY) -m pytest -q -m serial; serial=$$?; \
	[ $$parallel -eq 0 ] && [ $$serial -eq 0 ]
endif

lint: venv
	$(BIN)/ruff check alerts workers tests bench setup.py
	$(BIN)/ruff format --check alerts workers tests bench setup.py

format: venv
	$(BIN)/ruff format alerts workers tests bench
	$(BIN)/ruff check --fix alerts workers tests bench

typecheck: venv
	$(BIN)/mypy

imports: venv
	$(BIN)/lint-imports

rules-check: venv
	$(BIN)/alerts rules check rules

## Regenerate docs/settings.md from the settings model (a test fails when it is stale).
docs: venv
	$(PY) -m alerts.settings_doc > docs/settings.md

## Lint, types, the import contract, the shipped rules and the tests: what CI runs.
check: lint typecheck imports rules-check test

## The chaos runs: only the fault-injection run itself (the other tests in tests/chaos run in `make test`).
chaos: venv
	CHAOS_ITEMS=10000 $(PY) -m pytest -q tests/chaos/test_chaos.py -p no:cacheprovider

chaos-short: venv
	CHAOS_ITEMS=1000 $(PY) -m pytest -q tests/chaos/test_chaos.py -p no:cacheprovider

## The short chaos run with RabbitMQ as the broker (Redis keeps the stores).
chaos-rabbitmq: venv
	CHAOS_BROKER=rabbitmq CHAOS_ITEMS=1000 $(PY) -m pytest -q tests/chaos/test_chaos.py -p no:cacheprovider

bench: venv
	$(PY) bench/match.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
	rm -f alerts/matching/*.so alerts/ingest/*.so alerts_matching__mypyc*.so
