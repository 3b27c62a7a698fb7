# GAS: `make run` starts the whole service on this machine; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export GAS_DATA_DIR ?= $(CURDIR)/var
export GAS_REFERENCE_DIR ?= $(CURDIR)/var/reference

.PHONY: run test lint reference system-deps clean lock

$(BIN)/gas: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/gas
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

reference: $(BIN)/gas
	$(BIN)/gas reference install --build all

# Plain http on this machine: the login cookie cannot be Secure here.
run: reference
	QUART_AUTH_COOKIE_SECURE=false $(BIN)/gas serve

# Debian's chromium for the browser tests (Playwright cannot download its own here)
# and bcftools and bedtools, independent tools the engine's output is checked with;
# systemd for `systemd-analyze verify` of the units in deploy/systemd; vt-examples for
# a real genome sequence (GRCh37 chr20 whole, bgzip) the sequence tests install; npm,
# which fetches the reference's ClinVar data (an npm package), so before `reference`.
VT_CHR20 := /usr/share/doc/vt/examples/ref/20.fa.gz
# Only what is missing: a machine whose Node.js comes from elsewhere (nodesource) already
# has npm, and Debian's npm package conflicts with that nodejs.
system-deps:
	@missing=""; \
	for c in chromium bcftools bedtools systemd-analyze npm; do \
	  command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	test -f $(VT_CHR20) || missing="$$missing vt-examples"; \
	missing=$$(echo $$missing | sed 's/systemd-analyze/systemd/'); \
	test -z "$$missing" || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/mypy app annotator daemons gas
	$(BIN)/lint-imports --no-cache

test: $(VENV)/.test-deps system-deps reference lint
	$(BIN)/pytest -q

# deploy/requirements.lock: every package GAS runs on (and the build backend that installs
# GAS itself), pinned with the hashes of its files, for Amazon Linux 2023's Python 3.11 on
# x86_64; deploy/boot.sh installs exactly these. Run it after changing the dependencies.
lock: $(VENV)/.test-deps
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(BIN)/uv pip compile pyproject.toml - --generate-hashes --no-strip-markers --quiet \
	    --python-version 3.11 --python-platform x86_64-manylinux_2_34 \
	    --custom-compile-command "make lock" -o deploy/requirements.lock

clean:
	rm -rf $(VENV) var
