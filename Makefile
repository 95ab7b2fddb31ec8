# Yinling — the two commands: `make run` and `make test`.
# Any Python 3.11 or newer: python3.11 if present, else the first of the newer ones or python3.
PY ?= $(shell for p in python3.11 python3.12 python3.13 python3.14 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; \
  done)
# `make run` listens on 127.0.0.1:$(PORT); PORT=8100 make run for another port.
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS := -q --disable-pip-version-check
# bash with pipefail, so a command piped through a filter still fails the build when it fails.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
export DJANGO_SETTINGS_MODULE := yinling.settings

.PHONY: run test install lint bench worker serve seed e2e-deps clean fuzz

$(BIN)/python:
	@test -n "$(PY)" || { echo "Python 3.11 or newer is needed (none found on PATH); set PY=/path/to/python3.x" >&2; exit 1; }
	$(PY) -m venv $(VENV)

# pip warns "is ignored: it is neither a file nor a directory" for a find-links folder this
# machine lacks; drop that line only. `|| true` sits inside the braces so it covers grep's
# "nothing left to print", never a pip failure (pipefail).
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements-dev.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/python -c "import django, ninja, django_tasks_db"
	touch $@

install: $(VENV)/.installed

# Served as a deployment serves (docs/deploy.md): DEBUG off, static files collected and served
# by the application (WhiteNoise), gunicorn, the task worker and the scheduler beside it. Only
# plain HTTP on the loopback address differs: no HTTPS redirect, HSTS or secure-only cookies.
# The keys come from the environment or from .demo-keys.env, written on the first run.
RUN_ENV := DEBUG=false SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0 SECURE_COOKIES=false

run: install
	@$(BIN)/python tools/demo_keys.py .demo-keys.env db.sqlite3
	@set -a; . ./.demo-keys.env; set +a; export $(RUN_ENV); \
	  $(BIN)/python manage.py migrate --no-input -v0; \
	  $(BIN)/python manage.py collectstatic --no-input -v0; \
	  $(BIN)/python manage.py seed_demo; \
	  PORT=$(PORT) $(BIN)/python manage.py print_demo_logins; \
	  echo "Task worker, scheduler and web server (http://127.0.0.1:$(PORT)/) starting; Ctrl-C stops all three."; \
	  trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/python manage.py db_worker --queue-name default --interval 1 & \
	  $(BIN)/python manage.py run_scheduler --verbosity 0 & \
	  $(BIN)/gunicorn yinling.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --no-control-socket --access-logfile - --error-logfile -

# pytest exits 5 when it collects no test; make reports that as a failure like any other.
# Three workers on two cores: the browser tests spend much of their time waiting on chromium,
# and a third worker fills that time (one CI run on this 2-core machine: 1,049 s with two).
test: install
	$(BIN)/python -m pytest -n 3 --dist loadfile -q $(PYTEST_ARGS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) - that is a failure" >&2; fi; exit $$rc; }

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# Benchmarks on PostgreSQL (DATABASE_URL, default .../yinling_bench); updates docs/performance.md.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ONLY)

# schemathesis against /api/openapi.json as a community worker and an auditor (docs/api.md).
# Its own virtualenv from requirements-fuzz.txt; not part of install, test or CI.
# FUZZ_EXAMPLES (per operation), FUZZ_SECONDS (per user), FUZZ_SEED, FUZZ_KEEP=1 to keep the files.
.venv-fuzz/.installed: requirements-fuzz.txt
	$(PY) -m venv .venv-fuzz
	.venv-fuzz/bin/pip install $(PIP_FLAGS) -r requirements-fuzz.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	touch $@

fuzz: install .venv-fuzz/.installed
	bash tools/fuzz.sh

clean:
	rm -rf $(VENV) .venv-fuzz db.sqlite3* staticfiles .demo-keys.env
