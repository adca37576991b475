# `make` (or `make help`) lists the targets. Every target sets up what it needs
# (.venv from requirements-dev.txt) on first use, and says so on stderr.
SELF := $(lastword $(MAKEFILE_LIST))

# --- variables (command line or environment: make verify STACK=development) ----
VENV     ?= .venv
PYTHON   := $(VENV)/bin/python
STACK    ?= development
SERVICE  ?= api
MODEL_ID ?= 21
# verify: a file with `pulumi stack output --json`; empty = ask the Pulumi CLI
OUTPUTS  ?=
BASE_URL ?=
ENV_EXAMPLE ?=
# appcheck: the application's source directory (e.g. ../hokusai-data-pipeline/src)
APP_SRC ?=
# verify: LOGS=1 also searches recent logs for the failure signatures; every tool target that passes it on
# (synth, verify, envcheck, appcheck, smoke, import-plan, import-diff, logs, stopped-tasks, task-env): JSON=1 prints JSON
LOGS ?=
JSON ?=
# logs: how far back (30s, 15m, 2h, 1d), and a CloudWatch filter pattern (MATCH='"HuggingFace token not configured"')
SINCE ?= 15m
MATCH ?=
# task-env: a revision number of the service's family (empty: the one the service runs)
REVISION ?=
# fake-estate: moto_server's port on 127.0.0.1, and where its pid file, log and outputs live
MOTO_PORT ?= 5555
FAKE_DIR  ?= build
# break: the failure to inject (without it, the list)
FAILURE ?=
# diff: the git ref to compare with (empty: the merge base of HEAD with main, else origin/main);
# FORMAT=markdown prints the PR comment instead of the terminal form. STACK may name several.
BASE ?=
FORMAT ?=
HELP_VARIABLES := STACK SERVICE MODEL_ID OUTPUTS BASE_URL ENV_EXAMPLE APP_SRC LOGS JSON SINCE MATCH REVISION MOTO_PORT FAKE_DIR FAILURE BASE FORMAT VENV

PULUMI_INSTALL := https://www.pulumi.com/docs/iac/download-install/

.DEFAULT_GOAL := help
.PHONY: help synth render diff diagram test test-slow test-all lint envcheck appcheck docs docs-check policies preview up repair drift drift-state verify smoke \
	import-plan import-diff logs stopped-tasks task-env fake-estate fake-estate-reset fake-estate-stop break clean

# --- exit codes: the tool's own, through make ----------------------------------
# The tools exit 0 (ok), 1 (findings) or 2 (could not check), and so does
# `make <target>` for the targets below. GNU make turns any failed recipe into
# its own exit 2, except in question mode (-q): there a recipe line marked `+`
# still runs, and if it exits 1 make exits 1 ("not up to date"); 0 stays 0 and
# anything else is 2. So when every goal given is one of these targets (and you
# did not ask for -n, -t or -q yourself), make switches question mode on and
# $(RUN) marks their recipe lines and the setup lines they depend on. Each such
# line is the tool itself, or exits 2 when it fails, so 1 only ever means
# findings. Mixed with other goals (`make test docs`) it is plain make, where
# any failure exits 2. tests/test_makefile.py holds every line to this.
EXIT_CODE_TARGETS := synth render diff test test-slow test-all lint envcheck appcheck verify smoke import-plan import-diff logs stopped-tasks task-env
MAKE_LETTERS := $(firstword $(MAKEFLAGS))
MAKE_LETTERS := $(if $(filter -% %=%,$(MAKE_LETTERS)),,$(MAKE_LETTERS))
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(EXIT_CODE_TARGETS),$(MAKECMDGOALS)),)
ifeq ($(findstring n,$(MAKE_LETTERS))$(findstring t,$(MAKE_LETTERS))$(findstring q,$(MAKE_LETTERS)),)
MAKEFLAGS += --question
RUN := +
# A make that pip or a tool runs must not inherit question mode.
unexport MAKEFLAGS MFLAGS
endif
endif
endif
# `make -C <dir>` would print "Entering directory" on stdout, into JSON=1 output.
MAKEFLAGS += --no-print-directory

# --- checks before anything is installed ---------------------------------------
# The live tools find the estate in the stack's outputs: from OUTPUTS=, else from the Pulumi CLI.
OUTPUTS_TARGETS := verify logs stopped-tasks task-env
PULUMI_TARGETS := preview up repair drift drift-state $(if $(OUTPUTS),,$(OUTPUTS_TARGETS))
ifneq ($(filter $(PULUMI_TARGETS),$(MAKECMDGOALS)),)
ifeq ($(shell command -v pulumi 2>/dev/null),)
$(error `make $(filter $(PULUMI_TARGETS),$(MAKECMDGOALS))` needs the Pulumi CLI, and there is no `pulumi` on PATH. \
Install it ($(PULUMI_INSTALL)), then run make again$(if $(filter $(OUTPUTS_TARGETS),$(MAKECMDGOALS)),; \
or give it the outputs: make $(firstword $(filter $(OUTPUTS_TARGETS),$(MAKECMDGOALS))) OUTPUTS=<file written by `pulumi stack output --json`>))
endif
endif
ifneq ($(filter smoke,$(MAKECMDGOALS)),)
ifeq ($(BASE_URL),)
$(error usage: HOKUSAI_API_KEY=... make smoke BASE_URL=https://... [MODEL_ID=21])
endif
endif
ifneq ($(filter envcheck,$(MAKECMDGOALS)),)
ifeq ($(ENV_EXAMPLE),)
$(error usage: make envcheck ENV_EXAMPLE=path/to/app/.env.example [SERVICE=api] [STACK=development])
endif
endif
ifneq ($(filter appcheck,$(MAKECMDGOALS)),)
ifeq ($(APP_SRC),)
$(error usage: make appcheck APP_SRC=path/to/app/src [SERVICE=api] [STACK=development])
endif
endif

# --- setup: .venv, once (and again when a requirements file changes) -----------
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(RUN)@echo "make: setting up $(VENV): python3 -m venv, then pip install -r requirements-dev.txt (1-2 minutes the first time) ..." >&2; \
	python3 -m venv $(VENV) >&2 || { echo "make: python3 -m venv $(VENV) failed: python3 3.11+ with its venv module is needed" >&2; exit 2; }
	$(RUN)@$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || { echo "make: upgrading pip in $(VENV) failed" >&2; exit 2; }
	$(RUN)@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt >&2 || { echo "make: pip install -r requirements-dev.txt failed (above)" >&2; exit 2; }
	$(RUN)@touch $@ && echo "make: $(VENV) is ready" >&2 || exit 2

# --- setup: policy/venv, the policy pack's own virtualenv (policy/PulumiPolicy.yaml) ---
# `pulumi preview/up --policy-pack policy` runs the pack with it (CI makes it the same way).
POLICY_VENV := policy/venv
$(POLICY_VENV)/.installed: policy/requirements.txt
	@echo "make: setting up $(POLICY_VENV) for the policy pack: pip install -r policy/requirements.txt ..." >&2; \
	python3 -m venv $(POLICY_VENV) >&2 || { echo "make: python3 -m venv $(POLICY_VENV) failed" >&2; exit 2; }
	@$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r policy/requirements.txt >&2 || { echo "make: pip install -r policy/requirements.txt failed (above)" >&2; exit 2; }
	@touch $@

# --- targets: `name: prerequisites ## one line for make help` -------------------
help: ## this list (the default goal)
	@echo "usage: make <target> [VARIABLE=value ...]"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9_-]*:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(SELF)
	@echo
	@echo "variables (now): $(foreach v,$(HELP_VARIABLES),$(v)=$($(v)))"
	@echo "exit codes: 0 ok, 1 findings, 2 could not check (the tool's own: README.md, \"The make interface\")"

synth: $(VENV)/.installed ## offline: render the stack under Pulumi mocks, check its invariants, write build/<stack>.json (JSON=1: print it)
	$(RUN)@$(PYTHON) -m synth.render --stack $(STACK) $(if $(JSON),--json)

render: synth ## the same as synth

diff: $(VENV)/.installed ## offline: what this checkout changes in the rendered STACK against BASE (default: merge base with main); FORMAT=markdown
	$(RUN)@$(PYTHON) -m synth.diff $(foreach s,$(STACK),--stack $(s)) $(if $(BASE),--base '$(BASE)') $(if $(FORMAT),--format $(FORMAT))

diagram: $(VENV)/.installed ## offline: a picture of each stack: docs/ARCHITECTURE.md (Mermaid), build/architecture-<stack>.{dot,svg,png} (SVG/PNG with Graphviz)
	@$(PYTHON) -m synth.diagram

# Two tiers (tests/tiers.py): `make test` runs the fast one, the tests that stay in the
# test process (about 18 s on two cores); `make test-slow` the rest (processes, renders
# of their own, moto, fuzzing, the fake estate, the variant copies: minutes). CI runs both.
# PYTEST writes bytecode even where PYTHONDONTWRITEBYTECODE is set (these machines set it):
# without it every run, in every worker, compiles the modules and rewrites the tests'
# asserts again, a third of the fast tier's time. The first run after a change still does.
PYTEST = PYTHONDONTWRITEBYTECODE= $(PYTHON) -m pytest
test: $(VENV)/.installed ## offline: the fast tier of the tests (every change; about 18 s, 24 s the first time)
	$(RUN)@$(PYTEST) -m "not slow"

test-slow: $(VENV)/.installed ## offline: the slow tier of the tests (processes, own renders, moto, fuzzing, copies; minutes)
	$(RUN)@$(PYTEST) -m slow

test-all: $(VENV)/.installed ## offline: both tiers in one run (CI runs them as `make test` then `make test-slow`)
	$(RUN)@$(PYTEST)

# All three run even when one finds something, so one run shows every finding; make
# exits with the worst of their codes (each is 0 clean, 1 findings, 2 could not check).
LINT_CHECKS := "ruff check ." "ruff format --check ." "mypy"
lint: $(VENV)/.installed ## offline: ruff (lint, format check) and mypy (strict on core/), configured in pyproject.toml
	$(RUN)@worst=0; for check in $(LINT_CHECKS); do \
		$(PYTHON) -m $$check; code=$$?; \
		if [ $$code -gt 2 ]; then code=2; fi; \
		if [ $$code -gt $$worst ]; then worst=$$code; fi; \
	done; exit $$worst

envcheck: $(VENV)/.installed ## offline: an app's .env.example (ENV_EXAMPLE=) against the contract and the stack
	$(RUN)@$(PYTHON) -m ops.envcheck $(ENV_EXAMPLE) --service $(SERVICE) --stack $(STACK) $(if $(JSON),--json)

appcheck: $(VENV)/.installed ## offline: every env var an app's source (APP_SRC=) reads, against the contract (docs/APPCHECK.md)
	$(RUN)@$(PYTHON) -m ops.appcheck $(APP_SRC) --service $(SERVICE) --stack $(STACK) $(if $(JSON),--json)

docs: $(VENV)/.installed ## offline: regenerate the generated docs (ENVIRONMENT.md, SETTINGS.md, ESTATE.md, ARCHITECTURE.md, policies/, the workflows' stack and service choices)
	$(PYTHON) -m ops.envdoc --write
	$(PYTHON) -m core.settings.docs --write
	$(PYTHON) -m core.live_estate_docs --write
	$(PYTHON) -m synth.architecture_doc --write
	$(PYTHON) -m core.pipeline_policies --write
	$(PYTHON) -m core.workflow_choices --write

docs-check: $(VENV)/.installed ## offline: fail if a generated doc (ENVIRONMENT.md, SETTINGS.md, ESTATE.md, ARCHITECTURE.md, policies/, the workflows' stack and service choices) is stale
	$(PYTHON) -m ops.envdoc --check
	$(PYTHON) -m core.settings.docs --check
	$(PYTHON) -m core.live_estate_docs --check
	$(PYTHON) -m synth.architecture_doc --check
	$(PYTHON) -m core.pipeline_policies --check
	$(PYTHON) -m core.workflow_choices --check

policies: $(VENV)/.installed ## offline: regenerate docs/policies/, each stack's IAM policies for the pipeline (README.md, "IAM permissions")
	$(PYTHON) -m core.pipeline_policies --write

import-plan: $(VENV)/.installed ## offline: write build/import-<STACK>.json for pulumi import --file (exit 1: ids to fill in)
	$(RUN)@$(PYTHON) -m synth.import_plan --stack $(STACK) $(if $(JSON),--json)

import-diff: $(VENV)/.installed ## offline: what the first preview after the import changes on live resources (exit 1: a replacement)
	$(RUN)@$(PYTHON) -m synth.import_diff --stack $(STACK) $(if $(JSON),--json)

preview: $(VENV)/.installed $(POLICY_VENV)/.installed ## Pulumi CLI: pulumi preview --diff of STACK, with the policy pack
	pulumi preview --stack $(STACK) --diff --policy-pack policy

up: $(VENV)/.installed $(POLICY_VENV)/.installed ## Pulumi CLI: pulumi up with the policy pack (the deploy gate fails it if the deployment rolls back)
	pulumi up --stack $(STACK) --policy-pack policy

repair: $(VENV)/.installed $(POLICY_VENV)/.installed ## Pulumi CLI: put back what changed outside the stack (pulumi up --refresh)
	pulumi up --stack $(STACK) --refresh --policy-pack policy

drift: $(VENV)/.installed ## Pulumi CLI: fail if AWS differs from the code (pulumi preview --refresh --expect-no-changes)
	pulumi preview --stack $(STACK) --refresh --expect-no-changes --diff

drift-state: ## Pulumi CLI: fail if AWS differs from the stack's state, without writing it (pulumi refresh --preview-only --expect-no-changes)
	pulumi refresh --stack $(STACK) --preview-only --expect-no-changes --diff

verify: $(VENV)/.installed ## live: the estate against the stack (OUTPUTS=file, else the Pulumi CLI; LOGS=1, JSON=1)
	$(RUN)@$(PYTHON) -m ops.verify --stack $(STACK) $(if $(OUTPUTS),--outputs $(OUTPUTS)) $(if $(LOGS),--logs) $(if $(JSON),--json)

smoke: $(VENV)/.installed ## live: HTTP checks of the API at BASE_URL (key from $HOKUSAI_API_KEY only; MODEL_ID=21)
	$(RUN)@$(PYTHON) -m ops.smoke --base-url $(BASE_URL) --model-id $(MODEL_ID) --stack $(STACK) $(if $(JSON),--json)

# The three on-call views of one service (SERVICE=api), named from the stack's outputs like verify.
# MATCH reaches the tool through the environment ("$$MATCH"): a pattern's quotes stay its own.
logs: $(VENV)/.installed ## live: SERVICE's newest log lines from the last SINCE (15m); MATCH=<CloudWatch filter pattern>
	$(RUN)@$(PYTHON) -m ops.logs --stack $(STACK) --service $(SERVICE) --since $(SINCE) $(if $(OUTPUTS),--outputs $(OUTPUTS)) $(if $(MATCH),--match "$$MATCH") $(if $(JSON),--json)

stopped-tasks: $(VENV)/.installed ## live: why SERVICE's tasks stopped in the last hour, and what to do (exit 1: a failure)
	$(RUN)@$(PYTHON) -m ops.stopped_tasks --stack $(STACK) --service $(SERVICE) $(if $(OUTPUTS),--outputs $(OUTPUTS)) $(if $(JSON),--json)

task-env: $(VENV)/.installed ## live: the secrets and setting NAMES a revision (REVISION=, else the running one) gives SERVICE, judged
	$(RUN)@$(PYTHON) -m ops.task_env --stack $(STACK) --service $(SERVICE) $(if $(REVISION),--revision $(REVISION)) $(if $(OUTPUTS),--outputs $(OUTPUTS)) $(if $(JSON),--json)

fake-estate: $(VENV)/.installed ## offline: moto_server on 127.0.0.1:MOTO_PORT holding a copy of the stack (again: reseeds it)
	@$(PYTHON) -m synth.fake_server --dir $(FAKE_DIR) start --port $(MOTO_PORT) --stack $(STACK)

fake-estate-reset: $(VENV)/.installed ## offline: a clean copy of the stack in the running fake estate
	@$(PYTHON) -m synth.fake_server --dir $(FAKE_DIR) reset --stack $(STACK)

# Needs no .venv: stopping must work whatever state the checkout is in.
fake-estate-stop: ## offline: stop the fake estate
	@$(if $(wildcard $(PYTHON)),$(PYTHON),python3) -m synth.fake_server --dir $(FAKE_DIR) stop

break: $(VENV)/.installed ## offline: list the failures the fake estate can inject; FAILURE=<name> injects one
	@$(if $(FAILURE),$(PYTHON) -m synth.fake_server --dir $(FAKE_DIR) break $(FAILURE),$(PYTHON) -m synth.fake_estate list)

clean: fake-estate-stop ## stop the fake estate, remove build/, the pytest cache and the bytecode the tests keep
	rm -rf build .pytest_cache
	find . -path ./.venv -prune -o -path ./policy/venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
