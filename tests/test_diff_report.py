"""core/diff_report.py: the diff as text for a terminal and as Markdown for the PR comment.

The Markdown is posted by a privileged workflow from an artifact a fork's code wrote, so
besides saying the right things it must stay a well-formed, bounded comment whatever the
values hold: a `|` cannot break a table, HTML cannot hide the rest, nothing exceeds GitHub's
limit.
"""

from __future__ import annotations

import json
import re

import pytest

from core import diff_report
from core.diff_report import MARKDOWN_LIMIT, Report, StackDiff, cell, markdown, text
from core.graph_diff import diff_graphs
from core.resource_graph import Record

RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
# GitHub's limit for a comment body; the poster adds a marker line and a header.
GITHUB_COMMENT_LIMIT = 65_536
POSTER_ALLOWANCE = 1_000


def task(image: str, name: str = "api-task") -> Record:
    return Record(TASK, name, {"containerDefinitions": json.dumps([{"name": "api", "image": image}]), "cpu": "256"})


def rule(name: str, port: int = 6379) -> Record:
    return Record(
        RULE,
        name,
        {
            "securityGroupId": "sg-0aaa",
            "referencedSecurityGroupId": "sg-0bbb",
            "ipProtocol": "tcp",
            "fromPort": port,
            "toPort": port,
        },
    )


def report(before, after, **kwargs) -> Report:
    return Report("main@1111111", "working tree", (StackDiff("development", diff_graphs(before, after)),), **kwargs)


def test_no_changes_says_so():
    same = [task("a:1")]
    assert "stack development: no changes" in text(report(same, same))
    assert "### Stack `development`: no changes" in markdown(report(same, same))


def test_text_shows_each_property_old_to_new_with_its_replacement():
    shown = text(report([task("repo/api:1")], [task("repo/api:2"), rule("redis-from-api")]))
    assert "1 to replace, 0 to update, 1 to add, 0 to remove (0 unchanged)" in shown
    assert 'containerDefinitions[api].image: "repo/api:1" → "repo/api:2"  [forces replacement]' in shown
    assert "+  aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::redis-from-api" in shown
    assert "Security-group rule changes" in shown


def test_markdown_has_a_table_per_security_category_and_a_property_table_per_changed_resource():
    shown = markdown(report([task("repo/api:1"), rule("r", 6379)], [task("repo/api:2"), rule("r", 6380)]))
    assert "*Security-group rule changes*" in shown
    assert "| ~ | r | ingress | sg-0aaa | tcp 6379 → tcp 6380 | sg-0bbb |" in shown
    assert '| `containerDefinitions[api].image` | `"repo/api:1"` | `"repo/api:2"` | **forces replacement** |' in shown


def test_identifiers_are_labelled_in_the_security_tables():
    shown = markdown(report([], [rule("r")], labels={"sg-0aaa": "redis", "sg-0bbb": "api service"}))
    assert "| + | r | ingress | redis sg-0aaa | tcp 6379 | api service sg-0bbb |" in shown


def test_added_resources_are_described():
    described = StackDiff(
        "development", diff_graphs([], [rule("r")]), descriptions={f"{RULE}::r": "sg-0aaa <- sg-0bbb on tcp 6379"}
    )
    shown = markdown(Report("b", "h", (described,)))
    assert (
        "| + | `r` | `aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule` | sg-0aaa &lt;- sg-0bbb on tcp 6379 |"
        in shown
    )


def test_a_picture_closes_its_stacks_section_and_only_its_own():
    picture = "### The estate's shape changes: development\n\n```mermaid\ngraph LR\n  a --> b\n```\n"
    shown = markdown(report([], [rule("r")], pictures={"development": picture}))
    assert shown.endswith(picture)
    assert picture not in markdown(report([], [rule("r")], pictures={"production": picture}))
    assert picture not in markdown(report([], [rule("r")]))


# --------------------------------------------------------------------------- #
# Safe in a comment, whatever the values hold
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "value",
    [
        "a | b",
        "<!-- the rest of the comment is hidden -->",
        "</details><img src=x onerror=alert(1)>",
        "line\nbreak\r\n| --- |",
        "`code` ``x``",
    ],
)
def test_a_value_cannot_break_out_of_its_cell(value):
    shown = markdown(report([task("repo/api:1")], [task(f"repo/api:{value}")]))
    row = next(line for line in shown.splitlines() if line.startswith("| `containerDefinitions[api].image`"))
    # one line, four cells (a table splits at every `|` not escaped), no raw HTML
    assert len(re.split(r"(?<!\\)\|", row)) == 6, row
    assert "<" not in row and ">" not in row.replace("→", "")


def test_a_long_value_is_shortened_in_the_comment_but_whole_in_the_terminal():
    long = "x" * 5000
    assert len(cell(long)) == diff_report.CELL_LIMIT
    assert long not in markdown(report([task("a:1")], [task(long)]))
    assert long in text(report([task("a:1")], [task(long)]))


def huge() -> Report:
    before = [task(f"repo/api:{i}", name=f"task-{i}") for i in range(400)]
    after = [task(f"repo/api:{i}-new", name=f"task-{i}") for i in range(400)]
    return report(before, after)


def test_a_comment_over_the_limit_drops_the_property_tables_then_is_cut():
    full = markdown(huge(), limit=10**9)
    assert len(full) > MARKDOWN_LIMIT  # the case the limit is for
    bounded = markdown(huge())
    assert len(bounded) <= MARKDOWN_LIMIT
    assert "Property tables left out" in bounded and "| `containerDefinitions[api].image`" not in bounded
    cut = markdown(huge(), limit=5_000)
    assert len(cut) <= 5_000 and cut.endswith("`make diff` shows all of it.*\n")


def picture_of(size: int) -> str:
    edges = "\n".join(f"  n{i} --> n{i + 1}" for i in range(size))
    return f"### The estate's shape changes: development\n\n```mermaid\nflowchart LR\n{edges}\n```\n"


def test_a_long_comment_drops_the_property_tables_before_the_picture_and_the_picture_before_any_line():
    # GIVEN a long diff whose estate changes shape
    small, big = picture_of(10), picture_of(5_000)
    assert len(markdown(huge(), limit=10**9)) > MARKDOWN_LIMIT
    # THEN the property tables go first, the picture stays whole
    kept = markdown(report_of_huge(small))
    assert len(kept) <= MARKDOWN_LIMIT and "Property tables left out" in kept and small.rstrip("\n") in kept
    # ... a picture that does not fit goes, whole, and the comment says how to draw it
    dropped = markdown(report_of_huge(big))
    assert len(dropped) <= MARKDOWN_LIMIT and "```mermaid" not in dropped
    assert "Pictures of the estate's shape left out" in dropped and "synth.diagram --base" in dropped
    # ... and a cut comes only after both, so it never leaves a Mermaid block open
    cut = markdown(report_of_huge(small), limit=5_000)
    assert len(cut) <= 5_000 and "```" not in cut and cut.endswith("`make diff` shows all of it.*\n")


def test_without_a_picture_the_comment_never_speaks_of_one():
    assert "Pictures of" not in markdown(huge()) and "Pictures of" not in markdown(huge(), limit=5_000)


def report_of_huge(picture: str) -> Report:
    long = huge()
    return Report(long.base, long.head, long.stacks, pictures={"development": picture})


def test_the_limit_is_in_bytes_as_the_poster_checks_it():
    # GIVEN a long diff whose values are not ASCII (three bytes a character)
    names = [f"task-{'→' * 60}-{i}" for i in range(400)]
    before = [task(f"repo/api:{i}", name=name) for i, name in enumerate(names)]
    after = [task(f"repo/api:{i}-{'→' * 20}", name=name) for i, name in enumerate(names)]
    for limit in (MARKDOWN_LIMIT, 5_000, 4_999):
        comment = markdown(report(before, after), limit=limit)
        # THEN the comment fits pr-diff-comment.yml's MAX_BYTES, not only GitHub's character count
        assert len(comment.encode()) <= limit, limit
        comment.encode().decode("utf-8")  # and is whole characters


def test_the_limit_leaves_room_under_githubs():
    assert MARKDOWN_LIMIT + POSTER_ALLOWANCE <= GITHUB_COMMENT_LIMIT
