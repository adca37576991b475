"""The cutover as written down (RUNBOOK.md's section, docs/CUTOVER.md) must stay true to the tools and the record.

RUNBOOK.md as a whole is checked by tests/test_runbook.py (make targets, check ids,
estate names, links, credentials). Here: the cutover section keeps its order and a
way back at every step, every record path it cites exists, and docs/CUTOVER.md
names the application's lines the record describes and the workflow that replaces them.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from core.live_estate import DEPLOY_WORKFLOW, LIVE, LiveEstate, lookup
from tests.test_runbook import credential_like, section_body

# Reads the runbook and the record: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = (ROOT / "RUNBOOK.md").read_text()
CUTOVER_DOC = (ROOT / "docs" / "CUTOVER.md").read_text()
SECTION = section_body(RUNBOOK, "Cutover from the hand-managed estate")
# The deploy workflow another engineer writes; the application's CI calls it with these inputs.
DEPLOY_IMAGE_WORKFLOW = ".github/workflows/deploy-image.yml"
DEPLOY_IMAGE_INPUTS = ("image_tag", "service")

# The steps, in the order they must happen: each by a command (or link) only it has.
ORDER = (
    "make import-plan STACK=development",
    "make import-diff STACK=development",
    "pulumi import --stack development --file build/import-development.json",
    "make preview STACK=development",
    "make up STACK=development",
    "make verify STACK=development",
    "make smoke BASE_URL=",
    "docs/CUTOVER.md",
)


def out_of_order(text: str, order: tuple[str, ...] = ORDER) -> list[str]:
    """Steps missing, or first named before the step they follow."""
    positions = [text.find(step) for step in order]
    problems = [f"missing: {step}" for step, at in zip(order, positions, strict=True) if at < 0]
    problems += [
        f"{order[i + 1]!r} comes before {order[i]!r}"
        for i in range(len(order) - 1)
        if positions[i] >= 0 and positions[i + 1] >= 0 and positions[i + 1] < positions[i]
    ]
    return problems


def steps_without_a_way_back(section: str) -> list[str]:
    """Numbered steps (`1. **...**`) that do not say how to roll back."""
    steps = re.split(r"^(?=\d+\. \*\*)", section, flags=re.M)[1:]
    return [step.splitlines()[0] for step in steps if "Roll back:" not in step]


def record_paths(text: str, estate: LiveEstate = LIVE) -> set[str]:
    """Backticked record paths (`services.api.execution_role`): a first step that is a field of the record."""
    fields = {f.name for f in dataclasses.fields(estate)}
    return {p for p in re.findall(r"`([a-z_]+(?:[.\[][\w.\[\]]*)?)`", text) if re.split(r"[.\[]", p)[0] in fields}


def unknown_record_paths(text: str, estate: LiveEstate = LIVE) -> list[str]:
    unknown = []
    for path in sorted(record_paths(text, estate)):
        try:
            lookup(path, estate)
        except KeyError:
            unknown.append(path)
    return unknown


def test_the_runbook_links_the_section_from_its_contents():
    assert "](#cutover-from-the-hand-managed-estate)" in RUNBOOK.split("## The estate at a glance")[0]


def test_the_steps_come_in_order():
    assert out_of_order(SECTION) == []


def test_every_step_says_how_to_roll_it_back():
    steps = steps_without_a_way_back(SECTION)
    assert len(re.findall(r"^\d+\. \*\*", SECTION, flags=re.M)) >= len(ORDER)
    assert steps == []


def test_rolling_back_an_import_leaves_aws_alone_and_a_deploy_goes_back_a_revision():
    for command in (
        "pulumi state delete",
        "pulumi stack rm development --force",
        "aws ecs update-service --cluster hokusai-development --service hokusai-api-development",
        "aws elbv2 modify-rule",
    ):
        assert command in SECTION, command
    assert "Never `pulumi destroy`" in SECTION


def test_every_record_path_the_cutover_cites_exists():
    cited = record_paths(SECTION) | record_paths(CUTOVER_DOC)
    assert {"redis_rule", "security_groups.api_task"} <= cited  # the extraction finds them at all
    assert unknown_record_paths(SECTION) == [] and unknown_record_paths(CUTOVER_DOC) == []


def test_the_application_side_names_the_lines_to_remove_and_what_replaces_them():
    assert DEPLOY_WORKFLOW in CUTOVER_DOC and LIVE.deploy.name.value in CUTOVER_DOC
    for step in ("Update ECS Services", "Wait for services to stabilize"):
        assert f"**{step}**" in CUTOVER_DOC
    for flag in LIVE.deploy.update_service_flags.value:
        assert flag.split()[0] in CUTOVER_DOC
    assert DEPLOY_IMAGE_WORKFLOW in CUTOVER_DOC and all(f"`{name}`" in CUTOVER_DOC for name in DEPLOY_IMAGE_INPUTS)
    for trigger in ("workflow_dispatch", "repository_dispatch", "client_payload"):
        assert trigger in CUTOVER_DOC


def test_neither_document_holds_a_credential():
    assert credential_like(SECTION) == [] and credential_like(CUTOVER_DOC) == []


# --------------------------------------------------------------------------- #
# The checks can fail
# --------------------------------------------------------------------------- #


def test_the_order_check_finds_a_step_moved_or_gone():
    swapped = SECTION.replace("make up STACK=development", "@@").replace(
        "make preview STACK=development", "make up STACK=development"
    )
    assert out_of_order(swapped)
    assert out_of_order(SECTION.replace("make import-diff STACK=development", "")) == [
        "missing: make import-diff STACK=development"
    ]


def test_the_roll_back_check_finds_a_step_without_one():
    text = "1. **Do it.** now.\n   *Roll back:* undo.\n2. **Do more.** later.\n"
    assert steps_without_a_way_back(text) == ["2. **Do more.** later."]


@pytest.mark.parametrize(
    "path", ["services.api.no_such_field", "security_groups.nope", "load_balancers.registry.https_rules[9]"]
)
def test_the_record_path_check_finds_a_path_that_is_not_there(path):
    assert unknown_record_paths(f"see `{path}`") == [path]
