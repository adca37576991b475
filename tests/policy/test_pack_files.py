"""The pack's project files: what `pulumi preview --policy-pack policy` needs to find and run it.

- PulumiPolicy.yaml says Python, with its own virtualenv (policy/venv) made by pip;
- policy/requirements.txt pins the Policy SDK the tests run against (requirements-dev.txt)
  and the `pulumi` SDK of the program (requirements.txt), so the pack in CI is the pack tested;
- policy/venv is never committed.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.helpers import PROJECT_DIR

PACK = PROJECT_DIR / "policy"


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\[\]-]+)==(\S+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_the_pack_is_a_python_pack_with_its_own_virtualenv():
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    runtime = project["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"] == {"toolchain": "pip", "virtualenv": "venv"}
    assert project.get("version") and project.get("description")
    assert (PACK / "__main__.py").is_file()


def test_the_pack_pins_what_the_tests_and_the_program_run():
    pack = pins(PACK / "requirements.txt")
    assert pack.get("pulumi-policy") == pins(PROJECT_DIR / "requirements-dev.txt").get("pulumi-policy")
    assert pack.get("pulumi") == pins(PROJECT_DIR / "requirements.txt")["pulumi"]


def test_the_packs_virtualenv_is_not_committed():
    ignored = (PROJECT_DIR / ".gitignore").read_text().splitlines()
    assert "policy/venv/" in ignored
