"""docs/ESTATE.md: generated from the record of the live estate, never stale, and
showing every fact with its citations, every placeholder with how to find it and
every difference with its reason."""

from __future__ import annotations

import re
from dataclasses import replace

from core import live_estate_docs
from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, EXIT_STALE
from core.live_estate import LIVE, Fact, Placeholder, entries, facts, placeholders
from core.live_estate_docs import (
    DOC_PATH,
    REGENERATE,
    citation_text,
    render,
)
from tests.credentials import credential_kinds

# --------------------------------------------------------------------------- #
# Fresh
# --------------------------------------------------------------------------- #


def test_the_committed_document_is_up_to_date():
    committed = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
    assert committed == render(), (
        f"docs/ESTATE.md is stale: core/live_estate.py changed. Run `{REGENERATE}` "
        "(or `make docs`) from the repository root and commit the result."
    )


def test_check_passes_on_a_fresh_file_and_write_makes_one(tmp_path, capsys):
    target = tmp_path / "docs" / "ESTATE.md"
    # GIVEN no file: --check fails (exit 1) and says how to make one
    assert live_estate_docs.main(["--check", "--file", str(target)]) == EXIT_STALE
    assert REGENERATE in capsys.readouterr().out
    # WHEN --write writes it THEN --check passes
    assert live_estate_docs.main(["--write", "--file", str(target)]) == EXIT_OK
    assert target.read_text(encoding="utf-8") == render()
    assert live_estate_docs.main(["--check", "--file", str(target)]) == EXIT_OK


def test_check_fails_on_a_stale_file_and_shows_the_difference(tmp_path, capsys):
    # GIVEN a document whose cluster name is not the record's
    stale = tmp_path / "ESTATE.md"
    stale.write_text(
        render().replace("| `name` | `hokusai-development` |", "| `name` | `hokusai-dev` |"), encoding="utf-8"
    )
    # THEN --check exits 1, naming the fix and the changed row
    assert live_estate_docs.main(["--check", "--file", str(stale)]) == EXIT_STALE
    out = capsys.readouterr().out
    assert "is stale: 2 lines differ" in out and REGENERATE in out
    assert "+| `name` | `hokusai-development` |" in out


def test_check_that_cannot_read_the_file_exits_2(tmp_path, capsys):
    # A directory where the file should be: nothing to compare, so "cannot check", not "stale".
    assert live_estate_docs.main(["--check", "--file", str(tmp_path)]) == EXIT_CANNOT_CHECK
    assert "cannot check" in capsys.readouterr().err


def test_write_that_cannot_write_exits_2(tmp_path, capsys):
    blocker = tmp_path / "docs"
    blocker.write_text("a file where the directory should be", encoding="utf-8")
    assert live_estate_docs.main(["--write", "--file", str(blocker / "ESTATE.md")]) == EXIT_CANNOT_CHECK
    assert "cannot write" in capsys.readouterr().err


def test_without_a_mode_it_prints_the_document(capsys):
    assert live_estate_docs.main([]) == EXIT_OK
    assert capsys.readouterr().out == render()


# --------------------------------------------------------------------------- #
# The document shows the whole record
# --------------------------------------------------------------------------- #


def test_every_fact_is_shown_with_every_citation():
    text = render()
    for path, fact in facts(LIVE):
        for citation in fact.sources:
            assert citation_text(citation) in text, f"{path}: {citation} is not shown"


def test_every_entry_of_every_subject_has_a_row_under_its_heading():
    text = render()
    for heading, root, node in live_estate_docs.subjects(LIVE):
        section = text.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]
        for path, _ in entries(node, root):
            assert f"| `{path.removeprefix(root + '.')}` |" in section, path


def test_every_placeholder_has_a_section_with_how_to_find_it():
    text = render()
    for path, placeholder in placeholders(LIVE):
        assert f"### `{path}`" in text
        assert placeholder.how_to_find in text


def test_every_difference_and_disagreement_is_shown_with_its_reason():
    text = render()
    for difference in LIVE.differences:
        assert f"### {difference.subject}" in text
        assert live_estate_docs._text(difference.why) in text
    for disagreement in LIVE.disagreements:
        assert live_estate_docs._text(disagreement.verdict) in text


def _github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to -."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def test_every_link_inside_the_document_reaches_a_heading():
    text = render()
    anchors = {_github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    targets = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert targets, "the document links nothing"
    assert targets - anchors == set()


def test_a_placeholder_whose_section_is_missing_is_a_dangling_link():
    # The link check can fail: a placeholder anchor the placeholders section does not define.
    text = render().replace("### `cloud_map.namespace_id`", "### cloud map namespace")
    anchors = {_github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    assert "cloud_mapnamespace_id" in set(re.findall(r"\]\(#([^)]+)\)", text)) - anchors


def test_the_document_holds_no_credential():
    text = render()
    assert credential_kinds(text) == []


def test_a_statement_is_prose_and_an_identifier_is_code():
    assert live_estate_docs.value_text("hokusai-development") == "`hokusai-development`"
    assert live_estate_docs.value_text("used as given") == "used as given"
    assert live_estate_docs.value_text(("a", 1)) == "`a`, 1"
    assert live_estate_docs.value_text(()) == "none"
    assert live_estate_docs.value_text(True) == "yes"
    # Not a tag GitHub would hide, and not a cell break.
    assert live_estate_docs.value_text("x <y> | z") == "x &lt;y&gt; \\| z"


def test_a_placeholder_in_place_of_a_fact_reads_unknown_and_links_its_section():
    estate = replace(
        LIVE, cluster=replace(LIVE.cluster, name=Placeholder("the cluster", "why", "aws ecs list-clusters"))
    )
    text = render(estate)
    assert "| `name` | [*unknown*](#clustername) | – | the cluster |" in text
    assert "### `cluster.name`" in text
    assert isinstance(LIVE.cluster.name, Fact)
