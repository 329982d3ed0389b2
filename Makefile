# The course's two commands: `make demo` and `make test`. Both set everything up first.
#
# setup   Debian packages (apt-get, when run as root) and the virtual environment (.venv)
# build   regenerate release/ and notebooks/ from source/
# demo    release, submit the examples, autograde them, print the scores
# test    the whole test suite
# grade   autograde every submission of assignment A in parallel: make grade A=01_shallow_narrow

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

# bubblewrap: the grading sandbox; chromium: browser tests; fonts-comic-neue: xkcd plots;
# postgresql: the gradebook for a large course (tested against a real server).
DEBIAN_PACKAGES := bubblewrap chromium fonts-comic-neue postgresql

.PHONY: setup system-packages build check demo test grade clean

setup: system-packages $(STAMP)

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

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# Make the autograder package importable from the instructor's kernels and tools.
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/shallow_narrow_course.pth"
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
