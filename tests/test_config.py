"""Settings validation: GIVEN a stack config, WHEN it is loaded, THEN every
problem is reported at once, each naming its key, what is wrong and the fix.

Each rule about a service is checked on every service of every stack file, and
what it removes or misplaces (a secret, a setting) is read from its contract."""

from __future__ import annotations

import copy

import pytest

from core import naming, service_discovery, target_group
from core.contract import CONTRACTS, DEFAULT_PORTS, DerivedFrom, dependency_names
from core.fargate import VALID_SIZES
from core.settings import SettingsError, load_settings
from tests.helpers import (
    STACKS,
    each_service,
    each_stack,
    hokusai_raw,
    load,
    stack_secret_keys,
    stack_settings,
    stack_values,
    with_every_contract,
    with_new_load_balancer,
)


def problems(values, **kwargs) -> dict[str, str]:
    """key -> "what || fix" for every problem the loader reports."""
    with pytest.raises(SettingsError) as caught:
        load(values, **kwargs)
    return {p.key: f"{p.what} || {p.fix}" for p in caught.value.problems}


def load_stack(stack, values):
    return load(values, stack=stack, secret_keys=stack_secret_keys(stack))


def stack_problems(stack, values) -> dict[str, str]:
    return problems(values, stack=stack, secret_keys=stack_secret_keys(stack))


def service_config(stack, service) -> tuple[dict, dict]:
    """(a fresh copy of the stack's config, the service's entry in it)."""
    values = stack_values(stack)
    return values, values["hokusai:services"][service]


def key(service, *rest) -> str:
    return ".".join((f"hokusai:services.{service}", *rest))


# --------------------------------------------------------------------------- #
# The stack files
# --------------------------------------------------------------------------- #


@each_stack
def test_every_stack_file_loads_with_the_names_its_contracts_give(stack):
    settings = load_stack(stack, stack_values(stack))
    assert settings.environment == stack and settings.cluster_name == naming.cluster_name(stack)
    configured = stack_values(stack)["hokusai:services"]
    assert [s.key for s in settings.services] == list(configured)
    for service in settings.services:
        contract = CONTRACTS[service.key]
        assert (service.name, service.log_group_name) == (
            naming.service_name(service.key, stack),
            naming.log_group_name(service.key, stack),
        )
        assert (service.container_name, service.container_port) == (contract.container_name, contract.container_port)
        assert (service.cpu, service.memory) == (
            int(configured[service.key]["cpu"]),
            int(configured[service.key]["memory"]),
        )
        assert {s.env_var for s in service.secrets} == set(contract.secret_names)
    # Each dependency the stack declares, as declared: its group, and its port (declared or the usual one).
    for name, declared in (stack_values(stack).get("hokusai:dependencies") or {}).items():
        dependency = settings.dependency(name)
        assert dependency.security_group_id == declared.get("security_group_id"), name
        if "port" in declared:
            assert dependency.port == int(declared["port"]), name
        elif name in DEFAULT_PORTS:
            assert dependency.port == DEFAULT_PORTS[name], name


@each_service
def test_derived_settings_come_from_the_stack_not_the_config(stack, service):
    spec = stack_settings(stack).service(service)
    environment = dict(spec.environment)
    derived = {
        DerivedFrom.ENVIRONMENT: stack,
        DerivedFrom.CONTAINER_PORT: str(spec.contract.container_port),
        DerivedFrom.DISCOVERY_TTL: str(service_discovery.RECORD_TTL_SECONDS),
        DerivedFrom.DEPENDENCY_CHECK_TIMEOUT: str(target_group.DEPENDENCY_CHECK_TIMEOUT_SECONDS),
    }
    for setting in spec.contract.settings:
        if setting.derived_from:
            assert environment[setting.env_var] == derived[setting.derived_from]


def test_settings_are_frozen(dev_values):
    settings = load(dev_values)
    with pytest.raises(AttributeError):
        settings.environment = "production"


# --------------------------------------------------------------------------- #
# The contract's requirements
# --------------------------------------------------------------------------- #


@each_service
def test_each_missing_required_secret_names_it_what_breaks_and_the_fix(stack, service):
    for requirement in CONTRACTS[service].secrets:
        values, config = service_config(stack, service)
        del config["secrets"][requirement.env_var]
        message = stack_problems(stack, values)[key(service, "secrets", requirement.env_var)]
        assert requirement.breaks in message
        assert requirement.secret_name_for(stack) in message  # the fix names the conventional secret


@each_service
def test_a_service_without_any_secrets_lists_every_missing_one(stack, service):
    values, config = service_config(stack, service)
    del config["secrets"]
    found = stack_problems(stack, values) if CONTRACTS[service].secrets else {}
    assert {k for k in found if ".secrets." in k} == {
        key(service, "secrets", name) for name in CONTRACTS[service].secret_names
    }


@each_service
def test_each_missing_required_setting_is_named(stack, service):
    required = [s for s in CONTRACTS[service].settings if not s.derived_from]
    if not required:
        pytest.skip(f"the {service} contract has no plain setting the stack supplies")
    for setting in required:
        values, config = service_config(stack, service)
        del config["environment"][setting.env_var]
        assert (
            f"required by the {service} service"
            in stack_problems(stack, values)[key(service, "environment", setting.env_var)]
        )


@pytest.mark.parametrize("service", [k for k, c in CONTRACTS.items() if any(not s.derived_from for s in c.settings)])
def test_each_missing_required_setting_of_every_contract_is_named(dev_values, service):
    """Also for the contracts no stack file deploys yet (a stack may add them: with_every_contract)."""
    for setting in (s for s in CONTRACTS[service].settings if not s.derived_from):
        values = with_every_contract(copy.deepcopy(dev_values))
        del values["hokusai:services"][service]["environment"][setting.env_var]
        assert f"required by the {service} service" in problems(values)[key(service, "environment", setting.env_var)]


@each_service
def test_a_derived_setting_may_not_be_written_twice(stack, service):
    for setting in CONTRACTS[service].settings:
        if not setting.derived_from:
            continue
        values, config = service_config(stack, service)
        config["environment"][setting.env_var] = "9000"
        assert "set by the program" in stack_problems(stack, values)[key(service, "environment", setting.env_var)]


@each_service
def test_a_credential_in_plain_environment_is_refused(stack, service):
    for name in (*CONTRACTS[service].secret_names, "SOME_TOKEN", "DB_PASSWORD", "SENTRY_DSN"):
        values, config = service_config(stack, service)
        config["environment"][name] = "not-a-real-value"
        assert (
            f"move it to hokusai:services.{service}.secrets"
            in stack_problems(stack, values)[key(service, "environment", name)]
        )


@each_service
def test_a_password_inside_a_url_is_refused(stack, service):
    values, config = service_config(stack, service)
    name = next(iter(config["environment"]))
    config["environment"][name] = "redis://:hunter2@redis.internal:6379/0"
    assert "a URL with a password in it" in stack_problems(stack, values)[key(service, "environment", name)]


@each_service
def test_a_variable_cannot_be_both_plain_and_secret(stack, service):
    values, config = service_config(stack, service)
    name = next(iter(config["environment"]))
    config["secrets"][name] = {"existing": f"hokusai/{stack}/{name.lower()}"}
    assert "both" in stack_problems(stack, values)[key(service, "environment", name)]


@each_service
def test_an_unknown_service_is_refused_with_a_suggestion(stack, service):
    values, config = service_config(stack, service)
    values["hokusai:services"][service + "x"] = config
    assert f"did you mean '{service}'" in stack_problems(stack, values)[key(service + "x")]


# --------------------------------------------------------------------------- #
# Secrets' sources
# --------------------------------------------------------------------------- #


def a_secret(service) -> str:
    if not CONTRACTS[service].secrets:
        pytest.skip(f"the {service} contract requires no secret")
    return CONTRACTS[service].secrets[0].env_var


@each_service
def test_a_secret_must_say_where_it_lives(stack, service):
    values, config = service_config(stack, service)
    config["secrets"][a_secret(service)] = {}
    assert (
        "exactly one of 'existing' or 'create'"
        in stack_problems(stack, values)[key(service, "secrets", a_secret(service))]
    )


@each_service
def test_a_secret_cannot_be_both_existing_and_created(stack, service):
    values, config = service_config(stack, service)
    config["secrets"][a_secret(service)] = {"existing": "a/b", "create": "a/b"}
    assert key(service, "secrets", a_secret(service)) in stack_problems(stack, values)


def declared(values, service, variable, stack, **extra):
    """The secret declared by the program for every service that uses it (shared secrets must agree)."""
    name = CONTRACTS[service].secret(variable).secret_name_for(stack)
    for config in values["hokusai:services"].values():
        if variable in config["secrets"]:
            config["secrets"][variable] = {"create": name, **extra}
    return values


@each_service
def test_a_secret_value_must_come_from_an_encrypted_config_value(stack, service):
    variable = a_secret(service)
    values = declared(stack_values(stack), service, variable, stack, value_from="declaredValue")
    values["hokusai:declaredValue"] = "plain text value"
    message = stack_problems(stack, values)[key(service, "secrets", variable, "value_from")]
    assert "pulumi config set --secret declaredValue" in message


@each_service
def test_an_encrypted_config_value_is_accepted(stack, service):
    variable = a_secret(service)
    values = declared(stack_values(stack), service, variable, stack, value_from="declaredValue")
    values["hokusai:declaredValue"] = "[secret]"
    settings = load(values, stack=stack, secret_keys=[*stack_secret_keys(stack), "hokusai:declaredValue"])
    assert {s.env_var: s.value_from for s in settings.service(service).secrets}[variable] == "declaredValue"


@each_service
def test_an_existing_secret_keeps_its_value(stack, service):
    values, config = service_config(stack, service)
    variable = a_secret(service)
    if "existing" not in config["secrets"][variable]:
        pytest.skip(f"{service} declares {variable} in {stack}")
    config["secrets"][variable]["value_from"] = "dbPassword"
    found = problems(values, stack=stack, secret_keys=[*stack_secret_keys(stack), "hokusai:dbPassword"])
    assert "only applies to a secret the program creates" in found[key(service, "secrets", variable, "value_from")]


@each_service
def test_a_created_secret_is_named_not_arned(stack, service):
    settings, variable = stack_settings(stack), a_secret(service)
    name = CONTRACTS[service].secret(variable).secret_name_for(stack)
    values, config = service_config(stack, service)
    config["secrets"][variable] = {
        "create": f"arn:aws:secretsmanager:{settings.region}:{settings.account_id}:secret:{name}"
    }
    assert key(service, "secrets", variable, "create") in stack_problems(stack, values)


@each_service
@pytest.mark.parametrize("where,expected", [("region", "region eu-west-1"), ("account", "account 999999999999")])
def test_a_secret_arn_from_another_region_or_account_is_refused(stack, service, where, expected):
    settings, variable = stack_settings(stack), a_secret(service)
    region = "eu-west-1" if where == "region" else settings.region
    account = "999999999999" if where == "account" else settings.account_id
    name = CONTRACTS[service].secret(variable).secret_name_for(stack)
    values, config = service_config(stack, service)
    config["secrets"][variable] = {"existing": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}"}
    assert expected in stack_problems(stack, values)[key(service, "secrets", variable, "existing")]


def test_a_shared_secret_must_be_declared_the_same_way_everywhere(dev_values) -> None:
    with_every_contract(dev_values)
    services = dev_values["hokusai:services"]
    users: dict[str, list[str]] = {}
    for service, config in services.items():
        for variable in config["secrets"]:
            users.setdefault(variable, []).append(service)
    shared = {variable: keys for variable, keys in users.items() if len(keys) > 1}
    if not shared:
        pytest.skip("no contract shares a secret with another")
    variable, (first, second, *_) = next(iter(shared.items()))
    services[second]["secrets"][variable] = {
        "create": CONTRACTS[second].secret(variable).secret_name_for("development")
    }
    assert "differently" in problems(dev_values)[key(second, "secrets", variable)]


# --------------------------------------------------------------------------- #
# Task size, image, scaling, routes
# --------------------------------------------------------------------------- #


@each_service
@pytest.mark.parametrize("cpu,memory", [(256, 4096), (512, 512), (1024, 1024), (4096, 4096)])
def test_an_invalid_fargate_pair_is_refused_with_the_valid_range(stack, service, cpu, memory):
    values, config = service_config(stack, service)
    config["cpu"], config["memory"] = cpu, memory
    assert f"with cpu {cpu}, memory must be" in stack_problems(stack, values)[key(service, "memory")]


@each_service
@pytest.mark.parametrize("cpu", sorted(VALID_SIZES))
def test_the_smallest_and_largest_memory_of_every_cpu_size_are_accepted(stack, service, cpu):
    for memory in (VALID_SIZES[cpu][0], VALID_SIZES[cpu][-1]):
        values, config = service_config(stack, service)
        config["cpu"], config["memory"] = cpu, memory
        assert load_stack(stack, values).service(service).memory == memory


@each_service
def test_an_unknown_cpu_size_is_named(stack, service):
    values, config = service_config(stack, service)
    config["cpu"] = 300
    assert key(service, "cpu") in stack_problems(stack, values)


@each_service
@pytest.mark.parametrize("tag", ["", ":latest"])
def test_an_image_must_be_pinned(stack, service, tag):
    values, config = service_config(stack, service)
    config["image"] = config["image"].split("@")[0].rsplit(":", 1)[0] + tag
    assert key(service, "image") in stack_problems(stack, values)


@each_service
def test_an_image_may_be_pinned_by_digest(stack, service):
    values, config = service_config(stack, service)
    config["image"] = config["image"].split("@")[0].rsplit(":", 1)[0] + "@sha256:" + "a" * 64
    assert load_stack(stack, values).service(service).image.endswith("a" * 64)


@each_service
def test_desired_count_must_sit_inside_the_autoscaling_bounds(stack, service):
    scaling = stack_settings(stack).service(service).autoscaling
    values, config = service_config(stack, service)
    config["autoscaling"] = {"min": scaling.min_count, "max": scaling.max_count}
    config["desired_count"] = scaling.max_count + 1
    assert (
        f"outside min {scaling.min_count} .. max {scaling.max_count}"
        in stack_problems(stack, values)[key(service, "autoscaling")]
    )


@each_service
def test_booleans_are_not_numbers(stack, service):
    values, config = service_config(stack, service)
    config["desired_count"] = True
    assert "whole number" in stack_problems(stack, values)[key(service, "desired_count")]


@each_service
def test_numbers_given_as_text_are_read(stack, service):
    values, config = service_config(stack, service)
    config["cpu"], config["memory"] = "1024", "2048"
    assert load_stack(stack, values).service(service).cpu == 1024


@each_service
def test_a_route_must_match_something(stack, service):
    values, config = service_config(stack, service)
    config["routes"] = [{"priority": config["routes"][0]["priority"]}]
    assert "neither hosts nor paths" in stack_problems(stack, values)[key(service, "routes[0]")]


@each_service
def test_a_route_has_at_most_five_values(stack, service):
    values, config = service_config(stack, service)
    config["routes"] = [
        {
            "priority": config["routes"][0]["priority"],
            "hosts": ["a.hokus.ai", "b.hokus.ai", "c.hokus.ai"],
            "paths": ["/a", "/b", "/c"],
        }
    ]
    assert "at most 5" in stack_problems(stack, values)[key(service, "routes[0]")]


def test_route_priorities_are_unique_across_services(dev_values):
    services = with_every_contract(dev_values)["hokusai:services"]
    (first, taken), (second, _), *_ = services.items()
    services[second]["routes"][0]["priority"] = taken["routes"][0]["priority"]
    assert f"already used by services.{first}" in problems(dev_values)[key(second, "routes[0].priority")]


@each_service
def test_route_priorities_are_unique_within_a_service(stack, service):
    """Two rules of one service on one priority: the listener takes only one of them."""
    values, config = service_config(stack, service)
    route = config["routes"][0]
    config["routes"] = [route, {**route, "hosts": ["other.hokus.ai"], "paths": []}]
    assert f"already used by services.{service}" in stack_problems(stack, values)[key(service, "routes[1].priority")]


@each_service
def test_a_path_must_start_with_a_slash(stack, service):
    values, config = service_config(stack, service)
    config["routes"] = [{"priority": config["routes"][0]["priority"], "paths": ["api/mlflow/*"]}]
    assert key(service, "routes[0].paths[0]") in stack_problems(stack, values)


# --------------------------------------------------------------------------- #
# Network, load balancer, the rest (dependencies: tests/test_dependency_settings.py)
# --------------------------------------------------------------------------- #


def test_the_load_balancer_is_adopted_or_created_not_both(dev_values):
    dev_values["hokusai:load_balancer"]["create"] = True
    assert "not both" in problems(dev_values)["hokusai:load_balancer"]


def test_the_load_balancer_must_be_chosen(dev_values):
    dev_values["hokusai:load_balancer"] = {}
    assert "neither" in problems(dev_values)["hokusai:load_balancer"]


def test_a_new_load_balancer_needs_public_subnets(dev_values):
    with_new_load_balancer(dev_values)
    dev_values["hokusai:network"]["public_subnet_ids"] = ["subnet-0a1b2c3d4e5f60101"]
    assert "at least two public subnets" in problems(dev_values)["hokusai:network.public_subnet_ids"]


def test_a_new_load_balancer_with_a_certificate_loads(dev_values):
    settings = load(with_new_load_balancer(dev_values))
    assert settings.load_balancer.creates_load_balancer and settings.load_balancer.certificate_arn


def test_a_listener_in_another_region_is_refused(dev_values):
    dev_values["hokusai:load_balancer"]["listener_arn"] = (
        f"arn:aws:elasticloadbalancing:eu-west-1:{dev_values['hokusai:account_id']}:listener/app/x/"
        "0123456789abcdef/0123456789abcdef"
    )
    assert "region eu-west-1" in problems(dev_values)["hokusai:load_balancer.listener_arn"]


def test_a_listener_arn_must_be_a_listener(dev_values):
    dev_values["hokusai:load_balancer"]["listener_arn"] = (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/y"
    )
    assert (
        "not the ARN of an Application Load Balancer listener"
        in problems(dev_values)["hokusai:load_balancer.listener_arn"]
    )


@each_stack
def test_a_dependency_is_required_when_a_service_reaches_it(stack):
    """Each dependency a service of the stack reaches and the stack declares: without it, the load
    names every service that reaches it (the `hokusai:redis` section of old, for each dependency)."""
    declared = [d for d in stack_settings(stack).dependencies if d.service is None and d.consumers]
    if not declared:
        pytest.skip(f"no service of {stack} reaches a declared dependency")
    for dependency in declared:
        values = stack_values(stack)
        del values["hokusai:dependencies"][dependency.name]
        message = stack_problems(stack, values)[f"hokusai:dependencies.{dependency.name}"]
        assert any(f"the {consumer} service reaches {dependency.name}" in message for consumer in dependency.consumers)


@pytest.mark.parametrize("dependency", dependency_names())
def test_a_dependency_is_optional_when_no_service_reaches_it(dev_values, dependency):
    services = with_every_contract(dev_values)["hokusai:services"]
    for key_ in [k for k in services if dependency in CONTRACTS[k].dependency_names]:
        del services[key_]
    (dev_values.get("hokusai:dependencies") or {}).pop(dependency, None)
    if not services:
        pytest.skip(f"every contract reaches {dependency}")
    settings = load(dev_values)
    assert dependency not in {d.name for d in settings.dependencies}
    assert all(dependency not in s.contract.dependency_names for s in settings.services)


@pytest.mark.parametrize(
    "key_,value",
    [
        ("hokusai:network", {"vpc_id": "vpc-123", "private_subnet_ids": ["subnet-0a1b2c3d4e5f60001"]}),
        ("hokusai:account_id", "12345"),
        ("hokusai:log_retention_days", 42),
        ("hokusai:alarm_emails", ["not-an-address"]),
        ("hokusai:deploy_gate", {"timeout_seconds": 5}),
        ("hokusai:tags", {"aws:reserved": "x"}),
    ],
)
def test_bad_values_are_named(dev_values, key_, value):
    dev_values[key_] = value
    assert any(k.startswith(key_) for k in problems(dev_values))


def test_a_missing_region_is_named(dev_values):
    del dev_values["aws:region"]
    assert "pulumi config set aws:region" in problems(dev_values)["aws:region"]


def test_an_unusable_stack_name_is_named(dev_values):
    assert "stack" in problems(dev_values, stack="Dev_Stack")


@each_service
def test_an_unknown_key_gets_a_did_you_mean(stack, service):
    values, config = service_config(stack, service)
    values["hokusai:log_retention_day"] = 30
    config["desired_cuont"] = 2
    found = stack_problems(stack, values)
    assert "did you mean 'log_retention_days'" in found["hokusai:log_retention_day"]
    assert "did you mean 'desired_count'" in found[key(service, "desired_cuont")]


@each_service
def test_every_problem_is_reported_at_once(stack, service):
    values, config = service_config(stack, service)
    if config["secrets"]:
        del config["secrets"][next(iter(config["secrets"]))]
    else:
        config["cpu"] = 300
    config["memory"] = 333
    config["imagee"] = "x"
    values["hokusai:network"]["vpc_id"] = "vpc-nope"
    values["hokusai:log_retention_days"] = 42
    with pytest.raises(SettingsError) as caught:
        load_stack(stack, values)
    assert len(caught.value.problems) == 5
    text = str(caught.value)
    assert text.startswith(f"stack '{stack}' has 5 configuration problems:")
    assert text.count("fix:") == 5


def test_nothing_but_a_mapping_is_a_config():
    with pytest.raises(SettingsError) as caught:
        load_settings(["not", "a", "mapping"], stack=STACKS[0], region="us-east-1")
    assert caught.value.problems[0].key == "hokusai:"


def test_raw_helper_strips_the_namespace(dev_values):
    assert "services" in hokusai_raw(dev_values) and "aws:region" not in hokusai_raw(dev_values)


def test_tags_up_to_what_aws_allows_per_resource_load_and_one_more_is_refused(dev_values):
    from core.settings.tags import AWS_TAGS_PER_RESOURCE, PROGRAM_TAG_KEYS

    room = AWS_TAGS_PER_RESOURCE - len(PROGRAM_TAG_KEYS)
    dev_values["hokusai:tags"] = {f"k{i}": "v" for i in range(room)}
    assert len(load(dev_values).resource_tags) == AWS_TAGS_PER_RESOURCE
    dev_values["hokusai:tags"][f"k{room}"] = "v"
    assert f"AWS allows {AWS_TAGS_PER_RESOURCE} per resource" in problems(dev_values)["hokusai:tags"]


def test_the_tags_the_program_sets_itself_are_the_ones_the_limit_counts(dev_values):
    from core.settings.tags import PROGRAM_TAG_KEYS

    settings = load(dev_values)
    assert set(settings.resource_tags) - {name for name, _ in settings.tags} == set(PROGRAM_TAG_KEYS)


@each_service
def test_a_contract_secret_set_as_a_plain_setting_is_refused_whatever_its_name(stack, service):
    """By the contract, not by the name: MLflow's BACKEND_STORE_URI holds a password but does not look it."""
    values, config = service_config(stack, service)
    names = CONTRACTS[service].secret_names
    if not names:
        pytest.skip(f"the {service} contract requires no secret")
    for name in names:
        (config.get("environment") or config.setdefault("environment", {}))[name] = "a-plain-value"
    found = stack_problems(stack, values)
    for name in names:
        assert "but is configured as a plain setting" in found[key(service, f"environment.{name}")]


# --------------------------------------------------------------------------- #
# A service's target group name: derived unless the stack fixes it (the live group's)
# --------------------------------------------------------------------------- #


@each_service
def test_without_a_target_group_name_the_name_is_derived_from_what_replaces_the_group(stack, service):
    values = stack_values(stack)
    values["hokusai:services"][service].pop("target_group_name", None)
    settings = load_stack(stack, values)
    contract = CONTRACTS[service]
    assert settings.service(service).target_group_name == naming.target_group_name(
        service, stack, port=contract.container_port, vpc_id=settings.network.vpc_id
    )


@each_service
def test_a_fixed_target_group_name_is_the_groups_name(stack, service):
    values = stack_values(stack)
    values["hokusai:services"][service]["target_group_name"] = f"fixed-{service}-tg"
    assert load_stack(stack, values).service(service).target_group_name == f"fixed-{service}-tg"


@pytest.mark.parametrize("name", ["-leading-hyphen", "trailing-hyphen-", "internal-x", "x" * 33, "under_score"])
def test_a_target_group_name_aws_refuses_is_a_settings_problem(dev_values, name):
    dev_values["hokusai:services"]["api"]["target_group_name"] = name
    found = problems(dev_values)
    assert "hokusai:services.api.target_group_name" in found


@each_stack
def test_two_services_cannot_share_a_target_group_name(stack):
    values = with_every_contract(stack_values(stack), stack)
    keys = list(values["hokusai:services"])
    if len(keys) < 2:
        pytest.skip(f"{stack} has one service")
    for key in keys[:2]:
        values["hokusai:services"][key]["target_group_name"] = "shared-tg"
    found = stack_problems(stack, values)
    key = f"hokusai:services.{keys[1]}.target_group_name"
    assert key in found
    assert f"already the target group of services.{keys[0]}" in found[key]
