# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test` (and `make lint` before a commit).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
WORKERS ?= 2
THREADS ?= 8
DEMO_MAIL_PORT ?= 8025
export FLASK_APP := run.py
# Links in emails point where `make run` serves (HOST and PORT), unless PUBLIC_URL is set.
export PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: run setup test lint lock clean

$(BIN)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# Local secrets, made once and never committed; production sets SECRET_KEY and AUDIT_KEY in the environment.
instance/prevent.env:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(f'SECRET_KEY={secrets.token_hex(32)}\nAUDIT_KEY={secrets.token_hex(32)}')" > $@
	chmod 600 $@

setup: $(BIN)/.installed instance/prevent.env
	$(BIN)/flask db upgrade
	$(BIN)/flask prevent setup

# The web app, the outbox delivery worker and, unless MAIL_SERVER is set, a local demo mailbox that keeps every
# email as a file in instance/mailbox/new/ (so the demo's email works without a mail server). Ctrl-C stops all three.
# gunicorn.conf.py sets the processes: one with THREADS threads while the sign-in rate limits are counted in memory
# (the default), WORKERS when RATELIMIT_STORAGE_URI names a Redis server that they all share.
run: setup
	@echo "Prevent Casework on http://$(HOST):$(PORT)"
	@set -e; trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	if [ -z "$$MAIL_SERVER" ]; then \
	  echo "Demo mailbox: emails land in instance/mailbox/new/"; \
	  $(BIN)/python -m aiosmtpd -n -l 127.0.0.1:$(DEMO_MAIL_PORT) -c aiosmtpd.handlers.Mailbox instance/mailbox & \
	  export MAIL_SERVER=127.0.0.1 MAIL_PORT=$(DEMO_MAIL_PORT); \
	fi; \
	$(BIN)/flask outbox deliver --loop & \
	WORKERS=$(WORKERS) THREADS=$(THREADS) $(BIN)/gunicorn --bind $(HOST):$(PORT) --access-logfile - run:app

# Every test, on TEST_WORKERS processes (pytest-xdist; a module marked xdist_group runs whole on one), each with a
# database of its own. PYTEST_ARGS comes last and can override: PYTEST_ARGS="-m 'not slow'" leaves out the slow
# kinds, "-n 0" runs in one process.
TEST_WORKERS ?= 2
test: $(BIN)/.installed node_modules/.installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# axe-core for the accessibility tests (tests/test_accessibility.py), from the npm registry at the versions
# package-lock.json pins; nothing is fetched while the tests run. Without npm this fails, and says so: the
# accessibility checks never skip quietly.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to install axe-core for the accessibility tests (apt-get install npm)" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# ruff and mypy as pyproject.toml sets them; bandit over the app, failing on any finding of medium or high severity.
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/bandit -r app --severity-level medium --quiet

# Re-pin after changing requirements.in: installs the direct dependencies fresh and freezes the tree.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	.lock-venv/bin/pip freeze --exclude-editable > requirements.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV)
