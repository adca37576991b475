"""Every component under infra/ follows DESIGN.md's shape: one ComponentResource
per file, a frozen Args dataclass taking only what it uses (never the whole
Settings) plus tags, and a frozen Result dataclass saying what it created."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import pulumi
import pytest

from tests.helpers import PROJECT_DIR

MODULES = sorted(f"infra.{path.stem}" for path in (PROJECT_DIR / "infra").glob("*.py") if path.stem != "__init__")


def components_of(module_name: str) -> list[type]:
    module = importlib.import_module(module_name)
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, pulumi.ComponentResource) and cls.__module__ == module_name
    ]


COMPONENTS = [cls for module in MODULES for cls in components_of(module)]


def test_every_component_the_program_registers_is_found_by_the_scan(dev_run):
    """The shape tests below run over what the scan finds; a component it missed
    would escape them. Compare with the component types the program registers."""
    registered = {r.type for r in dev_run.resources if r.type.startswith("hokusai:")}
    scanned = {_type_token(cls) for cls in COMPONENTS}
    assert registered and registered <= scanned


def _type_token(cls: type) -> str:
    match = re.search(r'super\(\).__init__\(\s*"(hokusai:[^"]+)"', inspect.getsource(cls))
    assert match, f"{cls.__name__} does not call super().__init__ with its type token first"
    return match.group(1)


@pytest.mark.parametrize("module_name", MODULES)
def test_one_component_per_file(module_name):
    assert len(components_of(module_name)) <= 1


# Components whose AWS resources cannot carry tags, and why: their Args has no `tags` to ignore.
UNTAGGABLE = {
    # PutDashboard has no Tags; CloudWatch tags only alarms and Contributor Insights rules.
    "ServiceDashboard": "a CloudWatch dashboard takes no tags",
}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_args_are_frozen_narrow_and_tagged(component):
    module = importlib.import_module(component.__module__)
    args = getattr(module, f"{component.__name__}Args")
    assert dataclasses.is_dataclass(args) and args.__dataclass_params__.frozen
    annotations = {f.name: str(f.type) for f in dataclasses.fields(args)}
    # ServiceSettings and DeployGateSettings are per-concern; Settings is the whole stack.
    assert not [name for name, hint in annotations.items() if re.search(r"(?<![A-Za-z])Settings\b", hint)]
    if component.__name__ in UNTAGGABLE:
        assert "tags" not in annotations, f"{component.__name__} takes tags: remove it from UNTAGGABLE"
    else:
        assert annotations.get("tags") == "Mapping[str, str]"


def test_only_components_the_program_has_are_excused_from_tags():
    assert set(UNTAGGABLE) <= {cls.__name__ for cls in COMPONENTS}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_each_component_describes_what_it_created_in_a_frozen_result(component):
    module = importlib.import_module(component.__module__)
    result = getattr(module, f"{component.__name__}Result")
    assert dataclasses.is_dataclass(result) and result.__dataclass_params__.frozen
    assert inspect.get_annotations(component).get("result") == result.__name__
