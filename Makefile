# Every target sets up what it needs (.venv from requirements-dev.txt) on first use.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
STACK  ?= development

.PHONY: render test preview up drift clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Offline: render the stack under Pulumi mocks, check its invariants, write build/$(STACK).json
render: $(VENV)/.installed
	$(PYTHON) -m synth.render --stack $(STACK)

## Offline: the test suite
test: $(VENV)/.installed
	$(PYTHON) -m pytest

## With the Pulumi CLI and AWS credentials
preview: $(VENV)/.installed
	pulumi preview --stack $(STACK) --diff

up: $(VENV)/.installed
	pulumi up --stack $(STACK)

drift: $(VENV)/.installed
	pulumi preview --stack $(STACK) --refresh --expect-no-changes --diff

clean:
	rm -rf build .pytest_cache
