# The course's two commands: `make demo` and `make test`. Both set everything up first.
#
# setup   Debian packages (apt-get, when run as root) and the virtual environment (.venv)
# build   regenerate release/ and notebooks/ from source/
# demo    release, submit the examples, autograde them, print the scores
# test    the whole test suite
# grade   autograde every submission of assignment A in parallel: make grade A=01_shallow_narrow
# hub     the course on a JupyterHub on 127.0.0.1 with demo accounts (as root; Ctrl-C stops it): make hub PORT=8000;
#         with your accounts: make hub ROSTER=my_roster.json (see hub/roster.example.json)

SHELL := /bin/bash
# Any supported CPython: 3.11 (from Debian 12's own 3.11.2) to 3.13.  `make setup PYTHON=python3.12` picks another.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

# bubblewrap: the grading sandbox; chromium: browser tests; fonts-comic-neue: xkcd plots;
# postgresql: the gradebook for a large course (tested against a real server); nodejs: the hub's proxy.
DEBIAN_PACKAGES := bubblewrap chromium fonts-comic-neue postgresql nodejs
# configurable-http-proxy, JupyterHub's proxy, from the npm registry at the versions hub/package-lock.json pins.
HUB_PROXY := hub/node_modules/.bin/configurable-http-proxy

.PHONY: setup python-version system-packages build check demo test grade hub clean

setup: python-version system-packages $(STAMP) $(HUB_PROXY)

# Stop at once, with what to do, on a Python the pinned requirements do not install on.
python-version:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null || { \
		echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '(not found)'); this course needs CPython 3.11 (3.11.2 or later) to 3.13."; \
		echo "       Install one (Debian 12: apt-get install python3 python3-venv) and run: make setup PYTHON=/path/to/python3.11"; \
		exit 1; }

system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "WARNING: missing Debian packages:$$missing"; \
		echo "         install them with: sudo apt-get install$$missing  (see README)"; \
	fi

$(STAMP): requirements.txt pyproject.toml | python-version
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# The autograder package itself (editable: nbgrader, the tests and `autograder ...` use this folder's code).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# npm comes with Node.js from NodeSource; Debian packages it apart.  Without npm (and not root), setup goes on
# without the hub's proxy: `make hub` and its test then say what is missing.
$(HUB_PROXY): hub/package.json hub/package-lock.json
	@if ! command -v npm >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian package: npm"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
		else \
			echo "WARNING: npm is missing: the hub's proxy is not installed (sudo apt-get install nodejs npm)"; \
			exit 0; \
		fi; \
	fi; \
	cd hub && npm ci --no-audit --no-fund --loglevel=error && touch $(CURDIR)/$(HUB_PROXY)

build: setup
	$(BIN)/python -m autograder build

check: setup
	$(BIN)/python -m autograder check

demo: setup
	$(BIN)/python -m autograder demo

test: setup
	$(BIN)/python -m pytest

grade: setup
	$(BIN)/python -m autograder grade $(A)

# As root: PAM logins, and each user's server started as that user (see hub/serve.py).
hub: setup
	$(BIN)/python hub/serve.py $(if $(PORT),--port $(PORT)) $(if $(ROSTER),--roster $(ROSTER))

clean:
	rm -rf submitted autograded feedback reports gradebook.db
