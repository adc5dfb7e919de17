# Two promises: `make run` sets everything up and starts the bot; `make test` passes on a fresh machine.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run chat index test test-fast lint bench eval eval-gate chromium postgresql clean

install: .venv/.installed

.venv/.installed: requirements.lock requirements-nodeps.lock pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PIP) install --quiet --disable-pip-version-check -r requirements.lock
	# packages whose declared pins conflict with the lock but which work with it (why: the file's header)
	$(PIP) install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.lock
	# the `kosodate-bot` command (an editable install of this folder; dependencies come from the lock file above)
	$(PIP) install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; never `playwright install`), and a Japanese font so
# screenshots show text instead of empty boxes.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi ipagothic; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null; \
	fi

# Debian's PostgreSQL 15 server binaries for the storage tests (they start their own server in a tmp folder).
postgresql:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

index: install
	$(PY) ingest.py

run: install
	$(PY) -m web

chat: install
	$(PY) -m bot chat

# axe-core from npm for the accessibility test (a test tool, never served to parents).
AXE := tools/axe/node_modules/axe-core/axe.min.js
$(AXE): tools/axe/package.json tools/axe/package-lock.json
	cd tools/axe && npm ci --no-audit --no-fund --silent
	touch $@

test: install chromium postgresql $(AXE)
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not browser and not slow"

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: install
	$(PY) -m benchmarks

eval: install
	$(PY) -m evals run

eval-gate: install
	$(PY) -m evals gate
	$(PY) -m evals gate --no-ingest --dataset evals/datasets/understand/dev.jsonl --thresholds evals/thresholds-understand.toml
	$(PY) -m evals gate --no-ingest --dataset evals/datasets/multilingual/dev.jsonl --thresholds evals/thresholds-multilingual.toml
	$(PY) -m evals triage --split test --gate
	$(PY) -m evals triage --split smalltalk-test --gate --thresholds evals/triage_smalltalk_thresholds.toml

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache
