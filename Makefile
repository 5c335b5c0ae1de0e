# Two entry points, both self-contained on a fresh Debian machine with Python 3.11:
#   make run   install everything, render the samples into out/, start the service (embedded)
#   make test  install everything, run linters, type checks and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# WeasyPrint's native libraries, fonts configuration, and the independent checkers
# the tests use: poppler (pdfsig, pdftotext, pdftoppm, pdffonts) and openssl; PostgreSQL and
# Redis servers for the scale-out test and Dovecot for the IMAP poller's (started by the tests
# themselves, never as services); Chromium for the browser tests of the recipient's page
# (driven by Playwright).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
                poppler-utils openssl postgresql redis-server chromium dovecot-imapd
PACKAGES := ccm channels signing api templates
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test system deps check clean

run: deps
	@$(VENV)/bin/ccm samples --out out
	@$(VENV)/bin/ccm evidence sample --out out/evidence/sample-pack.zip
	@echo "Samples are in $(CURDIR)/out (PDFs, .eml e-mails, SMS/WhatsApp texts, IVR scripts, agent pages,"
	@echo "and out/evidence/sample-pack.zip: an evidence pack with its certificate.pdf)."
	@$(VENV)/bin/ccm serve --demo --port $(PORT)

test: deps check
	$(VENV)/bin/pytest -n 2 --dist loadgroup

check: deps
	$(VENV)/bin/ruff check $(PACKAGES) tests bench
	$(VENV)/bin/ruff format --check $(PACKAGES) tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	CCM_HOME=$$(mktemp -d) $(VENV)/bin/ccm templates lint

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

deps: system $(UV)
	@$(UV) sync --frozen --quiet --compile-bytecode --python $(PYTHON)

clean:
	rm -rf $(VENV) $(TOOLS) out .pytest_cache .mypy_cache .ruff_cache
