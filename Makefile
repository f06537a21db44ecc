# `make run` serves the hub with demo data; `make test` sets everything up and runs the suite.
# Both work on a fresh clone: they create .venv and install what is missing, system packages included.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# A CJK font embedded in licences (and shown in page screenshots); for the tests: Chromium, poppler's
# pdfsig/pdftotext, zbarimg to read QR codes, SoftHSM2 for the PKCS#11 seal keys, NSS's certutil.
RUN_PACKAGES := fonts-wqy-microhei
SYSTEM_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils zbar-tools softhsm2 libnss3-tools
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test lint bench system-deps lock clean

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

run: $(INSTALLED)
	@$(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES="$(RUN_PACKAGES)"
	HUB_DEMO=$${HUB_DEMO:-1} HUB_CONNECTOR_ALLOWLIST=$${HUB_CONNECTOR_ALLOWLIST:-127.0.0.1/32} $(BIN)/hub serve

# Debian packages the tests need, installed only when missing.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy connectors certs policies

# The storage-heavy tests run twice: on the embedded server, then on a three-master Redis Cluster.
CLUSTER_TESTS := tests/hub/registry tests/hub/licences tests/hub/intake tests/hub/archives \
	tests/hub/test_resolution.py tests/hub/test_audit.py tests/hub/test_checkpoints.py tests/hub/test_auth.py

test: $(INSTALLED) system-deps lint
	$(BIN)/pytest
	HUB_TEST_REDIS_CLUSTER=1 $(BIN)/pytest -q $(CLUSTER_TESTS)

bench: $(INSTALLED)
	$(BIN)/python -m bench

# Re-pin requirements*.txt from requirements*.in (needs the registries).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	(echo "# Pinned runtime dependencies (from requirements.in via 'make lock')."; .lock-venv/bin/pip freeze) > requirements.txt
	.lock-venv/bin/pip install --quiet -r requirements-dev.in
	(echo "# Pinned test, lint and benchmark tools (from requirements-dev.in via 'make lock')."; \
	 .lock-venv/bin/pip freeze | grep -v -x -F -f requirements.txt) > requirements-dev.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-output
