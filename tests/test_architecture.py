"""The picture of each stack (core/architecture.py and its emitters): what it draws holds for
every service of every stack file and of a five-service variant, and it stays readable.

What is drawn is checked against the settings (what the stack file declares) and the rendered
graph, never against today's names or counts.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from core.architecture import Architecture, EdgeKind, Node, NodeKind
from core.architecture_dot import dot
from core.architecture_mermaid import mermaid
from core.settings import Settings
from synth import render
from synth.pictures import picture_of_document, picture_of_run
from synth.program import Run
from tests import tiers
from tests.five_services import extra_contracts, five_service_values, five_services_run
from tests.helpers import each_stack, load, rendered, stack_settings

# Short enough to read in a box: a name, and one line under it.
LABEL_MAX = 32
DETAIL_MAX = 64


def problems(picture: Architecture, settings: Settings, run_: Run) -> list[str]:
    """Everything the picture should show of the stack and does not (or shows wrongly)."""
    found: list[str] = []
    nodes = {n.id: n for n in picture.nodes}
    edges = {(e.source, e.target, e.kind): e for e in picture.edges}
    services = {s["key"]: s for s in run_.outputs["services"]}
    dependencies = {d.name: d for d in settings.dependencies}
    for spec in settings.services:
        service_id = f"service:{spec.key}"
        node = nodes.get(service_id)
        if node is None:
            found.append(f"{spec.key}: no service node")
            continue
        size = f"{spec.cpu / 1024:g} vCPU"
        count = f"{spec.desired_count} task"
        if size not in node.detail or count not in node.detail:
            found.append(f"{spec.key}: detail {node.detail!r} lacks {size!r} or {count!r}")
        # Routes: each host -> its rule -> the target group -> the service.
        for route in spec.routes:
            rule = nodes.get(f"rule:{spec.key}-route-{route.priority}")
            if rule is None:
                found.append(f"{spec.key}: no rule for route {route.priority}")
                continue
            if rule.detail != (" ".join(route.paths) or "any path"):
                found.append(f"{spec.key}: rule {route.priority} shows {rule.detail!r}")
            for host in route.hosts or ("any host",):
                if (f"host:{rule.group}:{host}", rule.id, EdgeKind.ROUTES) not in edges:
                    found.append(f"{spec.key}: host {host} does not lead to rule {route.priority}")
            ahead = [e.target for e in picture.edges if e.source == rule.id and e.kind is EdgeKind.FORWARDS]
            if len(ahead) != 1 or (ahead[0], service_id, EdgeKind.SERVES) not in edges:
                found.append(f"{spec.key}: rule {route.priority} does not forward to its target group and service")
        # Dependencies: an edge per contract dependency, with the port and the admitting rule.
        for name in spec.contract.dependency_names:
            dependency = dependencies[name]
            target = f"service:{dependency.service}" if dependency.service else f"dependency:{name}"
            edge = edges.get((service_id, target, EdgeKind.REACHES))
            if edge is None:
                found.append(f"{spec.key}: reaches {name}, not drawn")
                continue
            admitting = f"{name}_from_{spec.key}".replace("-", "_")
            expected = admitting if dependency.has_security_group else "HTTPS, no rule"
            if f":{dependency.port}" not in edge.label or expected not in edge.label:
                found.append(f"{spec.key} -> {name}: label {edge.label!r}, wanted :{dependency.port} and {expected}")
        # Secrets: by variable and secret name; never a value, never an ARN.
        drawn = {n.label: n for n in picture.nodes if n.kind is NodeKind.SECRET and n.group == service_id}
        if set(drawn) != {s.env_var for s in spec.secrets}:
            found.append(
                f"{spec.key}: secrets drawn {sorted(drawn)}, declared {sorted(s.env_var for s in spec.secrets)}"
            )
        for source in spec.secrets:
            secret = drawn.get(source.env_var)
            if secret is not None and not secret.detail.startswith(_secret_name(source.name_or_arn)):
                found.append(f"{spec.key}: {source.env_var} shows {secret.detail!r}, not {source.name_or_arn}")
            if (service_id, f"secret:{spec.key}:{source.env_var}", EdgeKind.READS) not in edges:
                found.append(f"{spec.key}: does not read {source.env_var}")
        # Alarms: exactly the ECS service's deployment alarms.
        alarms = {
            n.id.removeprefix("alarm:") for n in picture.nodes if n.kind is NodeKind.ALARM and n.group == service_id
        }
        if alarms != set(services[spec.key]["deployment_alarm_names"]):
            found.append(f"{spec.key}: alarms drawn {sorted(alarms)}")
    for node in picture.nodes:
        if "arn:" in node.label + node.detail:
            found.append(f"{node.id}: shows an ARN")
        if len(node.label) > LABEL_MAX or len(node.detail) > DETAIL_MAX:
            found.append(f"{node.id}: label too long to read ({node.label!r}, {node.detail!r})")
    dangling = [e for e in picture.edges if e.source not in nodes or e.target not in nodes]
    found += [f"edge {e.key} ends nowhere" for e in dangling]
    return found


def _secret_name(name_or_arn: str) -> str:
    if not name_or_arn.startswith("arn:"):
        return name_or_arn
    name = name_or_arn.split(":secret:", 1)[1]
    return name[:-7] if len(name) > 7 and name[-7] == "-" else name


@pytest.fixture(scope="module")
def five() -> tuple[Architecture, Settings, Run]:
    run_ = five_services_run()
    with extra_contracts():
        return picture_of_run("development", run_), load(five_service_values()), run_


# --------------------------------------------------------------------------- #
# What the picture draws
# --------------------------------------------------------------------------- #


@each_stack
def test_the_picture_of_every_stack_shows_its_routes_services_dependencies_secrets_and_alarms(stack):
    picture = picture_of_run(stack, rendered(stack))
    assert problems(picture, stack_settings(stack), rendered(stack)) == []


def test_the_picture_of_five_services_shows_them_all(five):
    picture, settings, run_ = five
    assert len(settings.services) == 5
    assert problems(picture, settings, run_) == []
    # A service reaching another service reaches that service's node, by the rule on its group.
    reached = [e for e in picture.edges if e.kind is EdgeKind.REACHES and e.target.startswith("service:")]
    assert reached and all("_from_" in e.label for e in reached)


@each_stack
def test_a_render_written_to_json_draws_the_same_picture(stack):
    """--base draws the base from the JSON its own render writes: it must be the same picture."""
    document = render.document(stack, rendered(stack))
    assert picture_of_document(document) == picture_of_run(stack, rendered(stack))


@pytest.mark.parametrize(
    "breaks, said",
    [
        (lambda p: [e for e in p.edges if e.kind is not EdgeKind.ROUTES], "does not lead to rule"),
        (lambda p: [e for e in p.edges if e.kind is not EdgeKind.REACHES], "not drawn"),
        (lambda p: [e for e in p.edges if e.kind is not EdgeKind.READS], "does not read"),
        (lambda p: [e for e in p.edges if e.kind is not EdgeKind.FORWARDS], "does not forward"),
    ],
    ids=["routes", "dependencies", "secrets", "target groups"],
)
def test_the_check_notices_a_picture_that_leaves_something_out(five, breaks, said):
    picture, settings, run_ = five
    broken = Architecture(picture.stack, picture.nodes, tuple(breaks(picture)))
    assert any(said in p for p in problems(broken, settings, run_))


def test_the_check_notices_a_secret_arn_or_a_wrong_size(five):
    picture, settings, run_ = five
    nodes = tuple(
        Node(n.id, n.kind, n.label, "arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf", n.group)
        if n.kind is NodeKind.SECRET
        else Node(n.id, n.kind, n.label, "9 vCPU", n.group)
        if n.kind is NodeKind.SERVICE
        else n
        for n in picture.nodes
    )
    found = problems(Architecture(picture.stack, nodes, picture.edges), settings, run_)
    assert any("shows an ARN" in p for p in found) and any("lacks" in p for p in found)


# --------------------------------------------------------------------------- #
# Readable with five services
# --------------------------------------------------------------------------- #


def test_five_services_are_laid_out_left_to_right_in_one_box_per_layer(five):
    picture, settings, _ = five
    text = dot(picture)
    assert "rankdir=LR" in text
    titles = [box.title for box in picture.boxes()]
    # The adopted listener's load balancer: the name in its ARN (listener/app/<name>/...).
    balancer = settings.load_balancer.listener_arn.split(":listener/app/", 1)[1].split("/", 1)[0]
    assert titles[:1] == [f"Routes on {balancer}"]
    assert {"Target groups", "Services (task size, count)", "Dependencies"} <= set(titles)
    # Each service's secrets and alarms sit in one box beside it, reached by one arrow: five
    # services make 5 arrows there, not one per secret and alarm.
    owned = [box for box in picture.boxes() if box.service]
    assert {box.service for box in owned} == {n.id for n in picture.of_kind(NodeKind.SERVICE)}
    arrows = re.findall(r"^  (n\d+) -> owned_\d+ ", text, re.M)
    assert len(arrows) == len(owned) == len(set(arrows))
    assert not [e for e in picture.edges if e.kind.to_owned and f'{e.target}"' in text]
    for drawn in (mermaid(picture),):
        assert drawn.count(" -.- box_owned_") == len(owned)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
@tiers.process
def test_graphviz_lays_out_five_services_without_losing_an_edge(five, tmp_path):
    source = tmp_path / "five.dot"
    source.write_text(dot(five[0]))
    done = subprocess.run(
        ["dot", "-Tpng", "-o", str(tmp_path / "five.png"), str(source)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (tmp_path / "five.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- #
# Mermaid that GitHub can draw
# --------------------------------------------------------------------------- #

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"[^"]*"'
# CSS declarations, comma-separated (a value may hold a space: stroke-dasharray:6 4).
_STYLE = r"[a-z-]+:[^,;]+(,[a-z-]+:[^,;]+)*"
_STATEMENTS = [
    re.compile(r"^flowchart LR$"),
    re.compile(rf"^  subgraph {_ID}\[{_LABEL}\]$"),
    re.compile(r"^  end$"),
    re.compile(rf"^    {_ID}(\(\[|\[\[|\[\(|\[/|\{{\{{|\[){_LABEL}(\]\)|\]\]|\)\]|/\]|\}}\}}|\])$"),
    re.compile(rf"^  {_ID} (-->|==>|-\.->|-\.-)(\|{_LABEL}\|)? {_ID}$"),
    re.compile(rf"^  classDef {_ID} {_STYLE}$"),
    re.compile(rf"^  class {_ID}(,{_ID})* {_ID}$"),
    re.compile(rf"^  linkStyle \d+ {_STYLE}$"),
]


def mermaid_problems(text: str) -> list[str]:
    """What in `text` is not a statement of the flowchart grammar the emitter uses, or refers
    to a node, box or class it does not declare."""
    found = []
    declared: set[str] = set()
    classes: set[str] = set()
    edges = 0
    for line in text.splitlines():
        if not any(statement.match(line) for statement in _STATEMENTS):
            found.append(f"not a statement: {line!r}")
            continue
        words = line.split()
        if words[0] == "subgraph" or re.match(rf"^    {_ID}", line):
            declared.add(re.match(rf"^\s*(?:subgraph )?({_ID})", line).group(1))  # type: ignore[union-attr]
        elif words[0] == "classDef":
            classes.add(words[1])
    for line in text.splitlines():
        words = line.split()
        if re.match(rf"^  {_ID} (-->|==>|-\.->|-\.-)", line):
            edges += 1
            found += [f"edge to undeclared {w}" for w in (words[0], words[-1]) if w not in declared]
        elif words and words[0] == "class":
            found += [f"undeclared node {n}" for n in words[1].split(",") if n not in declared]
            found += [f"undefined class {words[2]}"] if words[2] not in classes else []
        elif words and words[0] == "linkStyle" and int(words[1]) >= edges:
            found.append(f"linkStyle {words[1]} styles no edge")
    return found


@each_stack
def test_the_mermaid_of_every_stack_is_well_formed(stack):
    assert mermaid_problems(mermaid(picture_of_run(stack, rendered(stack)))) == []


def test_the_mermaid_of_five_services_is_well_formed(five):
    assert mermaid_problems(mermaid(five[0])) == []


@pytest.mark.parametrize(
    "text, said",
    [
        ("flowchart LR\n  a --> b\n", "edge to undeclared a"),
        ('flowchart LR\n  subgraph s["S"]\n    a["x "y""]\n  end\n', "not a statement"),
        ('flowchart LR\n  subgraph s["S"]\n    a["x"]\n  end\n  class a nosuch\n', "undefined class nosuch"),
    ],
)
def test_the_mermaid_check_can_fail(text, said):
    assert any(said in p for p in mermaid_problems(text))


def test_text_that_mermaid_would_parse_is_written_as_its_entity_codes():
    picture = Architecture("s", (Node("service:x", NodeKind.SERVICE, 'a "quoted" <b>|c', "1 & 2"),), ())
    text = mermaid(picture)
    assert "#quot;quoted#quot; #lt;b#gt;#124;c" in text and "1 #amp; 2" in text
    assert mermaid_problems(text) == []
