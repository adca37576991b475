"""RUNBOOK.md must not go stale: everything it tells on-call to run or look for must exist.

Each rule is a small pure function from texts to a list of problems, so a test
can feed it a deliberately wrong runbook and watch it complain (the
`test_checker_*` tests), and the real tests feed it the real RUNBOOK.md.

What is checked, and against what:
  - `make <target> VAR=...`              -> the Makefile's targets and variables
  - `python -m <module>`                 -> an importable module of this repository
  - verify / smoke / envcheck check ids  -> the ids the tools can emit (read from their source)
  - `synth.fake_estate break <failure>`  -> synth.fake_estate.FAILURES (and every failure is practised)
  - failure-mode headings                -> REQUIRED_SECTIONS, each with Symptom / Confirm / Fix / Roll back
  - the symptom index at the top         -> a row for every failure-mode section, confirmed by a make target,
                                           fixed by a link to that section ("HuggingFace token not configured":
                                           one row, one jump)
  - `runbook: ... "<heading>"` in code   -> a heading of RUNBOOK.md
  - `](#anchor)` links                   -> a heading's GitHub anchor
  - `hokusai-...development...` names    -> a physical name in the rendered development stack
  - every alarm of every service of every stack file -> a row for its kind in the alarm table
  - `hokusai/development/...` secrets    -> the contract's conventional secret names; the secret
                                           of the incident is named, the rest are in docs/ENVIRONMENT.md
  - nothing that looks like a real credential.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from core import naming
from core.contract import CONTRACTS
from ops.smoke import CHECKS as SMOKE_CHECKS
from synth.fake_estate import FAILURES
from tests.helpers import INCIDENT, INCIDENT_SERVICE, STACKS, rendered, stack_settings

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "RUNBOOK.md"
MAKEFILE = ROOT / "Makefile"
VERIFY_CHECKS_SOURCE = ROOT / "ops" / "verify_checks.py"
ENVCHECK_SOURCE = ROOT / "ops" / "envcheck.py"
# The on-call views (make stopped-tasks, make task-env) print rows of their own too.
VIEW_SOURCES = (ROOT / "ops" / "stopped_tasks.py", ROOT / "ops" / "task_env.py")
# The stack the runbook is written for (it was written after the incident of INCIDENT_SERVICE).
STACK = "development"

# The failure modes of the incident write-ups (the list), as exact headings.
REQUIRED_SECTIONS = (
    "Required secret missing from the task definition",
    "Secret exists but has no value, or is scheduled for deletion",
    "valueFrom points at the wrong secret",
    "Execution role cannot read a secret",
    "Redis rule missing: auth cache unreachable",
    "Service on a stale task-definition revision",
    "A revision deployed by hand",
    "A deployment rolled back",
    "Running fewer tasks than desired",
    "Targets unhealthy, health check changed, or requests time out at the ALB",
    "Plaintext secret in the environment",
    "Metric filter or alarm missing",
    "Drift reported by the scheduled drift workflow",
    "Stack config rejected at preview",
    "envcheck gap before a deploy",
    "A deploy run cancelled while waiting",
    "An image deploy failed",
)
# Sections on-call needs that are not failure modes.
REQUIRED_HEADINGS = REQUIRED_SECTIONS + (
    "Symptom index",
    "First five minutes",
    "Rolling back",
    "The workflows: deploy, redeploy, deploy-image, repair",
    "Practising on a fake estate",
)
SECTION_PARTS = ("Symptom", "Confirm", "Fix", "Roll back")

# Anything shaped like a real key: Hokusai API keys, Hugging Face tokens, AWS access key ids.
CREDENTIAL = re.compile(r"hk_(live|test)_[A-Za-z0-9]{12,}|hf_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}")


# --------------------------------------------------------------------------- #
# Reading the texts
# --------------------------------------------------------------------------- #


def code_text(markdown: str) -> str:
    """The runbook's code only (fenced blocks and inline spans): where commands live.
    Prose like "make sure" is not a command."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    without_fences = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.M | re.S)
    inline = re.findall(r"`([^`\n]+)`", without_fences)
    return "\n".join(fenced + inline)


def headings(markdown: str) -> list[str]:
    without_fences = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.M | re.S)
    return [h.strip() for h in re.findall(r"^#{1,6} (.+)$", without_fences, flags=re.M)]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def section_body(markdown: str, heading: str) -> str:
    """The text under `## heading` up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", markdown, flags=re.M)
    if not match:
        return ""
    level = len(match.group(1))
    rest = markdown[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[: end.start()] if end else rest


def makefile_targets(makefile: str) -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9_-]*):(?!=)", makefile, flags=re.M))


def makefile_variables(makefile: str) -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*[?:+]?=", makefile, flags=re.M))


def tool_check_ids(source: str, kinds: tuple[str, ...] = ("ok", "fail", "warn")) -> set[str]:
    """Check ids a tool emits: the first argument of its ok(...)/fail(...)/warn(...) calls."""
    return set(re.findall(rf"\b(?:{'|'.join(kinds)})\(\s*\"([^\"]+)\"", source))


def all_check_ids() -> set[str]:
    return (
        tool_check_ids(VERIFY_CHECKS_SOURCE.read_text())
        | tool_check_ids(ENVCHECK_SOURCE.read_text())
        | set().union(*(tool_check_ids(p.read_text()) for p in VIEW_SOURCES))
        | set(SMOKE_CHECKS)
    )


def rendered_names(stack: str = STACK) -> set[str]:
    """Every physical name (`name` input) in the rendered stack."""
    return {r.inputs["name"] for r in rendered(stack).resources if isinstance(r.inputs.get("name"), str)}


def alarm_kinds() -> dict[str, set[str]]:
    """Every alarm of every service of every stack file, by its kind: the name after
    `hokusai-<service>-<stack>-` (`huggingface-token`, `running-below-desired`, ...)."""
    kinds: dict[str, set[str]] = {}
    for stack in STACKS:
        for service in rendered(stack).outputs["services"]:
            prefix = naming.service_name(service["key"], stack) + "-"
            for name in service["alarm_names"]:
                assert name.startswith(prefix), name
                kinds.setdefault(name.removeprefix(prefix), set()).add(name)
    return kinds


def alarm_table_kinds(runbook: str, stack: str = STACK) -> set[str]:
    """The kinds the runbook's alarm table (`| alarm | fires when | section |`) has a row for."""
    lines = runbook.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\|\s*alarm\s*\|\s*fires when\s*\|", line))
    kinds = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name = re.match(r"\|\s*`([^`]+)`", line)
        for key in CONTRACTS:
            prefix = naming.service_name(key, stack) + "-"
            if name and name.group(1).startswith(prefix):
                kinds.add(name.group(1).removeprefix(prefix))
    return kinds


# --------------------------------------------------------------------------- #
# The rules: text in, problems out
# --------------------------------------------------------------------------- #


def unknown_make_invocations(runbook: str, makefile: str) -> list[str]:
    """`make <target> [VAR=value ...]` whose target or variable the Makefile lacks."""
    targets, variables = makefile_targets(makefile), makefile_variables(makefile)
    problems = []
    for target, assignments in re.findall(
        r"(?<![\w-])make[ \t]+([a-z][a-z0-9_-]*)((?:[ \t]+[A-Z][A-Z0-9_]*=\S*)*)", code_text(runbook)
    ):
        if target not in targets:
            problems.append(f"make {target}: no such target")
        for variable in re.findall(r"([A-Z][A-Z0-9_]*)=", assignments):
            if variable not in variables:
                problems.append(f"make {target} {variable}=...: the Makefile has no variable {variable}")
    return sorted(set(problems))


def unknown_python_modules(runbook: str) -> list[str]:
    modules = set(re.findall(r"python3?[ \t]+-m[ \t]+([A-Za-z_][\w.]*)", code_text(runbook)))
    return sorted(
        m for m in modules if m.split(".")[0] not in ("pytest", "pip") and importlib.util.find_spec(m) is None
    )


def unknown_check_ids(runbook: str, known: set[str]) -> list[str]:
    """Backticked `prefix.name` whose prefix is a tool's (taskdef., lb., env. ...) but that no tool emits."""
    prefixes = {k.split(".", 1)[0] for k in known if "." in k}
    candidates = re.findall(r"`([a-z][a-z0-9]*\.[a-z][a-z0-9_-]*)`", runbook)
    return sorted({c for c in candidates if c.split(".", 1)[0] in prefixes and c not in known})


def uncovered_check_ids(runbook: str, ids: set[str]) -> list[str]:
    """Check ids that the runbook never names (backticked), so on-call cannot look them up."""
    return sorted(i for i in ids if f"`{i}`" not in runbook)


def fake_failures_named(runbook: str) -> set[str]:
    """Failures the runbook injects: `make break FAILURE=<name>`, or `break <name>` for short."""
    return set(re.findall(r"(?<![\w-])break[ \t]+(?:FAILURE=)?([a-z][a-z0-9-]*)", code_text(runbook)))


def unknown_fake_failures(runbook: str, failures: set[str]) -> list[str]:
    return sorted(fake_failures_named(runbook) - failures)


def missing_headings(runbook: str, required: tuple[str, ...]) -> list[str]:
    present = set(headings(runbook))
    return [h for h in required if h not in present]


def incomplete_sections(runbook: str, sections: tuple[str, ...]) -> list[str]:
    problems = []
    for heading in sections:
        body = section_body(runbook, heading)
        for part in SECTION_PARTS:
            if not re.search(rf"\*\*{part}\b", body):
                problems.append(f"{heading}: no **{part}**")
    return problems


def broken_anchors(runbook: str) -> list[str]:
    anchors = {anchor(h) for h in headings(runbook)}
    return sorted({a for a in re.findall(r"\]\(#([^)]+)\)", runbook) if a not in anchors})


def runbook_references_in_code(sources: list[str]) -> set[str]:
    """Headings the tools' messages send on-call to: `runbook: ... "<heading>"` (quotes escaped or not)."""
    found: set[str] = set()
    for source in sources:
        for match in re.finditer(r'runbook:[^"\n]{0,40}?\\?"([^"\\\n]+)\\?"', source):
            found.add(match.group(1))
    return found


def unknown_estate_names(runbook: str, names: set[str], stack: str = STACK) -> list[str]:
    """Physical names of this stack (`hokusai-development...`, `hokusai-<service>-development...` for each
    service it deploys) that its rendering does not have: a typo here sends on-call to a resource that
    does not exist. (A service of the live estate the stack does not deploy yet is not the stack's.)"""
    found = set()
    services = "|".join(re.escape(service.key) for service in stack_settings(stack).services)
    for token in re.findall(rf"hokusai-(?:(?:{services})-)?{re.escape(stack)}[A-Za-z0-9.-]*", runbook):
        found.add(token.rstrip(".-"))
    return sorted(found - names)


def unknown_secret_names(runbook: str, stack: str = STACK) -> list[str]:
    known = {s.secret_name_for(stack) for c in CONTRACTS.values() for s in c.secrets}
    named = set(re.findall(rf"hokusai/{stack}/[a-z0-9/_-]*[a-z0-9]", runbook))
    return sorted(named - known)


def credential_like(text: str) -> list[str]:
    return [m.group(0)[:8] + "..." for m in CREDENTIAL.finditer(text)]


def failure_mode_sections(runbook: str) -> list[str]:
    """Every `## ` section that describes a failure (it has a **Symptom**), in order."""
    return [
        h
        for h in re.findall(r"^## (.+)$", runbook, flags=re.M)
        if re.search(r"\*\*Symptom\b", section_body(runbook, h))
    ]


def index_rows(runbook: str) -> list[tuple[str, str, str]]:
    """(symptom, confirm, fix) of each row of the table under `## Symptom index`."""
    rows = []
    for line in section_body(runbook, "Symptom index").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 3 and cells[0] not in ("symptom", "---"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def index_problems(runbook: str, makefile: str, sections: tuple[str, ...]) -> list[str]:
    """The index is the runbook's first section, each row is confirmed by a make target that exists and
    fixed by a link to a heading, and every failure-mode section (those given, and every one with a
    **Symptom**) has a row that links to it."""
    problems = []
    level_two = re.findall(r"^## (.+)$", runbook, flags=re.M)
    if not level_two or level_two[0] != "Symptom index":
        problems.append("the symptom index is not the first section")
    rows = index_rows(runbook)
    linked: set[str] = set()
    targets = makefile_targets(makefile)
    for symptom, confirm, fix in rows:
        command = re.match(r"`make ([a-z][a-z0-9_-]*)[^`]*`", confirm)
        if command is None:
            problems.append(f"{symptom[:50]}: the confirming command is not a make target: {confirm[:60]}")
        elif command.group(1) not in targets:
            problems.append(f"{symptom[:50]}: make {command.group(1)}: no such target")
        anchors = re.findall(r"\]\(#([^)]+)\)", fix)
        if not anchors:
            problems.append(f"{symptom[:50]}: the fix is not a link to its section")
        linked.update(anchors)
    for heading in dict.fromkeys([*sections, *failure_mode_sections(runbook)]):
        if anchor(heading) not in linked:
            problems.append(f"{heading}: no row of the symptom index links to it")
    return problems


def first_jump(runbook: str, message: str) -> tuple[str, str] | None:
    """(confirm, fix) of the index row whose symptom quotes `message`, if there is one."""
    return next(((confirm, fix) for symptom, confirm, fix in index_rows(runbook) if message in symptom), None)


# --------------------------------------------------------------------------- #
# The runbook as it is
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def runbook() -> str:
    return RUNBOOK.read_text()


def test_every_make_target_and_variable_exists(runbook):
    assert unknown_make_invocations(runbook, MAKEFILE.read_text()) == []


def test_runbook_uses_the_on_call_make_targets(runbook):
    used = set(re.findall(r"(?<![\w-])make[ \t]+([a-z][a-z0-9_-]*)", code_text(runbook)))
    assert {"verify", "smoke", "fake-estate", "drift", "envcheck"} <= used


def test_every_python_module_exists(runbook):
    assert unknown_python_modules(runbook) == []


def test_every_check_id_mentioned_exists(runbook):
    assert unknown_check_ids(runbook, all_check_ids()) == []


def test_every_verify_check_is_covered(runbook):
    """Every id verify can print (FAIL and warn rows, and the ok-only ones) has a place in the runbook."""
    ids = tool_check_ids(VERIFY_CHECKS_SOURCE.read_text())
    assert {"taskdef.secret", "dependency.access", "service.rollout"} <= ids  # the extraction found them at all
    assert uncovered_check_ids(runbook, ids) == []


def test_every_smoke_and_envcheck_check_is_covered(runbook):
    ids = set(SMOKE_CHECKS) | tool_check_ids(ENVCHECK_SOURCE.read_text())
    assert "env.missing" in ids
    assert uncovered_check_ids(runbook, ids) == []


def test_every_fake_failure_named_exists(runbook):
    assert unknown_fake_failures(runbook, set(FAILURES)) == []


def test_every_fake_failure_is_practised(runbook):
    assert sorted(set(FAILURES) - fake_failures_named(runbook)) == []


def test_every_required_heading_is_present(runbook):
    assert missing_headings(runbook, REQUIRED_HEADINGS) == []


def test_every_failure_mode_has_symptom_confirm_fix_and_roll_back(runbook):
    assert incomplete_sections(runbook, REQUIRED_SECTIONS) == []


def test_the_symptom_index_leads_to_every_failure_mode_through_a_make_target(runbook):
    assert len(index_rows(runbook)) >= len(REQUIRED_SECTIONS)  # the reader found the table at all
    assert index_problems(runbook, MAKEFILE.read_text(), REQUIRED_SECTIONS) == []


def test_the_incidents_message_is_one_jump_from_its_confirming_command(runbook):
    """On-call pastes the error the customer saw; its row says what to run and where the fix is."""
    jump = first_jump(runbook, INCIDENT.message)
    assert jump is not None, f"no index row quotes {INCIDENT.message!r}"
    confirm, fix = jump
    assert confirm.startswith("`make verify") and "`taskdef.secret`" in confirm
    assert f"(#{anchor('Required secret missing from the task definition')})" in fix


def test_every_heading_the_tools_point_at_exists(runbook):
    sources = [p.read_text() for layer in ("core", "ops", "infra") for p in sorted((ROOT / layer).rglob("*.py"))]
    referenced = runbook_references_in_code(sources)
    assert "A deployment rolled back" in referenced  # the deploy gate's and verify's pointer
    assert sorted(referenced - set(headings(runbook))) == []


def test_every_internal_link_resolves(runbook):
    assert broken_anchors(runbook) == []


def links_into(text: str, document: str) -> set[str]:
    """The anchors of `document` (README.md, RUNBOOK.md) that `text` links to."""
    return set(re.findall(rf"\]\({re.escape(document)}#([^)]+)\)", text))


def test_the_runbook_and_the_readme_link_to_each_others_headings():
    """Each says a thing once and links to the other for the rest: every such link must land."""
    runbook, readme = RUNBOOK.read_text(), (ROOT / "README.md").read_text()
    assert links_into(runbook, "README.md") and links_into(readme, "RUNBOOK.md")
    assert sorted(links_into(runbook, "README.md") - {anchor(h) for h in headings(readme)}) == []
    assert sorted(links_into(readme, "RUNBOOK.md") - {anchor(h) for h in headings(runbook)}) == []


def test_checker_reports_a_link_to_a_heading_of_the_other_document_that_is_gone():
    assert links_into("see [setup](README.md#real-use) and [x](RUNBOOK.md#y)", "README.md") == {"real-use"}


def test_the_runbooks_stack_is_a_stack_file():
    assert STACK in STACKS


def test_every_estate_name_is_real(runbook):
    assert unknown_estate_names(runbook, rendered_names()) == []


def test_every_kind_of_alarm_has_a_row_in_the_alarm_table(runbook):
    """Whatever service raises it, on-call finds what an alarm means by its kind."""
    kinds = alarm_kinds()
    assert kinds  # the extraction found alarms at all
    missing = {kind: sorted(names) for kind, names in kinds.items() if kind not in alarm_table_kinds(runbook)}
    assert missing == {}


def test_the_alarm_table_check_finds_a_kind_without_a_row(runbook):
    alarm = naming.alarm_name(INCIDENT_SERVICE, STACK, CONTRACTS[INCIDENT_SERVICE].error_signatures[0].key)
    kind = alarm.removeprefix(naming.service_name(INCIDENT_SERVICE, STACK) + "-")
    row = next(line for line in runbook.splitlines() if line.startswith(f"| `{alarm}`"))
    assert kind in alarm_table_kinds(runbook)
    assert kind not in alarm_table_kinds(runbook.replace(row + "\n", ""))


def test_every_secret_name_is_the_contracts(runbook):
    assert unknown_secret_names(runbook) == []


def test_the_secret_of_the_incident_is_named_and_every_other_is_a_link_away(runbook):
    """The runbook walks through the incident's secret; the full list per service is
    generated (docs/ENVIRONMENT.md), so a new contract secret needs no runbook edit."""
    incident = [
        CONTRACTS[INCIDENT_SERVICE].secret(s.missing_secret)
        for s in CONTRACTS[INCIDENT_SERVICE].error_signatures
        if s.missing_secret
    ]
    for secret in incident:
        assert secret.env_var in runbook and secret.secret_name_for(STACK) in runbook
    glance = section_body(runbook, "The estate at a glance")
    assert "(docs/ENVIRONMENT.md)" in glance


def test_runbook_holds_no_credential(runbook):
    assert credential_like(runbook) == []


def test_emergency_rollback_commands_are_spelled_out(runbook):
    rolling_back = section_body(runbook, "Rolling back")
    cluster, service = naming.cluster_name(STACK), naming.service_name(INCIDENT_SERVICE, STACK)
    for command in (
        f"aws ecs update-service --cluster {cluster} --service {service}",
        f"--task-definition {service}:<previous revision>",
        f"aws ecs list-task-definitions --family-prefix {service} --sort DESC --max-items 5",
        "git revert",
    ):
        assert command in rolling_back


# --------------------------------------------------------------------------- #
# The checkers can fail: each fed a runbook that is wrong on purpose
# --------------------------------------------------------------------------- #


def test_checker_reports_a_make_target_that_does_not_exist():
    stale = "Run `make nonexistent STACK=development` and `make verify URL=x`; make sure prose is ignored."
    assert unknown_make_invocations(stale, MAKEFILE.read_text()) == [
        "make nonexistent: no such target",
        "make verify URL=...: the Makefile has no variable URL",
    ]


def test_checker_reports_a_check_id_that_does_not_exist():
    assert unknown_check_ids("verify shows `taskdef.secrets` and `lb.targets`", all_check_ids()) == ["taskdef.secrets"]


def test_checker_reports_a_check_id_the_runbook_does_not_cover():
    assert uncovered_check_ids("only `taskdef.secret` here", {"taskdef.secret", "dependency.access"}) == [
        "dependency.access"
    ]


def test_checker_reports_a_fake_failure_that_does_not_exist():
    text = "```sh\nmake break FAILURE=no-such-failure\n```\nand `break secret-deleted`, `break nor-this`"
    assert unknown_fake_failures(text, set(FAILURES)) == ["no-such-failure", "nor-this"]


def test_checker_reports_a_missing_heading_and_an_incomplete_section():
    text = "## A deployment rolled back\n\n**Symptom** x\n**Confirm** y\n\n## Next\n**Fix** z\n**Roll back** w\n"
    assert missing_headings(text, ("A deployment rolled back", "Rolling back")) == ["Rolling back"]
    assert incomplete_sections(text, ("A deployment rolled back",)) == [
        "A deployment rolled back: no **Fix**",
        "A deployment rolled back: no **Roll back**",
    ]


def test_checker_reports_a_broken_link_and_an_unknown_module():
    assert broken_anchors("## Rolling back\n[ok](#rolling-back) [stale](#rolling-forward)") == ["rolling-forward"]
    assert unknown_python_modules("`python -m ops.verifyy --stack development`") == ["ops.verifyy"]


def test_checker_reports_an_estate_name_or_secret_that_does_not_exist():
    names = rendered_names()
    alarm = naming.alarm_name(INCIDENT_SERVICE, STACK, CONTRACTS[INCIDENT_SERVICE].error_signatures[0].key)
    text = f"alarm `{alarm}s`, log `{naming.log_group_name(INCIDENT_SERVICE, STACK)}`"
    assert unknown_estate_names(text, names) == [f"{alarm}s"]
    secret = CONTRACTS[INCIDENT_SERVICE].secrets[0].secret_name_for(STACK)
    assert unknown_secret_names(f"`{secret}-typo`") == [f"{secret}-typo"]


def test_checker_reports_a_heading_the_code_points_at_that_is_gone():
    source = 'lines.append("  runbook: RUNBOOK.md (\\"A deployment went sideways\\")")'
    assert runbook_references_in_code([source]) == {"A deployment went sideways"}


INDEX = """\
## Symptom index

| symptom | confirm | fix |
| --- | --- | --- |
| 500 "HuggingFace token not configured" | `make verify STACK=development`: `taskdef.secret` | [it](#required-secret-missing-from-the-task-definition) |
| tasks stop | `make stopped-tasks` | [it](#a-deployment-rolled-back) |

## Required secret missing from the task definition

**Symptom** x

## A deployment rolled back

**Symptom** y
"""


def test_checker_accepts_an_index_that_leads_everywhere():
    assert index_problems(INDEX, MAKEFILE.read_text(), ()) == []
    assert first_jump(INDEX, "HuggingFace token not configured") == (
        "`make verify STACK=development`: `taskdef.secret`",
        "[it](#required-secret-missing-from-the-task-definition)",
    )


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (INDEX.replace("`make stopped-tasks`", "`aws ecs list-tasks`"), "is not a make target"),
        (INDEX.replace("`make stopped-tasks`", "`make stopped`"), "make stopped: no such target"),
        (INDEX.replace("[it](#a-deployment-rolled-back)", "see below"), "the fix is not a link"),
        (
            INDEX.replace("| tasks stop |", "| nothing |").replace("(#a-deployment-rolled-back)", "(#other)"),
            "A deployment rolled back: no row",
        ),
        ("## First\n\n" + INDEX, "not the first section"),
    ],
    ids=["raw-command", "unknown-target", "no-link", "section-without-row", "not-first"],
)
def test_checker_reports_an_index_that_does_not_lead_everywhere(broken, problem):
    assert any(problem in p for p in index_problems(broken, MAKEFILE.read_text(), ())), index_problems(
        broken, MAKEFILE.read_text(), ()
    )


def test_checker_reports_a_required_section_without_a_row():
    problems = index_problems(INDEX, MAKEFILE.read_text(), ("Rolling back",))
    assert problems == ["Rolling back: no row of the symptom index links to it"]


def test_checker_catches_credential_shapes():
    # Built at run time so this file holds no credential-shaped literal either.
    samples = ["hk_" + "live_" + "a1" * 8, "hf_" + "Ab" * 16, "AKIA" + "A1B2C3D4E5F6G7H8"]
    for sample in samples:
        assert credential_like(f"export X={sample}") != []
    assert credential_like("hk_live_REDACTED and hf_your_token_here and <previous revision>") == []
