"""The layers of DESIGN.md, read from the imports of every module (the AST, so
imports inside functions count too).

    core/    pure: imports neither pulumi nor boto3, nor any other layer
    infra/   Pulumi components: core only, never ops/ or synth/
    ops/     live tools (boto3, HTTP): core only, never pulumi or infra/
    synth/   offline render: core and infra (it runs the program), never ops/
    policy/  CrossGuard pack: core only

A back-edge fails with the file, the line and the import, so it is fixed where
it was written rather than papered over.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR

CLOUD = {"pulumi", "pulumi_aws", "pulumi_policy", "boto3", "botocore", "moto"}
LAYERS = {"core", "infra", "ops", "synth", "policy", "bench", "tests"}

# layer -> top-level packages it must never import
FORBIDDEN = {
    "core": CLOUD | (LAYERS - {"core"}),
    "infra": {"ops", "synth", "policy", "bench", "tests", "moto"},
    "ops": {"pulumi", "pulumi_aws", "pulumi_policy", "infra", "synth", "policy", "bench", "tests"},
    "synth": {"ops", "policy", "bench", "tests"},
    "policy": {"pulumi_aws", "boto3", "botocore", "infra", "ops", "synth", "bench", "tests"},
    "bench": {"tests"},
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


# A layer's own virtualenv (the policy pack's policy/venv) holds third-party code, not ours.
VIRTUALENVS = {"venv", ".venv"}


def back_edges(root: Path) -> list[str]:
    edges = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((root / layer).rglob("*.py")):
            if VIRTUALENVS & set(path.relative_to(root).parts):
                continue
            for line, module in imported_modules(path):
                if module.split(".")[0] in forbidden:
                    edges.append(f"{path.relative_to(root)}:{line} imports {module} ({layer}/ must not)")
    return edges


def test_no_module_imports_against_the_layers():
    assert back_edges(PROJECT_DIR) == []


def test_the_program_entry_point_composes_infra_and_core_only():
    modules = {m.split(".")[0] for _, m in imported_modules(PROJECT_DIR / "__main__.py")}
    assert modules <= {"pulumi", "infra", "core", "__future__"}, modules


def test_a_virtualenv_inside_a_layer_is_not_the_layers_code(tmp_path):
    (tmp_path / "policy" / "venv" / "lib").mkdir(parents=True)
    (tmp_path / "policy" / "venv" / "lib" / "vendored.py").write_text("import boto3\n")
    (tmp_path / "policy" / "pack.py").write_text("import botocore\n")
    (edge,) = back_edges(tmp_path)
    assert edge.startswith("policy/pack.py:1 imports botocore")


@pytest.mark.parametrize(
    ("layer", "source", "culprit"),
    [
        ("core", "import pulumi\n", "pulumi"),
        ("core", "def f():\n    import boto3\n", "boto3"),
        ("core", "from infra.service import Service\n", "infra.service"),
        ("infra", "from ops import verify\n", "ops"),
        ("ops", "import pulumi_aws as aws\n", "pulumi_aws"),
        ("ops", "from infra.existing import look_up_existing\n", "infra.existing"),
        ("synth", "from ops.collect import collect\n", "ops.collect"),
    ],
)
def test_a_back_edge_is_found_with_its_file_and_line(tmp_path, layer, source, culprit):
    (tmp_path / layer).mkdir()
    (tmp_path / layer / "module.py").write_text('"""doc"""\n' + source)
    (edge,) = back_edges(tmp_path)
    assert edge.startswith(f"{layer}/module.py:") and f"imports {culprit}" in edge
