"""Settings validation: GIVEN a stack config, WHEN it is loaded, THEN every
problem is reported at once, each naming its key, what is wrong and the fix."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings
from tests.helpers import hokusai_raw, load, with_mlflow, with_new_load_balancer


def problems(values, **kwargs) -> dict[str, str]:
    """key -> "what || fix" for every problem the loader reports."""
    with pytest.raises(SettingsError) as caught:
        load(values, **kwargs)
    return {p.key: f"{p.what} || {p.fix}" for p in caught.value.problems}


# --------------------------------------------------------------------------- #
# The development stack
# --------------------------------------------------------------------------- #


def test_the_development_stack_loads(dev_values):
    settings = load(dev_values)
    api = settings.service("api")
    assert settings.cluster_name == "hokusai-development"
    assert (api.name, api.log_group_name) == ("hokusai-api-development", "/ecs/hokusai-api-development")
    assert (api.container_name, api.container_port, api.cpu, api.memory) == ("api", 8001, 512, 1024)
    assert {s.env_var for s in api.secrets} == {
        "HUGGINGFACE_API_KEY",
        "DB_PASSWORD",
        "REDIS_AUTH_TOKEN",
        "API_SECRET_KEY",
    }
    assert settings.dependency("redis").port == 6379


def test_derived_settings_come_from_the_stack_not_the_config(dev_values):
    environment = dict(load(dev_values).service("api").environment)
    assert environment["ENVIRONMENT"] == "development"
    assert environment["API_PORT"] == "8001"


def test_settings_are_frozen(dev_values):
    settings = load(dev_values)
    with pytest.raises(AttributeError):
        settings.environment = "production"


# --------------------------------------------------------------------------- #
# The contract's requirements
# --------------------------------------------------------------------------- #


def test_a_missing_required_secret_names_it_what_breaks_and_the_fix(api, dev_values):
    del api["secrets"]["HUGGINGFACE_API_KEY"]
    found = problems(dev_values)
    message = found["hokusai:services.api.secrets.HUGGINGFACE_API_KEY"]
    assert "HuggingFace token not configured" in message
    assert "hokusai/development/huggingface/api-key" in message  # the fix names the conventional secret


def test_a_stack_without_any_secrets_lists_every_missing_one(api, dev_values):
    del api["secrets"]
    found = problems(dev_values)
    assert {k for k in found if ".secrets." in k} == {
        f"hokusai:services.api.secrets.{name}"
        for name in ("HUGGINGFACE_API_KEY", "DB_PASSWORD", "REDIS_AUTH_TOKEN", "API_SECRET_KEY")
    }


def test_a_missing_required_setting_is_named(dev_values):
    with_mlflow(dev_values)
    del dev_values["hokusai:services"]["mlflow"]["environment"]["MLFLOW_ARTIFACT_ROOT"]
    assert (
        "required by the mlflow service"
        in problems(dev_values)["hokusai:services.mlflow.environment.MLFLOW_ARTIFACT_ROOT"]
    )


def test_a_derived_setting_may_not_be_written_twice(api, dev_values):
    api["environment"]["API_PORT"] = "9000"
    assert "set by the program" in problems(dev_values)["hokusai:services.api.environment.API_PORT"]


@pytest.mark.parametrize("name", ["HUGGINGFACE_API_KEY", "SOME_TOKEN", "DB_PASSWORD"])
def test_a_credential_in_plain_environment_is_refused(api, dev_values, name):
    api["environment"][name] = "not-a-real-value"
    assert "move it to hokusai:services.api.secrets" in problems(dev_values)[f"hokusai:services.api.environment.{name}"]


def test_a_password_inside_a_url_is_refused(api, dev_values):
    api["environment"]["CACHE_URL"] = "redis://:hunter2@redis.internal:6379/0"
    assert "password inside a URL" in problems(dev_values)["hokusai:services.api.environment.CACHE_URL"]


def test_a_variable_cannot_be_both_plain_and_secret(api, dev_values):
    api["secrets"]["AUTH_SERVICE_ID"] = {"existing": "hokusai/development/auth/service-id"}
    assert "both" in problems(dev_values)["hokusai:services.api.environment.AUTH_SERVICE_ID"]


def test_an_unknown_service_is_refused_with_a_suggestion(dev_values):
    dev_values["hokusai:services"]["apii"] = dev_values["hokusai:services"]["api"]
    assert "did you mean 'api'" in problems(dev_values)["hokusai:services.apii"]


# --------------------------------------------------------------------------- #
# Secrets' sources
# --------------------------------------------------------------------------- #


def test_a_secret_must_say_where_it_lives(api, dev_values):
    api["secrets"]["DB_PASSWORD"] = {}
    assert "exactly one of 'existing' or 'create'" in problems(dev_values)["hokusai:services.api.secrets.DB_PASSWORD"]


def test_a_secret_cannot_be_both_existing_and_created(api, dev_values):
    api["secrets"]["DB_PASSWORD"] = {"existing": "a/b", "create": "a/b"}
    assert "hokusai:services.api.secrets.DB_PASSWORD" in problems(dev_values)


def test_a_secret_value_must_come_from_an_encrypted_config_value(api, dev_values):
    api["secrets"]["API_SECRET_KEY"] = {"create": "hokusai/development/api/secret-key", "value_from": "apiSecretKey"}
    dev_values["hokusai:apiSecretKey"] = "plain text value"
    message = problems(dev_values)["hokusai:services.api.secrets.API_SECRET_KEY.value_from"]
    assert "pulumi config set --secret apiSecretKey" in message


def test_an_encrypted_config_value_is_accepted(api, dev_values):
    api["secrets"]["API_SECRET_KEY"] = {"create": "hokusai/development/api/secret-key", "value_from": "apiSecretKey"}
    dev_values["hokusai:apiSecretKey"] = "[secret]"
    settings = load(dev_values, secret_keys=["hokusai:apiSecretKey"])
    assert {s.env_var: s.value_from for s in settings.secret_sources}["API_SECRET_KEY"] == "apiSecretKey"


def test_an_existing_secret_keeps_its_value(api, dev_values):
    api["secrets"]["DB_PASSWORD"]["value_from"] = "dbPassword"
    assert (
        "only applies to a secret the program creates"
        in problems(dev_values, secret_keys=["hokusai:dbPassword"])[
            "hokusai:services.api.secrets.DB_PASSWORD.value_from"
        ]
    )


def test_a_created_secret_is_named_not_arned(api, dev_values):
    api["secrets"]["API_SECRET_KEY"] = {
        "create": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/api/secret-key"
    }
    assert "hokusai:services.api.secrets.API_SECRET_KEY.create" in problems(dev_values)


def test_a_secret_arn_from_another_region_is_refused(api, dev_values):
    api["secrets"]["DB_PASSWORD"] = {
        "existing": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hokusai/development/database/password"
    }
    assert "region eu-west-1" in problems(dev_values)["hokusai:services.api.secrets.DB_PASSWORD.existing"]


def test_a_secret_arn_from_another_account_is_refused(api, dev_values):
    api["secrets"]["DB_PASSWORD"] = {
        "existing": "arn:aws:secretsmanager:us-east-1:999999999999:secret:hokusai/development/database/password"
    }
    assert "account 999999999999" in problems(dev_values)["hokusai:services.api.secrets.DB_PASSWORD.existing"]


def test_a_shared_secret_must_be_declared_the_same_way_everywhere(dev_values):
    with_mlflow(dev_values)
    dev_values["hokusai:services"]["mlflow"]["secrets"]["DB_PASSWORD"] = {
        "create": "hokusai/development/database/password"
    }
    assert "differently" in problems(dev_values)["hokusai:services.mlflow.secrets.DB_PASSWORD"]


# --------------------------------------------------------------------------- #
# Task size, image, scaling, routes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("cpu,memory", [(256, 4096), (512, 512), (1024, 1024), (4096, 4096)])
def test_an_invalid_fargate_pair_is_refused_with_the_valid_range(api, dev_values, cpu, memory):
    api["cpu"], api["memory"] = cpu, memory
    assert f"with cpu {cpu}, memory must be" in problems(dev_values)["hokusai:services.api.memory"]


@pytest.mark.parametrize("cpu,memory", [(256, 512), (512, 4096), (1024, 8192), (4096, 30720), (16384, 122880)])
def test_valid_fargate_pairs_are_accepted(api, dev_values, cpu, memory):
    api["cpu"], api["memory"] = cpu, memory
    assert load(dev_values).service("api").memory == memory


def test_an_unknown_cpu_size_is_named(api, dev_values):
    api["cpu"] = 300
    assert "hokusai:services.api.cpu" in problems(dev_values)


@pytest.mark.parametrize(
    "image", ["hokusai/api", "hokusai/api:latest", "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/api:latest"]
)
def test_an_image_must_be_pinned(api, dev_values, image):
    api["image"] = image
    assert "hokusai:services.api.image" in problems(dev_values)


def test_an_image_may_be_pinned_by_digest(api, dev_values):
    api["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/api@sha256:" + "a" * 64
    assert load(dev_values).service("api").image.endswith("a" * 64)


def test_desired_count_must_sit_inside_the_autoscaling_bounds(api, dev_values):
    api["desired_count"] = 10
    assert "outside min 2 .. max 6" in problems(dev_values)["hokusai:services.api.autoscaling"]


def test_booleans_are_not_numbers(api, dev_values):
    api["desired_count"] = True
    assert "whole number" in problems(dev_values)["hokusai:services.api.desired_count"]


def test_numbers_given_as_text_are_read(api, dev_values):
    api["cpu"], api["memory"] = "1024", "2048"
    assert load(dev_values).service("api").cpu == 1024


def test_a_route_must_match_something(api, dev_values):
    api["routes"] = [{"priority": 100}]
    assert "neither hosts nor paths" in problems(dev_values)["hokusai:services.api.routes[0]"]


def test_a_route_has_at_most_five_values(api, dev_values):
    api["routes"] = [
        {"priority": 100, "hosts": ["a.hokus.ai", "b.hokus.ai", "c.hokus.ai"], "paths": ["/a", "/b", "/c"]}
    ]
    assert "at most 5" in problems(dev_values)["hokusai:services.api.routes[0]"]


def test_route_priorities_are_unique_across_services(dev_values):
    with_mlflow(dev_values)["hokusai:services"]["mlflow"]["routes"][0]["priority"] = 100
    assert "already used by services.api" in problems(dev_values)["hokusai:services.mlflow.routes[0].priority"]


def test_a_path_must_start_with_a_slash(api, dev_values):
    api["routes"][1]["paths"] = ["api/mlflow/*"]
    assert "hokusai:services.api.routes[1].paths[0]" in problems(dev_values)


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
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x/0123456789abcdef/0123456789abcdef"
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


@pytest.mark.parametrize(
    "key,value",
    [
        ("hokusai:network", {"vpc_id": "vpc-123", "private_subnet_ids": ["subnet-0a1b2c3d4e5f60001"]}),
        ("hokusai:account_id", "12345"),
        ("hokusai:log_retention_days", 42),
        ("hokusai:alarm_emails", ["not-an-address"]),
        ("hokusai:deploy_gate", {"timeout_seconds": 5}),
        ("hokusai:tags", {"aws:reserved": "x"}),
    ],
)
def test_bad_values_are_named(dev_values, key, value):
    dev_values[key] = value
    assert any(k.startswith(key) for k in problems(dev_values))


def test_a_missing_region_is_named(dev_values):
    del dev_values["aws:region"]
    assert "pulumi config set aws:region" in problems(dev_values)["aws:region"]


def test_an_unusable_stack_name_is_named(dev_values):
    assert "stack" in problems(dev_values, stack="Dev_Stack")


def test_an_unknown_key_gets_a_did_you_mean(dev_values):
    dev_values["hokusai:log_retention_day"] = 30
    dev_values["hokusai:services"]["api"]["desired_cuont"] = 2
    found = problems(dev_values)
    assert "did you mean 'log_retention_days'" in found["hokusai:log_retention_day"]
    assert "did you mean 'desired_count'" in found["hokusai:services.api.desired_cuont"]


def test_every_problem_is_reported_at_once(api, dev_values):
    del api["secrets"]["HUGGINGFACE_API_KEY"]
    api["memory"] = 333
    api["imagee"] = "x"
    dev_values["hokusai:network"]["vpc_id"] = "vpc-nope"
    dev_values["hokusai:log_retention_days"] = 42
    with pytest.raises(SettingsError) as caught:
        load(dev_values)
    assert len(caught.value.problems) == 5
    text = str(caught.value)
    assert text.startswith("stack 'development' has 5 configuration problems:")
    assert text.count("fix:") == 5


def test_nothing_but_a_mapping_is_a_config():
    with pytest.raises(SettingsError) as caught:
        load_settings(["not", "a", "mapping"], stack="development", region="us-east-1")
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
