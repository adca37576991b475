"""The offline render: the README's first command."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from synth import program, render
from synth.program import read_stack_file

SNAPSHOT = Path(__file__).resolve().parent.parent / "snapshots" / "development.json"


def test_the_development_stack_renders_and_holds_its_invariants(tmp_path, capsys):
    out = tmp_path / "development.json"
    assert render.main(["--stack", "development", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "service hokusai-api-development" in printed
    assert "secrets  API_SECRET_KEY, DB_PASSWORD, HUGGINGFACE_API_KEY, REDIS_AUTH_TOKEN" in printed
    assert "invariants: all hold" in printed
    assert "ecs.TaskDefinition" in printed and "secrets [API_SECRET_KEY, DB_PASSWORD, HUGGINGFACE_API_KEY" in printed
    assert "redis-from-api" in printed and "<- sg-" in printed and "tcp 6379" in printed
    assert "reaches  redis: sg-" in printed and "reaches  auth: over HTTPS (443), no rule" in printed
    written = json.loads(out.read_text())
    assert written["outputs"]["estate"]["cluster_name"] == "hokusai-development"
    assert len(written["resources"]) == 48


def test_the_rendering_matches_the_reviewed_snapshot(dev_run):
    """A change to what would be deployed shows up as a diff of this snapshot in review.
    Regenerate with: UPDATE_SNAPSHOTS=1 make test"""
    current = json.dumps(render.document("development", dev_run), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    expected = SNAPSHOT.read_text()
    if current != expected:
        diff = "".join(
            list(difflib.unified_diff(expected.splitlines(True), current.splitlines(True), "snapshot", "rendered"))[:80]
        )
        raise AssertionError(f"the rendering changed; review and run UPDATE_SNAPSHOTS=1 make test:\n{diff}")


def test_a_stack_without_a_file_cannot_be_rendered(capsys):
    assert render.main(["--stack", "staging"]) == 2
    assert "Pulumi.staging.yaml does not exist" in capsys.readouterr().err


def test_a_bad_config_is_reported_without_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  aws:region: us-east-1\n  hokusai:servces: {}\n")
    monkeypatch.setattr(program, "read_stack_file", lambda stack: read_stack_file(stack, tmp_path))
    assert render.main(["--stack", "broken", "--out", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'services'" in err and "Traceback" not in err


def test_every_resource_type_the_program_can_create_has_its_key_properties_described(dev_values):
    """A new resource type must say what matters about it in the table, not fall back to key names."""
    from synth.key_properties import DESCRIBE, describe, table
    from tests.helpers import run, with_mlflow, with_new_load_balancer

    dev_values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    dev_values["hokusai:services"]["api"]["task_role_policy_arns"] = ["arn:aws:iam::123456789012:policy/datasets"]
    dev_values["hokusai:services"]["api"]["secrets"]["API_SECRET_KEY"] = {
        "create": "hokusai/development/api/secret-key",
        "value_from": "apiSecretKey",
    }
    dev_values["hokusai:apiSecretKey"] = "[secret]"
    result = run(with_new_load_balancer(with_mlflow(dev_values)), secret_keys=["hokusai:apiSecretKey"])
    types = {r.type for r in result.resources if not r.type.startswith("hokusai:")}
    assert types - set(DESCRIBE) == set()
    printed = table(result.resources)
    for resource in result.resources:
        if not resource.type.startswith("hokusai:"):
            assert resource.name in printed and describe(resource)
    # The value of a declared secret never reaches the table.
    version = next(r for r in result.resources if r.type.endswith("SecretVersion"))
    assert describe(version) == "value from encrypted stack config (secret)"


def test_the_json_option_prints_the_whole_rendering(tmp_path, capsys):
    assert render.main(["--stack", "development", "--out", str(tmp_path / "d.json"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["outputs"]["estate"]["cluster_name"] == "hokusai-development"
    assert {r["name"] for r in printed["resources"]} >= {"api-task", "api-service", "redis-from-api"}
