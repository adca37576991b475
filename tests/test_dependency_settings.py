"""`dependencies`: GIVEN what a stack declares its services reach, WHEN it is loaded, THEN each
service's dependency settings are derived from the one declaration (or from the stack's own
service), and a dependency that is missing, incomplete, unreachable or set by hand is refused
with its key, what is wrong and the fix."""

from __future__ import annotations

import pytest

from core.contract import CONTRACTS, HTTPS_PORT, DependencyAttribute
from core.settings import SettingsError
from tests.helpers import each_stack, load, stack_settings, with_mlflow

# Every (service, dependency) pair a contract names.
PAIRS = [(key, requirement) for key, contract in CONTRACTS.items() for requirement in contract.dependencies]


def problems(values) -> dict[str, str]:
    """key -> "what || fix" of every problem the loader reports (all of them, joined)."""
    with pytest.raises(SettingsError) as caught:
        load(values)
    found: dict[str, list[str]] = {}
    for problem in caught.value.problems:
        found.setdefault(problem.key, []).append(f"{problem.what} || {problem.fix}")
    return {key: " ## ".join(texts) for key, texts in found.items()}


def dependencies(values) -> dict:
    return values.setdefault("hokusai:dependencies", {})


@pytest.fixture
def every_service(dev_values):
    """The development stack with every service of the contract (mlflow: an in-stack dependency)."""
    return with_mlflow(dev_values)


# --------------------------------------------------------------------------- #
# Every stack file: the derived settings are the declaration's
# --------------------------------------------------------------------------- #


@each_stack
def test_each_services_dependency_settings_are_its_dependencys_attributes(stack):
    settings = stack_settings(stack)
    for service in settings.services:
        environment = dict(service.environment)
        for requirement in service.contract.dependencies:
            dependency = settings.dependency(requirement.dependency)
            assert service.key in dependency.consumers
            for env_var, attribute in requirement.settings:
                assert environment[env_var] == dependency.attribute(attribute.value), (service.key, env_var)


@each_stack
def test_a_dependency_reached_without_a_security_group_is_reached_over_https(stack):
    for dependency in stack_settings(stack).dependencies:
        assert dependency.has_security_group or dependency.port == HTTPS_PORT, dependency


def test_another_service_of_the_stack_is_its_cloud_map_name_and_port(every_service):
    settings = load(every_service)
    mlflow = settings.dependency("mlflow")
    assert (mlflow.service, mlflow.security_group_id, mlflow.port) == ("mlflow", None, 5000)
    assert mlflow.has_security_group  # its own service's group
    assert dict(settings.service("api").environment)["MLFLOW_SERVER_URL"] == (
        "http://mlflow.hokusai-development.local:5000"
    )


# --------------------------------------------------------------------------- #
# Missing or incomplete
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("service,requirement", PAIRS, ids=lambda x: getattr(x, "dependency", x))
def test_a_dependency_the_stack_lacks_is_refused_naming_service_dependency_and_fix(every_service, service, requirement):
    name = requirement.dependency
    if name in every_service["hokusai:services"]:
        del every_service["hokusai:services"][name]  # no longer a service of the stack, and not declared
    dependencies(every_service).pop(name, None)
    if service not in every_service["hokusai:services"]:
        pytest.skip(f"{service} is the dependency itself")
    message = problems(every_service)[f"hokusai:dependencies.{name}"]
    assert f"the {service} service reaches {name}" in message and requirement.purpose in message
    assert all(env_var in message for env_var in requirement.env_vars)
    assert f"pulumi config set --path 'hokusai:dependencies.{name}." in message


@pytest.mark.parametrize("service,requirement", PAIRS, ids=lambda x: getattr(x, "dependency", x))
def test_an_attribute_a_service_reads_is_required(dev_values, service, requirement):
    if requirement.dependency not in dependencies(dev_values):
        pytest.skip(f"the development stack does not declare {requirement.dependency}")
    if service == "mlflow":
        with_mlflow(dev_values)
    for _env_var, attribute in requirement.settings:
        if attribute in (DependencyAttribute.PORT, DependencyAttribute.TLS):
            continue  # always known: a default, the usual port, or the url's
        declared = dependencies(dev_values)[requirement.dependency]
        removed = declared.pop(attribute.value, None)
        if removed is None:
            continue
        message = problems(dev_values)[f"hokusai:dependencies.{requirement.dependency}.{attribute.value}"]
        assert "is not set, but" in message and "pulumi config set --path" in message
        declared[attribute.value] = removed


def test_declaring_a_service_of_the_stack_as_a_dependency_is_refused(every_service):
    dependencies(every_service)["mlflow"] = {"url": "http://mlflow.hokusai-development.local:5000"}
    assert "is a service of this stack" in problems(every_service)["hokusai:dependencies.mlflow"]


def test_an_unknown_dependency_is_refused_with_a_suggestion(dev_values):
    dependencies(dev_values)["reddis"] = {"host": "cache.internal"}
    assert "did you mean 'redis'" in problems(dev_values)["hokusai:dependencies.reddis"]


# --------------------------------------------------------------------------- #
# Reachable: a security group, or HTTPS
# --------------------------------------------------------------------------- #


def test_a_dependency_on_another_port_without_its_security_group_is_refused(dev_values):
    """Removal: without the group, no rule admits the service and its egress lets nothing out."""
    del dependencies(dev_values)["redis"]["security_group_id"]
    message = problems(dev_values)["hokusai:dependencies.redis.security_group_id"]
    assert "listens on 6379" in message and "HTTPS (443)" in message


def test_a_plain_http_url_without_a_security_group_is_refused(dev_values):
    """Weakening: the auth service on http:// would need port 80 out, which no rule opens."""
    dependencies(dev_values)["auth"]["url"] = "http://auth.hokus.ai"
    assert "listens on 80" in problems(dev_values)["hokusai:dependencies.auth.security_group_id"]


def test_a_security_group_needs_a_port(dev_values):
    dependencies(dev_values)["auth"]["security_group_id"] = "sg-0a1b2c3d4e5f60799"
    dependencies(dev_values)["auth"]["url"] = "ssh+git://auth.internal"
    assert "must be set with security_group_id" in problems(dev_values)["hokusai:dependencies.auth.port"]


def test_a_port_that_disagrees_with_the_url_is_refused(dev_values):
    dependencies(dev_values)["auth"]["port"] = 444
    assert "on port 443" in problems(dev_values)["hokusai:dependencies.auth.port"]


def test_a_url_with_credentials_is_refused(dev_values):
    dependencies(dev_values)["auth"]["url"] = "https://user:hunter2@auth.hokus.ai"
    assert "hokusai:dependencies.auth.url" in problems(dev_values)


# --------------------------------------------------------------------------- #
# Extra consumers
# --------------------------------------------------------------------------- #


def test_an_extra_consumer_must_be_a_security_group(dev_values):
    dependencies(dev_values)["redis"]["extra_consumers"] = {"workers": "10.0.0.0/16"}
    assert "security group id" in problems(dev_values)["hokusai:dependencies.redis.extra_consumers.workers"]


def test_extra_consumers_need_the_dependencys_security_group(dev_values):
    dependencies(dev_values)["auth"]["extra_consumers"] = {"workers": "sg-0a1b2c3d4e5f60799"}
    assert "no security group" in problems(dev_values)["hokusai:dependencies.auth.extra_consumers"]


@pytest.mark.parametrize("service,requirement", PAIRS, ids=lambda x: getattr(x, "dependency", x))
def test_an_extra_consumer_cannot_shadow_a_services_own_rule(every_service, service, requirement):
    declared = dependencies(every_service).get(requirement.dependency)
    if declared is None or "security_group_id" not in declared:
        pytest.skip(f"{requirement.dependency} has no declared security group here")
    declared["extra_consumers"] = {service: "sg-0a1b2c3d4e5f60799"}
    message = problems(every_service)[f"hokusai:dependencies.{requirement.dependency}.extra_consumers.{service}"]
    assert f"named like the service {service}, whose own rule it would replace" in message


# --------------------------------------------------------------------------- #
# Derived, never by hand
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "service,env_var,dependency,attribute",
    [(k, env, r.dependency, a) for k, r in PAIRS for env, a in r.settings],
)
def test_a_dependency_setting_set_by_hand_is_refused(every_service, service, env_var, dependency, attribute):
    every_service["hokusai:services"][service]["environment"][env_var] = "by-hand"
    message = problems(every_service)[f"hokusai:services.{service}.environment.{env_var}"]
    assert f"derived from dependency {dependency}: {attribute.value}" in message
    assert f"hokusai:dependencies.{dependency}.{attribute.value}" in message


@pytest.mark.parametrize("service", sorted(CONTRACTS))
def test_a_variable_the_contract_deliberately_does_not_provide_is_refused(every_service, service):
    for entry in CONTRACTS[service].not_provided:
        every_service["hokusai:services"][service]["environment"][entry.env_var] = "set-anyway"
    found = problems(every_service) if CONTRACTS[service].not_provided else {}
    for entry in CONTRACTS[service].not_provided:
        assert entry.reason in found[f"hokusai:services.{service}.environment.{entry.env_var}"]


def test_redis_url_is_not_provided_because_the_app_would_drop_the_token():
    reasons = {entry.env_var: entry.reason for entry in CONTRACTS["api"].not_provided}
    assert "REDIS_AUTH_TOKEN" in reasons["REDIS_URL"]
    assert "REDIS_URL" not in CONTRACTS["api"].setting_names
