# Every target sets up what it needs (.venv from requirements-dev.txt) on first use.
VENV     ?= .venv
PYTHON   := $(VENV)/bin/python
STACK    ?= development
SERVICE  ?= api
MODEL_ID ?= 21
# verify: a file with `pulumi stack output --json`; empty = ask the Pulumi CLI
OUTPUTS  ?=
BASE_URL ?=
ENV_EXAMPLE ?=
MOTO_PORT ?= 5555
# verify: LOGS=1 also searches recent logs for the failure signatures; JSON=1 prints JSON
LOGS ?=
JSON ?=

.PHONY: synth render test preview up repair drift verify smoke envcheck docs docs-check fake-estate clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Offline: render the stack under Pulumi mocks: every resource with its key properties,
## the invariants checked, build/$(STACK).json written (JSON=1: print the JSON instead)
synth: $(VENV)/.installed
	$(PYTHON) -m synth.render --stack $(STACK) $(if $(JSON),--json)

render: synth

## Offline: the test suite
test: $(VENV)/.installed
	$(PYTHON) -m pytest

## Offline: an application's .env.example against the contract and the stack
envcheck: $(VENV)/.installed
	$(if $(ENV_EXAMPLE),,$(error set ENV_EXAMPLE=path/to/app/.env.example))
	$(PYTHON) -m ops.envcheck $(ENV_EXAMPLE) --service $(SERVICE) --stack $(STACK)

## Offline: regenerate docs/ENVIRONMENT.md from core/contract.py and docs/SETTINGS.md from
## core/settings/declarations.py (docs-check: fail if either is stale)
docs: $(VENV)/.installed
	$(PYTHON) -m ops.envdoc --write
	$(PYTHON) -m core.settings.docs --write

docs-check: $(VENV)/.installed
	$(PYTHON) -m ops.envdoc --check
	$(PYTHON) -m core.settings.docs --check

## With the Pulumi CLI and AWS credentials
preview: $(VENV)/.installed
	pulumi preview --stack $(STACK) --diff

up: $(VENV)/.installed
	pulumi up --stack $(STACK)

## Put back what changed outside the stack: read AWS first, then apply the program
repair: $(VENV)/.installed
	pulumi up --stack $(STACK) --refresh

drift: $(VENV)/.installed
	pulumi preview --stack $(STACK) --refresh --expect-no-changes --diff

## Live (AWS credentials): the estate against what the stack declared
verify: $(VENV)/.installed
	$(PYTHON) -m ops.verify --stack $(STACK) $(if $(OUTPUTS),--outputs $(OUTPUTS)) $(if $(LOGS),--logs) $(if $(JSON),--json)

## Live: post-deploy HTTP checks of the API; the key comes only from $$HOKUSAI_API_KEY
smoke: $(VENV)/.installed
	@test -n "$(BASE_URL)" || { echo "usage: HOKUSAI_API_KEY=... make smoke BASE_URL=https://... [MODEL_ID=21]" >&2; exit 2; }
	$(PYTHON) -m ops.smoke --base-url $(BASE_URL) --model-id $(MODEL_ID)

## Offline: a moto_server on 127.0.0.1 holding a copy of the stack, for trying verify by hand
fake-estate: $(VENV)/.installed
	@echo "starting moto_server on 127.0.0.1:$(MOTO_PORT) (stop it with: kill \$$(cat build/moto.pid))"
	@mkdir -p build
	MOTO_ECS_SERVICE_RUNNING=2 MOTO_EC2_LOAD_DEFAULT_AMIS=false $(VENV)/bin/moto_server -H 127.0.0.1 -p $(MOTO_PORT) > build/moto.log 2>&1 & echo $$! > build/moto.pid
	@for i in $$(seq 50); do curl -sf http://127.0.0.1:$(MOTO_PORT)/moto-api/ > /dev/null && break; sleep 0.2; done
	AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT) AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
		$(PYTHON) -m synth.fake_estate seed --stack $(STACK) --outputs build/fake-outputs.json
	@echo "now: export AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT) AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1"
	@echo "     make verify OUTPUTS=build/fake-outputs.json"
	@echo "     $(PYTHON) -m synth.fake_estate break <failure> --outputs build/fake-outputs.json   (list: --help)"

clean:
	rm -rf build .pytest_cache
