"""The fake estate's render cache (synth/fake_estate.py): `seed` keeps the render next to
its outputs and uses it again only while every input of the render is unchanged."""

from __future__ import annotations

import json
import shutil

import pytest

from synth.fake_estate import RENDER_INPUTS, Rendering, render_key, rendering
from synth.program import PROJECT_DIR, Run
from tests import tiers


def as_rows(run):
    return [(r.type, r.name, r.inputs, r.outputs, r.id) for r in run.resources]


@pytest.fixture(scope="module")
def first_render(tmp_path_factory) -> tuple[Run | Rendering, str]:
    """A seed without a cache: the stack rendered, and the cache it wrote."""
    cache = tmp_path_factory.mktemp("cache") / "render-development.json"
    run = rendering("development", cache)
    return run, cache.read_text()


@tiers.renders
def test_a_second_seed_reads_the_rendering_the_first_one_cached(first_render, tmp_path):
    # GIVEN the first seed rendered the stack and cached the render
    run, cached = first_render
    assert isinstance(run, Run)
    cache = tmp_path / "render-development.json"
    cache.write_text(cached)
    # WHEN seeding again THEN the cached rendering is read: everything seeding reads, unchanged
    second = rendering("development", cache)
    assert isinstance(second, Rendering)
    assert second.outputs == run.outputs
    assert as_rows(second) == as_rows(run)


def edited(cached: str, damage: str | None) -> str:
    values = json.loads(cached)
    values["outputs"]["cluster_name"] = "from-the-cache"  # tells a read cache from a new render
    if damage == "another key":
        values["key"] = "0" * 64
    elif damage == "no resources":
        del values["resources"]
    return "{not json" if damage == "not JSON" else json.dumps(values)


@pytest.mark.parametrize("damage", ["another key", "not JSON", "no resources"])
@tiers.renders
def test_a_cache_made_from_other_inputs_or_unreadable_is_rendered_again(first_render, tmp_path, damage):
    cache = tmp_path / "render-development.json"
    cache.write_text(edited(first_render[1], damage))

    again = rendering("development", cache)

    assert isinstance(again, Run) and again.outputs["cluster_name"] == "hokusai-development"
    assert json.loads(cache.read_text())["key"] == render_key("development")  # written anew


@tiers.renders
def test_a_cache_with_the_right_key_is_what_seeding_reads(first_render, tmp_path):
    # The control for the test above: the same edit under the current key is read as it is.
    cache = tmp_path / "render-development.json"
    cache.write_text(edited(first_render[1], None))
    assert rendering("development", cache).outputs["cluster_name"] == "from-the-cache"


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory):
    """The files a render depends on (and one it does not), in a directory of their own."""
    copy = tmp_path_factory.mktemp("project")
    files = {PROJECT_DIR / "Pulumi.development.yaml", PROJECT_DIR / "README.md"}
    files |= {path for pattern in RENDER_INPUTS for path in PROJECT_DIR.glob(pattern)}
    for path in files:
        target = copy / path.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return copy


@pytest.mark.parametrize(
    "edited",
    [
        "Pulumi.development.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
        "core/naming.py",
        "core/settings/__init__.py",
        "infra/service.py",
        "synth/mocks.py",
        "synth/program.py",
    ],
)
def test_a_change_to_any_input_of_the_render_changes_the_key(project_copy, edited, tmp_path):
    before = render_key("development", project_copy)
    path = project_copy / edited
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# changed\n")
        assert render_key("development", project_copy) != before
    finally:
        path.write_bytes(original)
    assert render_key("development", project_copy) == before


def test_a_new_program_file_changes_the_key_and_other_files_do_not(project_copy):
    before = render_key("development", project_copy)
    readme = project_copy / "README.md"
    readme.write_text(readme.read_text() + "\nchanged\n")
    assert render_key("development", project_copy) == before  # not an input of the render
    added = project_copy / "infra" / "new_component.py"
    try:
        added.write_text("# a new component\n")
        assert render_key("development", project_copy) != before
    finally:
        added.unlink()
