"""`make diff` (synth/diff.py): both sides rendered offline, compared, and written for a reviewer.

The first test is the issue's "done when": a PR that changes the image tag, a secret and a
security-group rule gets a comment that shows those three changes and nothing else, with the
rule in its own table. It builds both sides from the stack's config in memory (no git).
The rest test the git plumbing on a small temporary repository whose "program" is a stub
render, so they run in a second, and one runs the real thing against this checkout's HEAD.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from core.contract import CONTRACTS, DependencyAttribute, DependencyRequirement
from core.diff_report import MARKDOWN_LIMIT, categories_shown, markdown, text
from core.documents import READ_SECRET_ACTION
from core.graph_diff import ABSENT, Action, Replacement
from core.resource_graph import Record
from core.security_changes import Category
from synth import diff as make_diff
from synth.render import document
from tests import tiers
from tests.helpers import INCIDENT, INCIDENT_SERVICE, STACKS, reads_config, run_as, stack_settings, stack_values

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def records(stack: str, values: dict) -> tuple[list[Record], dict]:
    """The stack rendered from `values` as synth.render writes it: its records and its `estate` output."""
    rendered = document(stack, run_as(stack, values))
    return [Record(r["type"], r["name"], r["inputs"]) for r in rendered["resources"]], rendered["outputs"]["estate"]


def side_of(name: str, stack: str, values: dict | None) -> make_diff.Side:
    side = make_diff.Side(name, Path("."))
    if values is None:
        side.stacks[stack] = None
        return side
    rendering = document(stack, run_as(stack, values))
    side.stacks[stack] = [Record(r["type"], r["name"], r["inputs"]) for r in rendering["resources"]]
    side.estates[stack] = rendering["outputs"]["estate"]
    side.documents[stack] = rendering
    return side


# The incident: the api's HUGGINGFACE_API_KEY, and the Redis rule for the data pipeline's tasks.
STACK = next(stack for stack in STACKS if INCIDENT_SERVICE in {s.key for s in stack_settings(stack).services})
PIPELINE_GROUP = "sg-0d47a5e1f2c3b4a59"  # a made-up id for the data pipeline's tasks


@reads_config
@tiers.renders
def test_a_pr_changing_the_image_a_secret_and_a_rule_shows_those_three_changes_and_nothing_else():
    # GIVEN the stack as it is (the base), and a PR (the head) that changes three things:
    settings = stack_settings(STACK)
    service = next(s for s in settings.services if s.key == INCIDENT_SERVICE)
    head_values = copy.deepcopy(stack_values(STACK))
    # (one the stack file declares: a service of the stack reached by another is not under dependencies)
    declared = head_values.get("hokusai:dependencies") or {}
    dependency = next(d for d in settings.dependencies if d.has_security_group and d.name in declared)
    variable = INCIDENT.missing_secret
    assert variable is not None
    entry = head_values["hokusai:services"][service.key]
    # 1. the image tag,
    old_image = entry["image"]
    new_image = old_image.rsplit(":", 1)[0] + ":2025-11-02-reviewed"
    entry["image"] = new_image
    # 2. a secret: the variable now reads another Secrets Manager secret,
    new_secret = f"hokusai/{STACK}/{service.key}/{variable.lower()}-rotated"
    entry["secrets"][variable] = {"existing": new_secret}
    # 3. a security-group rule: the dependency admits one more consumer (the incident's missing rule).
    head_values["hokusai:dependencies"][dependency.name]["extra_consumers"] = {"data-pipeline": PIPELINE_GROUP}
    before, after = side_of("base", STACK, stack_values(STACK)), side_of("head", STACK, head_values)
    base, base_estate = before.stacks[STACK] or [], before.estates[STACK]
    head_estate = after.estates[STACK]

    # WHEN they are compared and written as the PR comment, as make diff does
    report = make_diff.build_report(before, after, [STACK], "main@1234567", "pr")
    diff = report.stacks[0].diff
    comment = markdown(report)

    # THEN the task definition changes its image and that secret's valueFrom (a new revision: replaced),
    (base_service,) = [s for s in base_estate["services"] if s["key"] == service.key]
    (head_service,) = [s for s in head_estate["services"] if s["key"] == service.key]
    old_arn, new_arn = base_service["secret_value_froms"][variable], head_service["secret_value_froms"][variable]
    container = CONTRACTS[service.key].container_name
    (task,) = diff.of(Action.REPLACE)
    assert (task.type, task.name) == (TASK_DEFINITION, next(r.name for r in base if r.type == TASK_DEFINITION))
    assert [(c.path, c.old, c.new, c.replacement) for c in task.changes] == [
        (f"containerDefinitions[{container}].image", old_image, new_image, Replacement.FORCES),
        (f"containerDefinitions[{container}].secrets[{variable}].valueFrom", old_arn, new_arn, Replacement.FORCES),
    ]
    # ... the execution role's grant follows the secret (the same change, seen in IAM: never a wider grant),
    (grant,) = diff.of(Action.UPDATE)
    execution_role = base_service["execution_role_arn"].rsplit("/", 1)[-1]
    assert (grant.type, grant.inputs["role"]) == (ROLE_POLICY, execution_role)
    (statement,) = [s for s in grant.inputs["policy"]["Statement"] if s["Action"] == READ_SECRET_ACTION]
    path = f"policy.Statement[{statement['Sid']}].Resource"
    assert [(c.path, c.old, c.new) for c in grant.changes] == [(path, old_arn, ABSENT), (path, ABSENT, new_arn)]
    # ... one ingress rule is added on the dependency's group, from the new consumer's, on its port,
    (rule,) = diff.of(Action.ADD)
    assert rule.type == INGRESS_RULE and rule.name == f"{dependency.name}-from-data-pipeline"
    # ... and nothing else: no other resource, nothing removed.
    assert len(diff.resources) == 3 and not diff.of(Action.REMOVE)

    # The comment shows each change, old -> new ...
    for shown in (old_image, new_image, old_arn, new_arn):
        assert shown in comment
    # ... the security tables are the secret's, its grant's and the rule's, the rule in its own table,
    assert categories_shown(report) == [Category.IAM, Category.SECURITY_GROUPS, Category.SECRETS]
    tables = _tables(comment)
    (rule_row,) = tables[Category.SECURITY_GROUPS.value]
    assert rule_row[:6] == [
        "+",
        rule.name,
        "ingress",
        f"{dependency.name} {dependency.security_group_id}",  # each group labelled from the estate output
        f"tcp {dependency.port}",
        f"data-pipeline {PIPELINE_GROUP}",
    ]
    (secret_row,) = tables[Category.SECRETS.value]
    assert secret_row[:4] == ["~", task.name, container, variable] and old_arn in secret_row[4]
    other_security_tables = [tables.get(c.value, []) for c in Category if c is not Category.SECURITY_GROUPS]
    assert not [row for rows in other_security_tables for row in rows if rule.name in " ".join(row)]
    # ... no picture: the estate's shape is the same (the new consumer is outside the stack),
    assert report.pictures == {} and "```mermaid" not in comment
    # ... and the resources table lists exactly the three.
    assert [row[1] for row in tables["Resources"]] == [f"`{task.name}`", f"`{grant.name}`", f"`{rule.name}`"]


def _tables(comment: str) -> dict[str, list[list[str]]]:
    """Each table of the comment (by the line that introduces it) as rows of cells, header left out."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    lines = comment.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("|---"):
            rows = []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split(" | ")])
            tables[title] = rows
        elif line.strip() and not line.startswith("|"):
            title = line.strip().strip("*")
    return tables


# --------------------------------------------------------------------------- #
# The git plumbing, on a temporary repository with a stub render
# --------------------------------------------------------------------------- #

# A stand-in for synth/render.py: one resource, whose name comes from the stack file and whose
# description says which commit's code rendered it. `fail` in the stack file: it cannot render.
STUB_RENDER = """\
import argparse, json, pathlib, sys

MADE_BY = {made_by!r}

parser = argparse.ArgumentParser()
parser.add_argument("--stack")
parser.add_argument("--json", action="store_true")
parser.add_argument("--out")
args = parser.parse_args()
config = pathlib.Path(f"Pulumi.{{args.stack}}.yaml").read_text().strip()
if config == "fail":
    print("cannot render stack: the stub was told to fail", file=sys.stderr)
    sys.exit(2)
resource = {{"type": "aws:sns/topic:Topic", "name": "alarms", "inputs": {{"name": config, "displayName": MADE_BY}}}}
print(json.dumps({{"stack": args.stack, "outputs": {{"estate": {{}}}}, "resources": [resource]}}))
"""

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], env=GIT_ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, made_by: str, config: str, message: str) -> None:
    (repo / "synth").mkdir(exist_ok=True)
    (repo / "synth" / "__init__.py").write_text("")
    (repo / "synth" / "render.py").write_text(STUB_RENDER.format(made_by=made_by))
    (repo / "Pulumi.development.yaml").write_text(config + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    """main: the base's code and config; the checked-out branch `feature`: other code and config."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "the base's code", "alarms-topic", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "the head's code", "alarms-topic-v2", "head")
    return repo


def diff_in(repo: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = make_diff.main(["--stack", "development", *args], project_dir=repo)
    printed = capsys.readouterr()
    return code, printed.out, printed.err


@tiers.process
def test_the_base_is_rendered_by_its_own_code_and_the_head_by_the_working_tree(repo, capsys):
    # GIVEN uncommitted config on top of the branch
    (repo / "Pulumi.development.yaml").write_text("alarms-topic-v3\n")
    # WHEN diffed against the merge base with main (the default)
    code, out, err = diff_in(repo, capsys)
    # THEN each side was rendered by its own code, and the head includes the uncommitted change
    assert code == 0, err
    assert 'displayName: "the base\'s code" → "the head\'s code"' in out
    assert 'name: "alarms-topic" → "alarms-topic-v3"' in out
    merge_base = git(repo, "merge-base", "HEAD", "main")
    assert f"merge base with main@{merge_base[:7]}" in out and "+ uncommitted changes" in out
    # ... and the export left nothing behind in the repository
    assert git(repo, "worktree", "list").count("\n") == 0
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == "M Pulumi.development.yaml"


@tiers.process
def test_without_main_the_merge_base_with_origin_main_is_the_base(repo, capsys):
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    git(repo, "branch", "-q", "-D", "main")
    code, out, err = diff_in(repo, capsys)
    assert code == 0, err
    assert "merge base with origin/main@" in out and '"the base\'s code" → "the head\'s code"' in out


@tiers.process
def test_without_main_or_origin_main_the_diff_says_to_pass_the_base(repo, capsys):
    git(repo, "branch", "-q", "-D", "main")
    code, out, err = diff_in(repo, capsys)
    assert code == 2 and out == ""
    assert "cannot find the merge base of HEAD with main or origin/main" in err and "BASE=" in err


@pytest.mark.parametrize("base", ["no-such-branch", "--upload-pack=touch", "HEAD~99"])
@tiers.process
def test_a_base_that_names_no_commit_is_refused_with_the_fix(repo, capsys, base):
    code, out, err = diff_in(repo, capsys, f"--base={base}")
    assert code == 2 and out == ""
    assert "is not" in err and "pass a branch, tag or commit" in err and "Traceback" not in err


@tiers.process
def test_a_given_base_is_the_base(repo, capsys):
    code, out, err = diff_in(repo, capsys, "--base", "HEAD")
    assert code == 0, err
    assert f"HEAD@{git(repo, 'rev-parse', '--short=7', 'HEAD')}" in out and "no changes" in out


@tiers.process
def test_a_base_given_by_its_hash_is_named_once(repo, capsys):
    short = git(repo, "rev-parse", "--short=7", "HEAD")
    code, out, err = diff_in(repo, capsys, "--base", git(repo, "rev-parse", "HEAD")[:10])
    assert code == 0, err
    assert out.startswith(f"make diff: {short} -> ") and f"{short}@" not in out


@tiers.process
def test_a_checkout_that_is_not_a_git_repository_exits_2(tmp_path, capsys):
    (tmp_path / "Pulumi.development.yaml").write_text("alarms-topic\n")
    code, out, err = diff_in(tmp_path, capsys)
    assert code == 2 and out == "" and "is not a git checkout" in err


@tiers.process
def test_a_side_that_cannot_be_rendered_is_named_with_its_error(repo, capsys):
    git(repo, "checkout", "-q", "main")
    commit(repo, "the base's code", "fail", "a base that cannot render")
    git(repo, "checkout", "-q", "feature")
    code, out, err = diff_in(repo, capsys, "--base", "main")
    assert code == 2 and out == ""
    assert "base: cannot render stack 'development'" in err and "the stub was told to fail" in err
    # ... and the same for the head
    (repo / "Pulumi.development.yaml").write_text("fail\n")
    code, out, err = diff_in(repo, capsys, "--base", "feature")
    assert code == 2 and "head: cannot render stack 'development'" in err


@tiers.process
def test_a_stack_only_the_head_has_is_all_added(repo, capsys):
    (repo / "Pulumi.staging.yaml").write_text("staging-topic\n")
    code = make_diff.main(["--stack", "staging"], project_dir=repo)
    out = capsys.readouterr().out
    assert code == 0
    assert "the base has no Pulumi.staging.yaml" in out and "+  aws:sns/topic:Topic::alarms" in out
    assert make_diff.main(["--stack", "nowhere"], project_dir=repo) == 2
    assert "neither side has Pulumi.nowhere.yaml" in capsys.readouterr().err


@tiers.process
def test_markdown_is_the_pr_comment(repo, capsys):
    code, out, _ = diff_in(repo, capsys, "--format", "markdown")
    assert code == 0 and out.startswith("## Infrastructure diff (`make diff`)")
    assert '| `displayName` | `"the base\'s code"` | `"the head\'s code"` |' in out


# --------------------------------------------------------------------------- #
# The real thing: this checkout against its own HEAD
# --------------------------------------------------------------------------- #


def _in_git_checkout() -> bool:
    probe = subprocess.run(
        ["git", "-C", str(make_diff.PROJECT_DIR), "rev-parse", "--verify", "--quiet", "HEAD"], capture_output=True
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _in_git_checkout(), reason="not a git checkout (a copy of the repository)")
@tiers.process
def test_this_checkout_against_its_head_renders_both_sides(capsys):
    # HEAD's tree, exported and rendered by HEAD's own program: it renders, whatever the working tree holds.
    code = make_diff.main(["--base", "HEAD", "--stack", STACK])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert printed.out.startswith("make diff: HEAD@") and f"stack {STACK}: " in printed.out
    clean = not git(make_diff.PROJECT_DIR, "status", "--porcelain", "--untracked-files=no")
    if clean:  # (in CI) the same code on both sides renders the same graph
        assert f"stack {STACK}: no changes" in printed.out, printed.out


@pytest.mark.parametrize(
    "printed, expected",
    [
        ("print('not a rendering')", "printed no rendering"),
        ('print(\'{"resources": [{"type": "t", "name": "n", "inputs": []}]}\')', "has no list of resources"),
        ("print('[' * 100000)", "printed no rendering"),
    ],
    ids=["not-json", "inputs-not-an-object", "too-deep"],
)
@tiers.process
def test_a_render_that_prints_no_rendering_is_a_side_that_cannot_be_rendered(repo, capsys, printed, expected):
    (repo / "synth" / "render.py").write_text(printed + "\n")
    code, out, err = diff_in(repo, capsys)
    assert code == 2 and out == ""
    assert f"head: the render of stack 'development' {expected}" in err and "Traceback" not in err


@reads_config
@tiers.renders
def test_security_groups_are_labelled_from_the_estate_output():
    _, estate = records(STACK, stack_values(STACK))
    labels = make_diff.security_group_labels(estate, {"services": "not a list", "dependencies": [None]})
    services = {service["security_group_id"]: f"{service['key']} service" for service in estate["services"]}
    for group, label in services.items():
        assert labels[group] == label
    for dependency in estate["dependencies"]:
        group = dependency["security_group_id"]
        if group:  # a dependency that is a service of the stack (mlflow) is known as the service
            assert labels[group] == services.get(group, dependency["name"])


# --------------------------------------------------------------------------- #
# The picture of the estate (core/architecture_diff.py), when its shape changes
# --------------------------------------------------------------------------- #


@reads_config
@tiers.renders
def test_a_change_of_the_estates_shape_brings_its_marked_picture_and_a_change_of_values_does_not():
    # GIVEN a route added to a service (a new listener rule: the shape changes)
    settings = stack_settings(STACK)
    service = settings.services[0]
    shaped = copy.deepcopy(stack_values(STACK))
    routes = shaped["hokusai:services"][service.key]["routes"]
    routes.append({"priority": max(r["priority"] for r in routes) + 1, "paths": ["/reviewed/*"]})
    base = side_of("base", STACK, stack_values(STACK))
    report = make_diff.build_report(base, side_of("head", STACK, shaped), [STACK], "main@1234567", "pr")
    # THEN the comment ends with the marked picture, which names the new rule
    comment = markdown(report)
    assert f"### The estate's shape changes: {STACK}" in comment and "```mermaid" in comment
    assert "/reviewed/*" in comment.split("```mermaid", 1)[1]
    # ... and the image tag alone (no new node or edge) brings no picture
    retagged = copy.deepcopy(stack_values(STACK))
    entry = retagged["hokusai:services"][service.key]
    entry["image"] = entry["image"].rsplit(":", 1)[0] + ":retagged"
    report = make_diff.build_report(base, side_of("head", STACK, retagged), [STACK], "main@1234567", "pr")
    assert report.pictures == {} and "```mermaid" not in markdown(report)
    assert report.shape_changes == {} and "the estate's shape" not in text(report)
    # ... nor does no change at all
    same = make_diff.build_report(base, base, [STACK], "main@1234567", "pr")
    assert same.pictures == {} and same.stacks[0].diff.empty


@reads_config
@tiers.renders
def test_a_pr_that_adds_a_dependency_shows_it_marked_in_the_comments_picture(monkeypatch):
    # GIVEN a PR that gives a service a new dependency: declared once in the stack, named in the contract
    service = stack_settings(STACK).services[0]
    added, group, port = "search", "sg-0e5a6c7d8e9f01234", 9200  # made up: no stack declares it
    assert added not in stack_values(STACK)["hokusai:dependencies"]
    base = side_of("base", STACK, stack_values(STACK))
    head_values = stack_values(STACK)
    head_values["hokusai:dependencies"][added] = {"host": "search.internal", "port": port, "security_group_id": group}
    reaches = DependencyRequirement(added, "full-text search", (("SEARCH_HOST", DependencyAttribute.HOST),))
    contract = CONTRACTS[service.key]
    monkeypatch.setitem(
        CONTRACTS, service.key, dataclasses.replace(contract, dependencies=(*contract.dependencies, reaches))
    )
    head = side_of("head", STACK, head_values)

    # WHEN make diff writes the PR comment
    report = make_diff.build_report(base, head, [STACK], "main@1234567", "pr")
    comment = markdown(report)

    # THEN the comment carries one Mermaid picture, after the tables, in which the dependency is
    # drawn and marked added, and the list under it says so
    assert comment.count("```mermaid") == 1 and comment.index("```mermaid") > comment.index("| `")
    mermaid_block = comment.split("```mermaid", 1)[1].split("```", 1)[0]
    (node_line,) = [line for line in mermaid_block.splitlines() if f'"{added}' in line and "[(" in line]
    node_id = node_line.strip().split("[(", 1)[0]
    classes = [line.strip() for line in mermaid_block.splitlines() if line.strip().startswith("class ")]
    assert any(node_id in line.split()[1].split(",") and line.endswith(" added") for line in classes)
    assert f"- added dependency {added}" in comment
    # ... and the terminal form lists the same change
    assert f"\n    added dependency {added}\n" in text(report) and "mermaid" not in text(report)
    # ... the rule the program writes for it is in the security-group table
    rules = _tables(comment)[Category.SECURITY_GROUPS.value]
    assert {(row[0], row[2], row[4]) for row in rules} == {
        ("+", "ingress", f"tcp {port}"),
        ("+", "egress", f"tcp {port}"),
    }
    # ... and the comment stays within what GitHub takes
    assert len(comment) <= MARKDOWN_LIMIT


@reads_config
@tiers.renders
def test_a_new_stack_is_pictured_whole():
    report = make_diff.build_report(
        side_of("base", STACK, None), side_of("head", STACK, stack_values(STACK)), [STACK], "main@1234567", "pr"
    )
    assert "the base has no Pulumi." in report.stacks[0].notes[0]
    assert "```mermaid" in report.pictures[STACK]


def test_a_picture_that_cannot_be_drawn_leaves_the_diff_alone(monkeypatch):
    base, head = make_diff.Side("base", Path(".")), make_diff.Side("head", Path("."))
    base.stacks["s"], head.stacks["s"] = [], [Record("aws:sns/topic:Topic", "t", {"name": "t"})]
    base.documents["s"], head.documents["s"] = {"resources": []}, {"resources": "not a list", "outputs": 3}
    monkeypatch.setattr(make_diff, "picture_of_document", lambda document: document["missing"])
    report = make_diff.build_report(base, head, ["s"], "b", "h")
    assert report.pictures == {} and len(report.stacks[0].diff.resources) == 1
