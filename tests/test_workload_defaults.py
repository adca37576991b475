"""Workload defaults: a read-only root filesystem with the contract's writable paths as task
volumes, a non-root user, ECS Exec off; each relaxed only with a reason in the stack
(`services.<service>.exceptions`), which every preview warns about and `make synth` prints.

GIVEN every service of every stack file (and the same stack with its exceptions removed or added)
THEN the rendered task definition holds the default, or the exception the stack explains;
AND a missing, blank or unknown exception is refused with the key and the fix.
"""

from __future__ import annotations

import copy
import dataclasses
from types import MappingProxyType

import pulumi
import pytest

from core import documents
from core.settings import SettingsError
from core.settings import declarations as declarations_module
from core.settings.exception_names import ServiceException
from core.settings.fields import NAMESPACE
from synth.render import summary
from tests import tiers
from tests.helpers import (
    container,
    each_service,
    each_stack,
    load,
    rendered,
    run_as,
    stack_secret_keys,
    stack_settings,
    stack_values,
    task_definition,
    with_exception,
    without_exception,
)


def problems(stack: str, values: dict) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load(values, stack=stack, secret_keys=stack_secret_keys(stack))
    return {p.key: f"{p.what} || {p.fix}" for p in caught.value.problems}


def redeclare(monkeypatch, key: str, **changes) -> None:
    config_key = f"{NAMESPACE}:{key}"
    changed = dataclasses.replace(declarations_module.DECLARED[config_key], **changes)
    monkeypatch.setattr(
        declarations_module, "DECLARED", MappingProxyType({**declarations_module.DECLARED, config_key: changed})
    )


# --------------------------------------------------------------------------- #
# What the task definition says
# --------------------------------------------------------------------------- #


@each_service
def test_the_root_filesystem_is_read_only_and_each_writable_path_is_a_task_volume(stack, service):
    spec = stack_settings(stack).service(service)
    result = rendered(stack)
    definition = container(result, service)
    assert definition["readonlyRootFilesystem"] is spec.read_only_root_filesystem
    volumes = {v["name"] for v in task_definition(result, service).inputs.get("volumes") or []}
    mounts = {m["containerPath"]: m for m in definition["mountPoints"]}
    assert set(mounts) == set(spec.contract.writable_paths)
    for path, mount in mounts.items():
        assert mount["readOnly"] is False and mount["sourceVolume"] in volumes, path


@each_service
@tiers.renders
def test_the_container_runs_as_the_configured_user_unless_the_stack_says_why_not(stack, service):
    spec = stack_settings(stack).service(service)
    assert container(rendered(stack), service).get("user") == spec.container_user
    # WHEN the stack's reason for root (if any) is taken away, THEN the default user applies
    plain = run_as(stack, without_exception(stack_values(stack), service, ServiceException.RUN_AS_ROOT))
    assert container(plain, service)["user"] == spec.user != "0"


@each_service
@tiers.renders
def test_a_writable_root_filesystem_needs_its_reason_and_then_is_writable(stack, service):
    values = with_exception(stack_values(stack), service, ServiceException.WRITABLE_ROOT_FILESYSTEM)
    assert container(run_as(stack, values), service)["readonlyRootFilesystem"] is False


def test_contract_writable_paths_become_named_volumes():
    assert documents.volume_name("/tmp") == "tmp"
    assert documents.volume_name("/home/app/.cache") == "home-app-cache"


# --------------------------------------------------------------------------- #
# What the settings refuse
# --------------------------------------------------------------------------- #


@each_service
@pytest.mark.parametrize("reason", ["", "   ", None, 5, ["a list"]], ids=["empty", "blank", "null", "number", "list"])
def test_an_exception_without_a_reason_is_refused(stack, service, reason):
    values = with_exception(stack_values(stack), service, ServiceException.ECS_EXEC, reason)
    found = problems(stack, values)
    key = f"{NAMESPACE}:services.{service}.exceptions.ecs_exec"
    assert key in found and "needs the reason" in found[key], found


@each_service
def test_an_unknown_exception_is_refused_naming_the_known_ones(stack, service):
    found = problems(stack, with_exception(stack_values(stack), service, "no_tls"))
    message = found[f"{NAMESPACE}:services.{service}.exceptions.no_tls"]
    assert "is not a default that can be relaxed" in message
    assert all(e.value in message for e in ServiceException)


@each_service
@pytest.mark.parametrize("user", ["0", "0:0", "00:1000", "root", "root:root", "app", "-1", "1000:"])
def test_root_or_a_non_numeric_user_is_refused_pointing_at_the_exception(stack, service, user):
    values = copy.deepcopy(stack_values(stack))
    values["hokusai:services"][service]["user"] = user
    message = problems(stack, values)[f"{NAMESPACE}:services.{service}.user"]
    assert "exceptions.run_as_root" in message


@each_stack
def test_a_weakened_reason_check_lets_a_blank_reason_through(monkeypatch, stack):
    service = stack_settings(stack).services[0].key
    values = with_exception(stack_values(stack), service, ServiceException.ECS_EXEC, "   ")
    redeclare(monkeypatch, "services.<service>.exceptions", pattern=None)
    load(values, stack=stack, secret_keys=stack_secret_keys(stack))  # no SettingsError: the guard is the declaration's


@each_stack
def test_a_weakened_user_pattern_lets_root_through(monkeypatch, stack):
    service = stack_settings(stack).services[0].key
    values = copy.deepcopy(stack_values(stack))
    values["hokusai:services"][service]["user"] = "0"
    redeclare(monkeypatch, "services.<service>.user", pattern=None)
    assert load(values, stack=stack, secret_keys=stack_secret_keys(stack)).service(service).user == "0"


# --------------------------------------------------------------------------- #
# The reason is visible: a warning at every preview, and in `make synth`
# --------------------------------------------------------------------------- #


@each_service
@tiers.renders
def test_each_exception_is_a_preview_warning_and_a_synth_line_with_its_reason(monkeypatch, stack, service):
    values = with_exception(stack_values(stack), service, ServiceException.ECS_EXEC, "debugging issue 42 until Friday")
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    result = run_as(stack, values)
    for exception, reason in (
        load(values, stack=stack, secret_keys=stack_secret_keys(stack)).service(service).exceptions
    ):
        assert any(exception in w and reason in w and service in w for w in warned), (exception, warned)
        assert f"{exception}: {reason}" in summary(stack, result, [])


# --------------------------------------------------------------------------- #
# Images: a digest, or a tag with the reason it will do
# --------------------------------------------------------------------------- #

TAG_EXCUSES = (ServiceException.MUTABLE_IMAGE_TAG, ServiceException.IMMUTABLE_TAGS)


def tagged(stack: str, service: str, *, excuse: str | None = None) -> dict:
    """The stack with the service's image pinned by a tag, and only `excuse` (if any) to explain it."""
    values = stack_values(stack)
    for exception in TAG_EXCUSES:
        values = without_exception(values, service, exception)
    image = values["hokusai:services"][service]["image"]
    values["hokusai:services"][service]["image"] = image.split("@", 1)[0].rsplit(":", 1)[0] + ":2025-10-07-5c68714"
    return with_exception(values, service, excuse) if excuse else values


@each_service
def test_an_image_pinned_by_tag_without_a_reason_is_refused(stack, service):
    message = problems(stack, tagged(stack, service))[f"{NAMESPACE}:services.{service}.image"]
    assert "is pinned by a tag, which can be pushed again" in message
    assert "immutable_tags" in message and "mutable_image_tag" in message and "@sha256:" in message


@each_service
@pytest.mark.parametrize("excuse", TAG_EXCUSES)
def test_an_image_pinned_by_tag_with_a_reason_is_taken(stack, service, excuse):
    values = tagged(stack, service, excuse=excuse)
    image = values["hokusai:services"][service]["image"]
    assert load(values, stack=stack, secret_keys=stack_secret_keys(stack)).service(service).image == image


@each_service
@pytest.mark.parametrize("excuse", [None, *TAG_EXCUSES])
def test_latest_is_refused_whatever_the_exceptions(stack, service, excuse):
    values = tagged(stack, service, excuse=excuse)
    image = values["hokusai:services"][service]["image"]
    values["hokusai:services"][service]["image"] = image.rsplit(":", 1)[0] + ":latest"
    assert "uses the mutable tag 'latest'" in problems(stack, values)[f"{NAMESPACE}:services.{service}.image"]


@each_service
def test_an_image_pinned_by_digest_needs_no_exception(stack, service):
    values = tagged(stack, service)
    image = values["hokusai:services"][service]["image"].rsplit(":", 1)[0] + "@sha256:" + "ab" * 32
    values["hokusai:services"][service]["image"] = image
    assert load(values, stack=stack, secret_keys=stack_secret_keys(stack)).service(service).image == image


@each_stack
def test_a_weakened_digest_check_lets_a_tag_through(monkeypatch, stack):
    from core.settings import container as container_module

    service = stack_settings(stack).services[0].key
    monkeypatch.setattr(container_module, "DIGEST_MARK", ":")
    load(tagged(stack, service), stack=stack, secret_keys=stack_secret_keys(stack))  # no SettingsError
