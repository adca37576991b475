"""verify end to end, the way a new user meets it (`make fake-estate`, then `make verify`):
the commands run as processes against a moto_server on 127.0.0.1, reached only
through AWS_ENDPOINT_URL. Nothing is called in-process and nothing is mocked
inside the commands, so this is the test of the standard AWS settings
(endpoint, credentials, region) and of the exit codes and output a person sees.

The run is the session's one fake-estate scenario (tests/fake_estate_scenario.py):
seeded -> checked healthy -> broken -> checked again; tests/test_makefile.py reads
the same record for the make lifecycle. Any single test, or `-k` selection, runs
the whole scenario first.
"""

from __future__ import annotations

import json
import re

import pytest

from core.stack_file import read_stack_file
from tests.commands import MAKE

pytestmark = [pytest.mark.server, pytest.mark.skipif(MAKE is None, reason="no make on this machine")]

STACK = "development"
# What the stack file says the copy holds: its account, and how many services verify checks.
_STACK_VALUES, _ = read_stack_file(STACK)
ACCOUNT = str(_STACK_VALUES["hokusai:account_id"])
SERVICE_COUNT = len(_STACK_VALUES["hokusai:services"])


def test_seed_builds_the_copy_in_the_server_at_the_endpoint(fake_estate_scenario):
    seeded = fake_estate_scenario.started
    # GIVEN a moto_server reached only through AWS_ENDPOINT_URL
    # WHEN the user seeds a copy of the development stack
    # THEN the command succeeds, without the "fewer running tasks" warning
    assert seeded.code == 0, seeded
    assert "seeded a copy of stack development" in seeded.stdout, seeded
    assert "fewer running tasks" not in seeded.stderr, seeded
    # AND the outputs name what the server now holds (so the endpoint, not some account, was used)
    (api,) = [s for s in fake_estate_scenario.seeded_outputs["estate"]["services"] if s["key"] == "api"]
    found = fake_estate_scenario.seeded_api_service
    assert found is not None, "the server did not describe the api service the outputs name"
    assert found["status"] == "ACTIVE" and found["taskDefinition"] == api["task_definition_arn"]


def test_verify_passes_on_the_healthy_copy(fake_estate_scenario):
    healthy_verify = fake_estate_scenario.healthy
    # WHEN the user verifies the untouched copy
    # THEN exit 0, the table is printed and says passed
    assert healthy_verify.code == 0, healthy_verify
    out = healthy_verify.stdout
    assert out.splitlines()[0].split() == ["check", "status", "subject", "finding"], healthy_verify
    assert f"verify development (us-east-1, account {ACCOUNT}): passed (" in out, healthy_verify
    assert " FAIL " not in out and "fix:" not in out, healthy_verify
    assert f"AWS API calls for {SERVICE_COUNT} service(s)" in out, healthy_verify
    assert healthy_verify.stderr == "", healthy_verify


def test_verify_fails_on_the_removed_redis_rule_and_prints_the_fix(fake_estate_scenario):
    broken, broken_verify = fake_estate_scenario.broken, fake_estate_scenario.broken_verify
    # GIVEN the rule admitting the API into Redis was removed outside the stack
    assert "injected redis-rule-removed" in broken.stdout, broken
    # WHEN the user verifies again
    # THEN exit 1, only dependency.access fails, with the incident's name and the fix under it
    assert broken_verify.code == 1, broken_verify
    lines = broken_verify.stdout.splitlines()
    failing = [line for line in lines if line.split()[1:2] == ["FAIL"]]
    assert [line.split()[0] for line in failing] == ["dependency.access"], broken_verify
    assert "redis_from_data_pipeline_ecs" in failing[0], broken_verify
    fix = lines[lines.index(failing[0]) + 1].strip()
    assert (
        fix
        == "fix: make repair STACK=development (pulumi up --refresh) restores the rule; someone removed it outside the stack"
    ), broken_verify
    # The summary counts the one failure; the number of ok rows grows with the checks, so it is not pinned.
    assert re.search(r"\): FAILED \(\d+ ok, 1 failed, 0 warnings\)", broken_verify.stdout), broken_verify


def test_verify_json_parses_and_carries_the_finding(fake_estate_scenario):
    broken_verify_json = fake_estate_scenario.broken_verify_json
    # WHEN the same broken copy is verified with --json
    # THEN stdout is one JSON document a machine can act on, with the same verdict and exit code
    assert broken_verify_json.code == 1, broken_verify_json
    report = json.loads(broken_verify_json.stdout)
    assert report["passed"] is False and report["exit_code"] == 1
    failures = [r for r in report["results"] if r["status"] == "FAIL"]
    assert [r["check"] for r in failures] == ["dependency.access"], broken_verify_json
    assert "(pulumi up --refresh) restores the rule" in failures[0]["fix"]
    assert report["notes"] and report["notes"][0].endswith(f"AWS API calls for {SERVICE_COUNT} service(s)")
