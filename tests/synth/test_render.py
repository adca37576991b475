"""The offline render: the README's first command."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from core import naming
from core.contract import CONTRACTS
from core.embedded_json import embedded_document, from_readable, readable
from synth import program, render
from synth.program import read_stack_file
from tests import tiers
from tests.helpers import (
    STACKS,
    each_stack,
    reads_config,
    rendered,
    run,
    same_graph_problems,
    stack_settings,
    with_every_contract,
    with_new_load_balancer,
)

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"
# How to refresh every snapshot after reviewing the change (README.md, "Tests").
REFRESH = "UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/synth/test_render.py -k snapshot"


@each_stack
@tiers.renders
def test_every_stack_renders_and_holds_its_invariants(stack, tmp_path, capsys):
    out = tmp_path / f"{stack}.json"
    assert render.main(["--stack", stack, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    settings = stack_settings(stack)
    for service in settings.services:
        assert f"service {service.name}" in printed
        secrets = sorted(service.contract.secret_names)
        assert f"secrets  {', '.join(secrets)}" in printed
        assert f"secrets [{', '.join(secrets)}]" in printed
    assert "ecs.TaskDefinition" in printed
    for dependency in settings.dependencies:
        if dependency.has_security_group:
            for consumer in dependency.consumers:
                assert f"{dependency.name}-from-{consumer}" in printed
            assert "<- sg-" in printed and f"tcp {dependency.port}" in printed
            assert f"reaches  {dependency.name}: sg-" in printed
        else:
            assert f"reaches  {dependency.name}: over HTTPS ({dependency.port}), no rule" in printed
    assert "invariants: all hold" in printed
    written = json.loads(out.read_text())
    assert written["outputs"]["estate"]["cluster_name"] == naming.cluster_name(stack)
    assert sorted((r["type"], r["name"]) for r in written["resources"]) == sorted(
        (r.type, r.name) for r in rendered(stack).resources
    )


def snapshot_text(stack: str) -> str:
    """The committed form of a rendering: pretty-printed, keys sorted, and each JSON document held in
    a string (container definitions, policies) written out as nested JSON under {"$json": ...}, so
    its diff in review reads line by line (core/embedded_json.py)."""
    return json.dumps(readable(render.document(stack, rendered(stack))), indent=2, sort_keys=True) + "\n"


def read_snapshot(path: Path) -> dict:
    """The rendering a snapshot holds, its JSON documents back in their strings (keys sorted)."""
    return from_readable(json.loads(path.read_text()))


@each_stack
def test_the_rendering_matches_the_reviewed_snapshot(stack):
    """A change to what would be deployed shows up as a diff of tests/snapshots/<stack>.json in review.
    Regenerate (every stack's) after reviewing with REFRESH, or UPDATE_SNAPSHOTS=1 make test."""
    snapshot = SNAPSHOTS / f"{stack}.json"
    current = snapshot_text(stack)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(current)
    if not snapshot.exists():
        raise AssertionError(f"{stack} has no snapshot {snapshot.name}; review the rendering and run {REFRESH}")
    expected = snapshot.read_text()
    if current != expected:
        diff = "".join(
            list(difflib.unified_diff(expected.splitlines(True), current.splitlines(True), "snapshot", "rendered"))[:80]
        )
        raise AssertionError(f"the rendering of {stack} changed; review and run {REFRESH}:\n{diff}")


@each_stack
def test_the_snapshot_reads_back_as_the_same_graph(stack):
    """Only the representation is new: read back, the snapshot is the rendering, value for value;
    a JSON document differs from the program's string at most in the order of its keys."""
    rendering = render.document(stack, rendered(stack))
    assert same_graph_problems(rendering, read_snapshot(SNAPSHOTS / f"{stack}.json")) == []
    # ... and its documents really are nested JSON now: no string in it holds one any more
    written = json.loads((SNAPSHOTS / f"{stack}.json").read_text())
    assert [s for s in _strings(written) if embedded_document(s) is not None] == []
    assert [s for s in _strings(rendering) if embedded_document(s) is not None], "nothing to decode?"


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_the_graph_comparison_notices_a_changed_value(tmp_path):
    stack = STACKS[0]
    changed = json.loads(snapshot_text(stack))
    task = next(r for r in changed["resources"] if r["type"] == "aws:ecs/taskDefinition:TaskDefinition")
    task["inputs"]["containerDefinitions"]["$json"][0]["image"] += "-other"
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    (problem,) = same_graph_problems(render.document(stack, rendered(stack)), read_snapshot(tmp_path / "changed.json"))
    assert "containerDefinitions" in problem


@reads_config
def test_every_snapshot_is_of_a_stack_that_exists():
    """A stack file removed or renamed takes its snapshot with it."""
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == sorted(STACKS)


def test_a_stack_without_a_file_cannot_be_rendered(capsys):
    missing = "no-such-stack"
    assert missing not in STACKS
    assert render.main(["--stack", missing]) == 2
    assert f"Pulumi.{missing}.yaml does not exist" in capsys.readouterr().err


@tiers.renders
def test_a_bad_config_is_reported_without_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  aws:region: us-east-1\n  hokusai:servces: {}\n")
    monkeypatch.setattr(program, "read_stack_file", lambda stack: read_stack_file(stack, tmp_path))
    assert render.main(["--stack", "broken", "--out", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'services'" in err and "Traceback" not in err


@tiers.renders
def test_every_resource_type_the_program_can_create_has_its_key_properties_described(dev_values):
    """A new resource type must say what matters about it in the table, not fall back to key names."""
    from synth.key_properties import DESCRIBE, describe, table

    values = with_new_load_balancer(with_every_contract(dev_values))
    values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    for service in values["hokusai:services"].values():
        service["task_role_policy_arns"] = [f"arn:aws:iam::{values['hokusai:account_id']}:policy/datasets"]
    # One secret declared by the program with its value from encrypted config (a SecretVersion).
    (key, service), *_ = values["hokusai:services"].items()
    variable = next(iter(service["secrets"]))
    secret = CONTRACTS[key].secret(variable)
    for other in values["hokusai:services"].values():
        if variable in other["secrets"]:
            other["secrets"][variable] = {"create": secret.secret_name_for("development"), "value_from": "declared"}
    values["hokusai:declared"] = "[secret]"
    result = run(values, secret_keys=["hokusai:declared"])
    types = {r.type for r in result.resources if not r.type.startswith("hokusai:")}
    assert types - set(DESCRIBE) == set()
    printed = table(result.resources)
    for resource in result.resources:
        if not resource.type.startswith("hokusai:"):
            assert resource.name in printed and describe(resource)
    # The value of a declared secret never reaches the table.
    version = next(r for r in result.resources if r.type.endswith("SecretVersion"))
    assert describe(version) == "value from encrypted stack config (secret)"


@tiers.renders
def test_the_json_option_prints_the_whole_rendering(tmp_path, capsys):
    stack = STACKS[0]
    assert render.main(["--stack", stack, "--out", str(tmp_path / "d.json"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == render.document(stack, rendered(stack))
    assert printed["outputs"]["estate"]["cluster_name"] == naming.cluster_name(stack)
