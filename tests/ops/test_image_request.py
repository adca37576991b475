"""ops/image_request.py: the deploy-image workflow's untrusted input, checked and applied.

GIVEN a request (stack, service, image_tag) as the application's CI or a person sends it
THEN  --check passes a valid request on as `key=value` lines and nothing else, runs with
      the standard library only (the job has installed nothing), and refuses every bad
      field at once with exit 2 and nothing on stdout (so nothing reaches $GITHUB_OUTPUT);
      the default mode gives the stack's repository with the new tag for every service of
      every stack file; --write changes that one value of the stack file; a service the
      stack does not run, or one without an image, is refused before anything changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from core.contract import CONTRACTS
from core.image_ref import repository
from ops import image_request
from ops.image_request import RequestError, checked_request, new_image, write_image
from tests import tiers
from tests.helpers import PROJECT_DIR, STACKS, each_service, reads_config, stack_values

DIGEST = "sha256:" + "ab" * 32


def run_module(*args: str, site: bool = True) -> subprocess.CompletedProcess:
    code = "import sys, runpy; sys.path.insert(0, '.'); runpy.run_module('ops.image_request', run_name='__main__')"
    return subprocess.run(
        [sys.executable, *([] if site else ["-S"]), "-c", code, *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@reads_config
@pytest.mark.parametrize("service", sorted(CONTRACTS))
@tiers.process
def test_a_valid_request_is_passed_on_without_anything_installed(service):
    done = run_module("--check", "--stack", STACKS[0], "--service", service, "--image-tag", "5c68714", site=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"stack={STACKS[0]}\nservice={service}\nimage_tag=5c68714\n"


@pytest.mark.parametrize(
    ("stack", "service", "image_tag", "problems"),
    [
        ("production", "api", "v1", ["stack: 'production' is not a stack"]),
        ("development", "web", "v1", ["service: 'web' is not a service the contract knows"]),
        ("development", "api", "latest", ["image_tag 'latest' is a mutable tag"]),
        ("development\nimage_tag=x", "api\nstack=y", "v1\nservice=z", ["stack:", "service:", "image_tag"]),
        ("$(id)", "`id`", "${{ secrets.X }}", ["stack:", "service:", "image_tag"]),
    ],
)
@tiers.process
def test_every_bad_field_is_refused_at_once_with_nothing_on_stdout(stack, service, image_tag, problems):
    done = run_module("--check", "--stack", stack, "--service", service, "--image-tag", image_tag, site=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "the request is refused, nothing was changed" in done.stderr
    for problem in problems:
        assert problem in done.stderr


def test_the_checker_refuses_without_the_command_line_too():
    with pytest.raises(RequestError) as raised:
        checked_request("nope", "nope", "")
    assert str(raised.value).count("\n") == 2  # three problems, one per line


@each_service
def test_the_new_image_is_the_stacks_repository_with_the_new_tag(stack, service):
    current = stack_values(stack)["hokusai:services"][service]["image"]
    assert new_image(stack, service, "5c68714") == f"{repository(current)}:5c68714"
    assert new_image(stack, service, DIGEST) == f"{repository(current)}@{DIGEST}"


@reads_config
@tiers.process
def test_the_command_line_prints_the_new_image_and_only_that():
    stack = STACKS[0]
    service = next(iter(stack_values(stack)["hokusai:services"]))
    done = run_module("--stack", stack, "--service", service, "--image-tag", "v2.0.1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == new_image(stack, service, "v2.0.1") + "\n"


def project_copy(tmp_path, stack: str):
    shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", tmp_path)
    return tmp_path


@each_service
def test_write_changes_that_one_value(stack, service, tmp_path):
    project = project_copy(tmp_path, stack)
    image = new_image(stack, service, "v9", project)
    write_image(stack, service, image, project)
    from core.stack_file import read_stack_file

    after, _ = read_stack_file(stack, project)
    expected = stack_values(stack)
    expected["hokusai:services"][service]["image"] = image
    assert after == expected


@pytest.mark.parametrize("service", sorted(CONTRACTS))
def test_a_service_the_stack_does_not_run_is_refused(tmp_path, service):
    others = [key for key in CONTRACTS if key != service]
    declared = "".join(f"    {key}:\n      image: hokusai/{key}:v1\n" for key in others) or "    {}\n"
    path = tmp_path / "Pulumi.development.yaml"
    path.write_text("config:\n  hokusai:services:\n" + declared)
    text = path.read_text()
    with pytest.raises(RequestError, match=f"does not run '{service}'.*add the service"):
        new_image("development", service, "v1", tmp_path)
    assert path.read_text() == text


def test_a_service_without_an_image_is_refused(tmp_path):
    (tmp_path / "Pulumi.development.yaml").write_text("config:\n  hokusai:services:\n    api:\n      cpu: 512\n")
    with pytest.raises(RequestError, match=r"hokusai:services\.api\.image is not set"):
        new_image("development", "api", "v1", tmp_path)


def test_a_refused_write_leaves_the_file_alone(tmp_path):
    path = tmp_path / "Pulumi.development.yaml"
    path.write_text("config:\n  hokusai:services:\n    api:\n      image: [not, text]\n")
    with pytest.raises(RequestError, match="is not a text value"):
        write_image("development", "api", "hokusai/api:v1", tmp_path)
    assert "[not, text]" in path.read_text()


def test_main_turns_a_refusal_into_exit_2(capsys, monkeypatch):
    monkeypatch.setattr(image_request, "new_image", lambda *a: (_ for _ in ()).throw(RequestError("no")))
    assert image_request.main(["--stack", "development", "--service", "api", "--image-tag", "v1"]) == 2
    assert capsys.readouterr().out == ""
