# Two commands matter: `make run` (set up, then the main job on the shipped real sample)
# and `make test` (set up, then every test). Everything installs into .venv from the
# pinned requirements.lock; nothing is expected on the machine but Python 3.11.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/distill run-all

test: $(STAMP)
	sh scripts/install-test-tools.sh
	$(BIN)/ruff check python fixtures
	$(BIN)/pytest -q -n 2 --dist loadfile
	$(BIN)/dbt build --target fixture --quiet
	$(BIN)/distill acceptance

bench: $(STAMP)
	$(BIN)/python -m distill.bench --runs 10000 100000

clean:
	rm -rf warehouse/*.duckdb* warehouse/dbt-* warehouse/published warehouse/run.lock \
		data/evidence data/scored-runs exports reports data/_kb/*_skips.jsonl
