# The two commands: `make run` and `make test`. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := assistant/static/vendor

.PHONY: run test lint typecheck i18n bench setup browser-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENDOR)/htmx.min.js: package.json
	npm install --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js

setup: $(STAMP) $(VENDOR)/htmx.min.js
	$(BIN)/python -m assistant i18n compile

run: setup
	$(BIN)/python -m assistant serve

# Debian packages the tests use: Chromium for the browser tests, libfaketime to run a pass of the
# suite with the whole process clock moved.
browser-deps:
	@test -x /usr/bin/chromium -a -x /usr/bin/faketime || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium faketime)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check assistant tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The PostgreSQL pass runs with the whole process clock moved (libfaketime) to Christmas Day
# evening in New Zealand two years ahead: no test may depend on the date the suite runs on.
# Tests marked timed_waits run in the first pass only: under libfaketime a timed wait
# (threading.Event.wait) never ends, so a supervisor that checks its processes every half
# second never looks.
FAR_CLOCK = $(shell date -u +%Y | awk '{print $$1 + 2 "-12-25 06:30:00"}')

test: setup browser-deps lint
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile -m "not postgres_only" --durations=15
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== PostgreSQL: $$TEST_DATABASE_URL, clock moved to $(FAR_CLOCK) UTC"; \
	  TEST_DB=postgres FAKETIME_DISABLE_SHM=1 TZ=UTC faketime '$(FAR_CLOCK)' \
	    $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile -m "not browser and not timed_waits" --durations=15; \
	fi

i18n: $(STAMP)
	$(BIN)/python -m assistant i18n update
	$(BIN)/python -m assistant i18n compile

# Benchmarks, each figure against a baseline measured in the same run (the HTTP figures take
# about 12 minutes with PostgreSQL; not part of `make test`). bench_http serves the app for
# real to concurrent keep-alive clients, on SQLite and, when BENCH_DATABASE_URL or
# TEST_DATABASE_URL is set, on PostgreSQL.
bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules $(VENDOR) assistant.db*
