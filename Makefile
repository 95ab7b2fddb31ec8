# Yinling — the two commands: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS := -q --disable-pip-version-check
export DJANGO_SETTINGS_MODULE := yinling.settings

.PHONY: run test install lint bench worker serve seed e2e-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import django, ninja, django_tasks_db" 
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py print_demo_logins
	@echo "Task worker and web server starting; Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/python manage.py db_worker --queue-name default --interval 1 & \
	  $(BIN)/python manage.py runserver 127.0.0.1:8000 --noreload

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles
