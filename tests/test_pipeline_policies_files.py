"""docs/policies/: the pipeline policies committed per stack, and the command that writes and checks them
(core/pipeline_policies/files.py). Exit codes: 0 ok, 1 stale, 2 could not render, read or write."""

from __future__ import annotations

import json
import os

import pytest

from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, EXIT_STALE
from core.pipeline_policies import ROLES, policies_for
from core.pipeline_policies.files import POLICIES_DIR, VERIFY_POLICY, check, expected, main
from tests.helpers import STACKS, reads_config, stack_settings


@reads_config
def test_the_committed_policies_are_what_the_stack_files_generate():
    code, lines = check(expected())
    assert code == EXIT_OK, "\n".join(lines) + "\n  fix: make policies (python -m core.pipeline_policies --write)"


@reads_config
def test_every_stack_has_each_role_and_nothing_else_is_there():
    names = {path.name for path in expected()}
    for stack in STACKS:
        for role in ROLES:
            assert any(n.startswith(f"hokusai-{stack}-{role}") for n in names), (stack, role)
    assert {p.name for p in POLICIES_DIR.glob("*.json")} == names


def test_write_then_check_then_a_stale_and_a_left_over_file(tmp_path, capsys):
    # GIVEN no directory: --check fails and says how to make it
    assert main(["--check", "--dir", str(tmp_path / "policies")]) == EXIT_STALE
    assert "make policies" in capsys.readouterr().out
    # WHEN --write writes it THEN --check passes
    assert main(["--write", "--dir", str(tmp_path / "policies")]) == EXIT_OK
    assert main(["--check", "--dir", str(tmp_path / "policies")]) == EXIT_OK
    capsys.readouterr()
    # GIVEN one policy changed by hand and one no stack generates
    written = sorted((tmp_path / "policies").glob("*.json"))
    document = json.loads(written[0].read_text())
    document["Statement"][0]["Resource"] = "arn:aws:changed-by-hand"
    written[0].write_text(json.dumps(document, indent=2) + "\n")
    (tmp_path / "policies" / "hokusai-gone-deployer-1.json").write_text("{}\n")
    # THEN --check exits 1 naming both, and --write puts it right
    assert main(["--check", "--dir", str(tmp_path / "policies")]) == EXIT_STALE
    out = capsys.readouterr().out
    assert f"{written[0].name}: is stale" in out and "arn:aws:changed-by-hand" in out
    assert "hokusai-gone-deployer-1.json: no stack generates it any more" in out
    assert main(["--write", "--dir", str(tmp_path / "policies")]) == EXIT_OK
    assert "removed hokusai-gone-deployer-1.json" in capsys.readouterr().err
    assert main(["--check", "--dir", str(tmp_path / "policies")]) == EXIT_OK


def test_a_file_that_cannot_be_read_or_a_place_that_cannot_be_written_is_2(tmp_path, capsys):
    assert main(["--write", "--dir", str(tmp_path / "policies")]) == EXIT_OK
    first = sorted((tmp_path / "policies").glob("*.json"))[0]
    first.unlink()
    os.mkfifo(first)
    assert main(["--check", "--dir", str(tmp_path / "policies")]) == EXIT_CANNOT_CHECK
    assert "cannot check" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["--write", "--dir", str(blocker / "policies")]) == EXIT_CANNOT_CHECK


@reads_config
def test_one_policy_is_printed_as_json_on_stdout(capsys):
    stack = STACKS[0]
    assert main(["--stack", stack, "--role", "task-role-boundary"]) == EXIT_OK
    (boundary,) = policies_for(stack_settings(stack), "task-role-boundary")
    assert json.loads(capsys.readouterr().out) == boundary.document
    parts = policies_for(stack_settings(stack), "deployer")
    assert main(["--stack", stack, "--role", "deployer", "--part", str(len(parts))]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == parts[-1].document
    assert main(["--stack", stack, "--role", "verify"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == json.loads(VERIFY_POLICY.read_text())


@reads_config
def test_another_state_backend_changes_only_the_state_statements(capsys):
    stack = STACKS[0]
    assert main(["--stack", stack, "--role", "readonly", "--part", "1", "--state-bucket", "other-state"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "arn:aws:s3:::other-state/.pulumi/stacks/" in text and "hokusai-pulumi-state" not in text


@pytest.mark.parametrize(
    "argv, said",
    [
        (["--stack", "nope", "--role", "readonly", "--part", "1"], "Pulumi.nope.yaml does not exist"),
        (["--stack", "../etc", "--role", "readonly"], "is not a stack name"),
        (["--stack", "development", "--role", "deployer", "--part", "99"], "pass --part 1 to --part"),
    ],
)
def test_a_policy_that_cannot_be_printed_is_2_with_the_reason(argv, said, capsys):
    if "development" in argv and "development" not in STACKS:
        pytest.skip("no development stack here")
    assert main(argv) == EXIT_CANNOT_CHECK
    captured = capsys.readouterr()
    assert said in captured.err and captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--stack", "development"],
        ["--write", "--stack", "development", "--role", "deployer"],
        ["--check", "--state-bucket", "x"],
    ],
)
def test_usage_errors_are_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err
