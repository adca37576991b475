"""`make diagram` and the PR's picture (synth/diagram.py), and docs/ARCHITECTURE.md
(synth/architecture_doc.py): written from the render, checked for staleness, drawn with
Graphviz where it is installed, and the base of a PR rendered with its own program."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.architecture import Architecture
from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, EXIT_STALE
from synth import architecture_doc, diagram
from synth.pictures import picture_of_run, stack_names
from tests import tiers
from tests.helpers import PROJECT_DIR, STACKS, reads_config, rendered
from tests.test_architecture import mermaid_problems

DOT_INSTALLED = shutil.which("dot") is not None


# --------------------------------------------------------------------------- #
# docs/ARCHITECTURE.md
# --------------------------------------------------------------------------- #


@reads_config
@tiers.renders
def test_the_committed_architecture_doc_is_what_the_render_draws():
    code, lines = architecture_doc.DOC.check(architecture_doc.DOC.path, architecture_doc.DOC.render())
    assert code == EXIT_OK, "\n".join(lines)


@reads_config
@tiers.renders
def test_the_doc_has_one_well_formed_picture_per_stack_file():
    text = architecture_doc.DOC.render()
    assert stack_names() == list(STACKS)
    for stack in STACKS:
        assert f"\n## {stack}\n\n```mermaid\nflowchart LR\n" in text
    pictures = text.split("```mermaid\n")[1:]
    assert len(pictures) == len(STACKS)
    for picture in pictures:
        assert mermaid_problems(picture.split("```", 1)[0]) == []


@pytest.mark.parametrize(
    "prepare, code, said",
    [
        (lambda path: path.write_text("# The estate, drawn\n\nan old picture\n"), EXIT_STALE, "is stale"),
        (lambda path: None, EXIT_STALE, "does not exist"),
        (lambda path: path.mkdir(), EXIT_CANNOT_CHECK, "cannot check"),
    ],
    ids=["stale", "missing", "unreadable"],
)
@tiers.renders
def test_check_says_stale_missing_or_cannot_check_with_the_fix(tmp_path, capsys, prepare, code, said):
    doc = tmp_path / "ARCHITECTURE.md"
    prepare(doc)
    assert architecture_doc.main(["--check", "--file", str(doc)]) == code
    captured = capsys.readouterr()
    assert said in captured.out + captured.err
    if code == EXIT_STALE:
        assert "fix: make docs" in captured.out


def test_a_stack_that_cannot_be_rendered_is_exit_2_without_a_traceback(monkeypatch, capsys):
    def broken() -> list[str]:
        raise diagram.StackFileError("Pulumi.broken.yaml is not valid YAML")

    monkeypatch.setattr(architecture_doc, "stack_names", lambda: ["broken"])
    monkeypatch.setattr(architecture_doc, "picture_of_stack", lambda stack: broken())
    assert architecture_doc.main(["--check"]) == EXIT_CANNOT_CHECK
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "Traceback" not in err


# --------------------------------------------------------------------------- #
# make diagram: the doc, the DOT, and SVG/PNG where Graphviz is
# --------------------------------------------------------------------------- #


@pytest.mark.skipif(not DOT_INSTALLED, reason="Graphviz's dot is not installed (apt-get install graphviz)")
@tiers.renders
def test_make_diagram_writes_the_doc_and_each_stacks_dot_svg_and_png(tmp_path):
    doc = tmp_path / "ARCHITECTURE.md"
    written = diagram.draw(tmp_path / "build", doc=doc)
    assert doc.read_text() == architecture_doc.DOC.render()
    for stack in STACKS:
        base = tmp_path / "build" / f"architecture-{stack}"
        assert base.with_suffix(".dot").read_text().startswith(f'digraph "{stack}"')
        assert base.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in base.with_suffix(".svg").read_bytes()[:1000]
    assert len(written) == 1 + 3 * len(STACKS)


@tiers.renders
def test_without_graphviz_the_images_are_skipped_saying_how_to_get_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    written = diagram.draw(tmp_path / "build", doc=tmp_path / "ARCHITECTURE.md")
    assert not list((tmp_path / "build").glob("*.png")) and not list((tmp_path / "build").glob("*.svg"))
    assert len(written) == 1 + len(STACKS)  # the doc and the .dot files
    err = capsys.readouterr().err
    assert "`dot` is not installed" in err and "apt-get install graphviz" in err


@tiers.renders
def test_a_failing_dot_is_exit_2_naming_it(tmp_path, monkeypatch, capsys):
    fake_dot = tmp_path / "dot"
    fake_dot.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    fake_dot.chmod(0o755)
    monkeypatch.setattr(diagram.shutil, "which", lambda name: str(fake_dot))
    with pytest.raises(diagram.CannotDraw, match="syntax error in line 1"):
        diagram.draw(tmp_path / "build", doc=tmp_path / "ARCHITECTURE.md")

    # ... which the command line turns into exit 2 with the reason (draw stubbed: main writes the real doc).
    def failing(out: Path) -> list[str]:
        raise diagram.CannotDraw("dot -Tsvg failed: syntax error in line 1")

    monkeypatch.setattr(diagram, "draw", failing)
    assert diagram.main(["--out", str(tmp_path / "build")]) == EXIT_CANNOT_CHECK
    err = capsys.readouterr().err
    assert "syntax error in line 1" in err and "Traceback" not in err


# --------------------------------------------------------------------------- #
# --base: the PR's picture
# --------------------------------------------------------------------------- #


def _repository_copy(tmp_path: Path) -> Path:
    """This checkout's files, committed in a scratch git repository (nothing of the real one is touched)."""
    copy = tmp_path / "repository"
    shutil.copytree(
        PROJECT_DIR,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "__pycache__", ".pytest_cache", ".hypothesis"),
        symlinks=True,
    )
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base"],
    ):
        subprocess.run(command, cwd=copy, check=True, capture_output=True, timeout=60)
    return copy


@reads_config
@tiers.process
def test_the_base_is_rendered_by_its_own_commit_and_draws_what_the_checkout_does(tmp_path):
    copy = _repository_copy(tmp_path)
    stack = STACKS[0]
    # A change in the work tree is not the base: only the commit is.
    (copy / f"Pulumi.{stack}.yaml").write_text("config: {broken\n")
    base = diagram.base_picture("HEAD", stack, repository=copy)
    assert base == picture_of_run(stack, rendered(stack))


@tiers.process
def test_a_stack_the_base_does_not_have_is_all_new(tmp_path):
    copy = _repository_copy(tmp_path)
    assert diagram.base_picture("HEAD", "no-such-stack", repository=copy) == Architecture("no-such-stack", (), ())


@tiers.process
def test_a_ref_git_does_not_know_is_named_with_the_fix(tmp_path):
    with pytest.raises(diagram.CannotDraw, match="git does not know 'no-such-branch'.*origin/main"):
        diagram.base_picture("no-such-branch", STACKS[0])


def test_the_pr_picture_is_printed_only_when_the_shape_changes(monkeypatch, capsys):
    stack = STACKS[0]
    head = picture_of_run(stack, rendered(stack))
    monkeypatch.setattr(diagram, "picture_of_stack", lambda name: head)
    # Unchanged: nothing on stdout (nothing to comment), the reason on stderr.
    monkeypatch.setattr(diagram, "base_picture", lambda ref, name: head)
    assert diagram.main(["--base", "origin/main", "--stack", stack]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == "" and "does not change against origin/main" in captured.err
    # A service fewer in the base: the head's picture, the service marked added.
    fewer = Architecture(stack, tuple(n for n in head.nodes if n.kind.value == "host"), ())
    monkeypatch.setattr(diagram, "base_picture", lambda ref, name: fewer)
    assert diagram.main(["--base", "origin/main", "--stack", stack]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"### The estate's shape changes: {stack}\n") and "```mermaid\n" in out
    assert "classDef added" in out and "- added service " in out


@tiers.process
def test_a_bad_ref_is_exit_2_without_a_traceback(capsys):
    assert diagram.main(["--base", "no-such-branch", "--stack", STACKS[0]]) == EXIT_CANNOT_CHECK
    err = capsys.readouterr().err
    assert "git does not know" in err and "Traceback" not in err
