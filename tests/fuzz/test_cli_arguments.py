"""Fuzz: the command-line arguments of every tool.

Random argument lists, built from each tool's own options, values that have broken tools
before (stack names that are paths, /dev/zero, a FIFO, a directory, a file of garbage) and
random words: every tool exits 0, 1 or 2, without a traceback, within seconds. The tools
run in a scratch directory with their default output files pointed into it, AWS at a port
on 127.0.0.1 that refuses connections, and no Pulumi CLI: nothing outside is touched.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import live_estate_docs, workflow_choices
from core.settings import docs as settings_docs
from ops import appcheck, envcheck, envdoc
from ops import verify as verify_tool
from ops.aws import Aws
from synth import diff as diff_tool
from synth import fake_estate, import_diff, import_plan, program, render
from tests import tiers
from tests.fuzz import nasty
from tests.fuzz.harness import fifo, fuzz_settings, refusing_port, run_main

pytestmark = tiers.fuzz

# Each tool's command line: positional value pools, and option -> value pool (None: a flag).
Pool = list[str]
STACKS: Pool = [
    "development",
    "Development",
    "staging",
    "../development",
    "development/../development",
    "org/project/development",
    "..",
    ".",
    "",
    "-",
    "x" * 300,
    "development\n",
    "é",
]
SERVICES: Pool = ["api", "mlflow", "nope", "", "API", "../api"]
# Files the arguments may name, made in the scratch directory (names relative to it).
PATHS: Pool = [
    "missing",
    "directory",
    "fifo",
    "/dev/zero",
    "/dev/null",
    "empty",
    "garbage",
    "utf16",
    "large",
    "outputs.json",
    ".env.example",
    "src",
    "empty/under-a-file",
    "",
    "-",
    ".",
]
WORDS: Pool = ["--", "-", "-h", "--help", "--stack=development", "--stack=../development", "\t", "0"]


@dataclass(frozen=True)
class Command:
    main: Callable[[list[str]], int]
    options: dict[str, Pool | None]
    positionals: tuple[Pool, ...] = ()


DOC_OPTIONS: dict[str, Pool | None] = {"--write": None, "--check": None, "--file": PATHS}
TOOLS: dict[str, Command] = {
    "synth.render": Command(render.main, {"--stack": STACKS, "--out": PATHS, "--json": None}),
    "synth.import_plan": Command(import_plan.main, {"--stack": STACKS, "--out": PATHS, "--json": None}),
    "synth.import_diff": Command(import_diff.main, {"--stack": STACKS, "--json": None}),
    "ops.verify": Command(
        verify_tool.main,
        {"--stack": STACKS, "--outputs": PATHS, "--service": SERVICES, "--logs": None, "--json": None},
    ),
    "ops.envcheck": Command(
        envcheck.main, {"--service": SERVICES, "--stack": STACKS, "--json": None}, positionals=(PATHS,)
    ),
    "ops.appcheck": Command(
        appcheck.main,
        {"--service": SERVICES, "--stack": STACKS, "--include-tests": None, "--json": None},
        positionals=(PATHS,),
    ),
    "ops.envdoc": Command(envdoc.main, {**DOC_OPTIONS, "--json": None}),
    "core.settings.docs": Command(settings_docs.main, DOC_OPTIONS),
    "core.live_estate_docs": Command(live_estate_docs.main, DOC_OPTIONS),
    "core.workflow_choices": Command(workflow_choices.main, {"--check": None, "--write": None}),
    "synth.fake_estate seed": Command(
        fake_estate.main, {"--stack": STACKS, "--outputs": PATHS}, positionals=(["seed"],)
    ),
    "synth.fake_estate break": Command(
        fake_estate.main, {"--outputs": PATHS}, positionals=(["break"], [*fake_estate.FAILURES, "nope"])
    ),
    "synth.fake_estate list": Command(fake_estate.main, {}, positionals=(["list"],)),
    # In the scratch directory, which is no git checkout: every well-formed case stops at the
    # base (exit 2) before rendering anything; the arguments are what is fuzzed here.
    "synth.diff": Command(
        lambda argv: diff_tool.main(argv, project_dir=Path.cwd()),
        {
            "--stack": STACKS,
            "--base": ["HEAD", "main", "-x", "--upload-pack=touch", "", "HEAD^1"],
            "--format": ["text", "markdown", "html", ""],
        },
    ),
}

MAINS = {name.split()[0]: command.main for name, command in TOOLS.items()}


@pytest.fixture(scope="module")
def rendered_development():
    """The development stack rendered once: a case that renders it reuses this (the
    arguments are what is fuzzed here; the render itself has its own tests)."""
    runs = {}
    real = program.run_stack

    def run_stack(stack):
        if stack not in runs:
            runs[stack] = real(stack)
        return runs[stack]

    return run_stack


@pytest.fixture
def scratch(tmp_path, monkeypatch, aws_env, boto_session, dev_run, rendered_development):
    (tmp_path / "directory").mkdir()
    fifo(str(tmp_path / "fifo"))
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "garbage").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "utf16").write_bytes(nasty.ENV_EXAMPLE.decode().encode("utf-16"))
    (tmp_path / "large").write_bytes(b"#" * (2 * 1024 * 1024))
    (tmp_path / "outputs.json").write_text(json.dumps({"estate": dev_run.outputs}))
    (tmp_path / ".env.example").write_bytes(nasty.ENV_EXAMPLE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "settings.py").write_text("import os\nTOKEN = os.environ['HUGGINGFACE_API_KEY']\n")
    monkeypatch.chdir(tmp_path)
    # Default outputs land in the scratch directory, never in the repository.
    monkeypatch.setattr(render, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(import_plan, "PROJECT_DIR", tmp_path)
    for module in (envdoc, settings_docs, live_estate_docs):
        path = tmp_path / f"{module.__name__}.md"
        monkeypatch.setattr(module, "DOC_PATH", path)
        monkeypatch.setattr(module, "DOC", dataclasses.replace(module.DOC, path=path))
    # --write rewrites a copy of the workflows, never the repository's.
    workflows = tmp_path / "workflows"
    shutil.copytree(workflow_choices.WORKFLOWS_DIR, workflows)
    monkeypatch.setattr(workflow_choices, "WORKFLOWS_DIR", workflows)
    monkeypatch.setattr(render, "run_stack", rendered_development)
    monkeypatch.setattr(import_plan, "run_stack", rendered_development)
    monkeypatch.setattr(fake_estate, "run_stack", rendered_development)
    monkeypatch.setattr(verify_tool, "Aws", lambda region=None: Aws(region=region, session=boto_session))
    # boto3's own Session: synth.fake_estate imports boto3 where it makes one.
    monkeypatch.setattr("boto3.Session", lambda **_: boto_session)
    monkeypatch.setattr("ops.outputs.shutil.which", lambda name: None)
    with refusing_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        yield tmp_path


# Random words: no NUL (no operating system passes one in argv) and no '/' (a random
# absolute path given to --out or --file would be written to).
random_words = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00/"), max_size=20)


@st.composite
def command_lines(draw, command: Command) -> list[str]:
    """Mostly what the tool accepts (so the values reach its code), sometimes not."""

    def value(pool: Pool) -> str:
        return draw(st.one_of(st.sampled_from(pool), random_words) if draw(st.integers(0, 4)) else random_words)

    argv = [value(pool) for pool in command.positionals]
    for option in draw(st.lists(st.sampled_from(sorted(command.options)), unique=True)) if command.options else []:
        pool = command.options[option]
        argv += [option] if pool is None else [option, value(pool)]
    if draw(st.integers(0, 3)) == 0:  # something argparse must refuse, somewhere
        argv.insert(draw(st.integers(0, len(argv))), draw(st.one_of(st.sampled_from(WORDS), random_words)))
    return argv


@pytest.mark.parametrize("name", list(TOOLS))
@fuzz_settings(150)
@given(data=st.data())
def test_any_arguments_exit_0_1_or_2_without_a_traceback(scratch, name, data):
    command = TOOLS[name]
    run_main(f"cli {name}", command.main, data.draw(command_lines(command), label="argv"))


@pytest.mark.parametrize(
    ("name", "argv", "said"),
    [
        ("synth.render", ["--stack", "../development"], "is not a stack name"),
        ("synth.render", ["--stack", "development", "--out", "directory"], "is a directory"),
        ("synth.render", ["--stack", "development", "--out", "fifo"], "a pipe that no process reads"),
        ("synth.render", ["--stack", "development", "--out", "empty/under-a-file"], "cannot write"),
        ("synth.import_plan", ["--stack", "../development"], "is not a stack name"),
        ("synth.import_plan", ["--stack", "development", "--out", "fifo"], "a pipe that no process reads"),
        ("synth.import_diff", ["--stack", "org/project/development"], "is not a stack name"),
        ("ops.verify", ["--stack", "../development", "--outputs", "outputs.json"], "is not a stack name"),
        ("ops.verify", ["--stack", "development", "--outputs", "/dev/zero"], "is not a regular file"),
        ("ops.verify", ["--stack", "development", "--outputs", "fifo"], "is not a regular file"),
        ("ops.verify", ["--stack", "development", "--outputs", "large"], "is larger than"),
        ("ops.verify", ["--stack", "development"], "the Pulumi CLI is not installed"),
        ("ops.envcheck", ["/dev/zero"], "is not a regular file"),
        ("ops.envcheck", ["fifo"], "is not a regular file"),
        ("ops.envcheck", ["large"], "is larger than"),
        ("ops.envcheck", [".env.example", "--stack", "org/project/development"], "after the last '/'"),
        ("ops.appcheck", ["src", "--stack", "../development"], "is not a stack name"),
        ("ops.envdoc", ["--check", "--file", "/dev/zero"], "is not a regular file"),
        ("ops.envdoc", ["--write", "--file", "fifo"], "a pipe that no process reads"),
        ("core.settings.docs", ["--check", "--file", "fifo"], "is not a regular file"),
        ("core.settings.docs", ["--write", "--file", "directory"], "is a directory"),
        ("core.live_estate_docs", ["--check", "--file", "large"], "is larger than"),
        ("synth.fake_estate", ["seed", "--stack", "../development", "--outputs", "x.json"], "is not a stack name"),
        ("synth.fake_estate", ["break", "secret-deleted", "--outputs", "garbage"], "is not UTF-8"),
        ("synth.fake_estate", ["break", "secret-deleted", "--outputs", "empty"], "is not JSON"),
        ("synth.fake_estate", ["seed", "--stack", "development", "--outputs", "x.json"], "AWS endpoint failed"),
        ("synth.fake_estate", ["break", "secret-deleted", "--outputs", "outputs.json"], "AWS endpoint failed"),
        ("synth.diff", ["--stack", "../development"], "is not a stack name"),
        ("synth.diff", ["--stack", "development", "--base=-x"], "is not a git checkout"),
    ],
)
def test_a_value_that_reaches_the_code_is_checked_there_with_a_clear_message(scratch, name, argv, said):
    outcome = run_main(f"cli {name}", MAINS[name], argv)
    assert outcome.code == 2 and said in outcome.err, outcome.err
    assert outcome.seconds < 5


def test_a_doc_far_from_the_generated_one_is_stale_without_a_quadratic_diff(scratch):
    Path("blank-lines.md").write_text("\n" * 500_000)
    outcome = run_main("cli core.settings.docs", settings_docs.main, ["--check", "--file", "blank-lines.md"])
    assert outcome.code == 1 and "not diffed" in outcome.out
    assert outcome.seconds < 2
