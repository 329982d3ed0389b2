# The course's two commands: `make demo` and `make test`. Both set everything up first.
#
# setup   Debian packages (apt-get, when run as root) and the virtual environment (.venv)
# build   regenerate release/ and notebooks/ from source/
# demo    release, submit the examples, autograde them, print the scores
# test    the whole test suite
# grade   autograde every submission of assignment A in parallel: make grade A=01_shallow_narrow

SHELL := /bin/bash
# Any supported CPython: 3.11 (from Debian 12's own 3.11.2) to 3.13.  `make setup PYTHON=python3.12` picks another.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

# bubblewrap: the grading sandbox; chromium: browser tests; fonts-comic-neue: xkcd plots;
# postgresql: the gradebook for a large course (tested against a real server).
DEBIAN_PACKAGES := bubblewrap chromium fonts-comic-neue postgresql

.PHONY: setup python-version system-packages build check demo test grade clean

setup: python-version system-packages $(STAMP)

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

clean:
	rm -rf submitted autograded feedback reports gradebook.db
