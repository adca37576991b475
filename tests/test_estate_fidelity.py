"""The development stack follows the live estate (core/fidelity.py): each value that names
something the estate has is the recorded live value, a recorded deliberate difference, or a
recorded placeholder; nothing the record knows about the stack's services is left unbound;
and what the program deploys is what the bound values say.

The check is a function returning what is wrong, so each kind of fault is planted in a copy
(of the stack's config, the bindings or the record) and watched being found.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core import documents, fidelity, service_discovery
from core.fidelity import BINDINGS, Binding, Part, Relation, Source, Where, check, record_entry, unbound
from core.live_estate import LIVE, Fact, Placeholder, lookup
from core.target_group import HEALTH_CHECK_TIMEOUT_SECONDS
from core.tls_policies import ALLOWED_TLS_POLICIES
from tests.helpers import (
    by_type,
    container,
    each_service,
    load,
    reads_config,
    rendered,
    stack_secret_keys,
    stack_settings,
    stack_values,
)

# The stacks with a live counterpart (the record is of the development estate).
BOUND_STACKS = sorted(BINDINGS)
ALL_BINDINGS = [(stack, binding) for stack in BOUND_STACKS for binding in BINDINGS[stack]]


def _id(item: tuple[str, Binding]) -> str:
    stack, binding = item
    return f"{stack}:{binding.where.path}{'' if binding.where.part is Part.WHOLE else f'({binding.where.part})'}->{binding.record}"


def problems(stack: str, bindings=None, values=None, estate=None) -> list[str]:
    values = stack_values(stack) if values is None else values
    settings = load(values, stack=stack, secret_keys=stack_secret_keys(stack))
    return check(BINDINGS[stack] if bindings is None else bindings, values, settings, estate)


# --------------------------------------------------------------------------- #
# The stack holds them
# --------------------------------------------------------------------------- #


@reads_config
@pytest.mark.parametrize("item", ALL_BINDINGS, ids=[_id(i) for i in ALL_BINDINGS])
def test_each_bound_value_is_the_live_one_a_recorded_difference_or_a_recorded_placeholder(item):
    stack, binding = item
    assert problems(stack, [binding]) == []


@reads_config
@pytest.mark.parametrize("stack", BOUND_STACKS)
def test_nothing_the_record_knows_about_the_stacks_services_is_left_unbound(stack):
    assert unbound(BINDINGS[stack], stack_settings(stack)) == []


@reads_config
def test_the_stack_with_a_live_counterpart_is_a_stack_of_this_repository():
    from tests.helpers import STACKS

    assert set(BOUND_STACKS) <= set(STACKS)


# --------------------------------------------------------------------------- #
# Each kind of fault is found
# --------------------------------------------------------------------------- #

STACK = fidelity.STACK


def _binding(record: str, source: Source | None = None) -> Binding:
    return next(b for b in BINDINGS[STACK] if b.record == record and (source is None or b.where.source is source))


def test_a_stack_value_that_is_not_the_live_one_is_found():
    values = stack_values(STACK)
    values["hokusai:network"]["vpc_id"] = "vpc-0123456789abcdef0"
    assert problems(STACK, [_binding("network.vpc_id")], values) == [
        f"Pulumi.{STACK}.yaml `hokusai:network.vpc_id` -> network.vpc_id: "
        "'vpc-0123456789abcdef0' is not the live value 'vpc-0ca0902abd6eb1cba'"
    ]


def test_a_list_is_compared_item_by_item_in_order():
    values = stack_values(STACK)
    values["hokusai:network"]["private_subnet_ids"] = values["hokusai:network"]["private_subnet_ids"][:1]
    (found,) = problems(STACK, [_binding("network.private_subnets")], values)
    assert "is not the live value" in found


def test_a_changed_secret_name_or_json_key_is_found():
    values = stack_values(STACK)
    secret = values["hokusai:services"]["api"]["secrets"]["DB_PASSWORD"]
    secret["existing"], secret["json_key"] = "hokusai/development/database/password", "password"
    bindings = [b for b in BINDINGS[STACK] if b.where.source is Source.STACK and "DB_PASSWORD" in b.where.path]
    assert len(problems(STACK, bindings, values)) == 2


def test_a_value_not_among_the_live_ones_is_found():
    values = stack_values(STACK)
    values["hokusai:services"]["api"]["image"] = "932100697590.dkr.ecr.us-east-1.amazonaws.com/other-api:1.0.0"
    binding = next(b for b in BINDINGS[STACK] if b.relation is Relation.ONE_OF)
    (found,) = problems(STACK, [binding], values)
    assert "'other-api' is none of the live values" in found


def test_writable_paths_that_leave_out_where_the_application_writes_are_found(monkeypatch):
    binding = _binding("application.model_download_dir")
    assert binding.relation is Relation.INCLUDES
    api = fidelity.CONTRACTS[fidelity.APPLICATION_SERVICE]
    for weakened in ((), ("/var/tmp",), ("/tmp/models",)):
        monkeypatch.setitem(fidelity.CONTRACTS, api.key, replace(api, writable_paths=weakened))
        (found,) = problems(STACK, [binding])
        assert "does not include the live value '/tmp'" in found


def test_a_tls_allow_list_without_the_live_listeners_policy_is_found(monkeypatch):
    binding = _binding("load_balancers.registry.https_ssl_policy")
    live = record_entry(binding.record).value
    monkeypatch.setattr("core.tls_policies.ALLOWED_TLS_POLICIES", frozenset(ALLOWED_TLS_POLICIES - {live}))
    (found,) = problems(STACK, [binding])
    assert f"does not include the live value {live!r}" in found


@reads_config
@each_service
def test_a_service_that_no_longer_keeps_the_live_images_user_is_found(stack, service):
    """The live images run as root; a stack bound to them keeps their user (exceptions.run_as_root)
    until they add one, or records the difference."""
    bound = [b for b in BINDINGS.get(stack, ()) if b.where.path == f"services.{service}.runs_as_image_user"]
    if not bound:
        pytest.skip(f"{stack} has no live counterpart for {service}")
    values = stack_values(stack)
    values["hokusai:services"][service].get("exceptions", {}).pop("run_as_root", None)
    (found,) = problems(stack, bound, values)
    assert "False is not the live value True" in found


def test_a_difference_the_record_does_not_explain_is_found():
    binding = _binding("services.api.desired_count")
    estate = replace(LIVE, differences=tuple(d for d in LIVE.differences if d.subject != binding.difference))
    (found,) = problems(STACK, [binding], estate=estate)
    assert f"no recorded difference {binding.difference!r} explains it" in found


def test_a_difference_that_does_not_name_the_live_fact_is_found():
    binding = _binding("services.api.desired_count")
    estate = replace(
        LIVE,
        differences=tuple(
            replace(d, live_facts=("cluster.name",)) if d.subject == binding.difference else d for d in LIVE.differences
        ),
    )
    (found,) = problems(STACK, [binding], estate=estate)
    assert "does not name services.api.desired_count among its live facts" in found


def test_a_difference_that_no_longer_differs_is_found():
    values = stack_values(STACK)
    values["hokusai:services"]["api"]["desired_count"] = LIVE.services["api"].desired_count.value
    values["hokusai:services"]["api"].pop("autoscaling")
    (found,) = problems(STACK, [_binding("services.api.desired_count")], values)
    assert "is the live value: the difference 'Task count' no longer holds" in found


def test_a_placeholder_the_record_has_filled_in_is_found():
    binding = _binding("load_balancers.registry.https_listener_arn")
    known = Fact("arn:aws:elasticloadbalancing:us-east-1:932100697590:listener/app/x/1/2", LIVE.cluster.name.sources)
    registry = replace(LIVE.load_balancers["registry"], https_listener_arn=known)
    estate = replace(LIVE, load_balancers={"registry": registry})
    (found,) = problems(STACK, [binding], estate=estate)
    assert "the record knows this value now" in found


def test_a_value_bound_as_equal_to_a_placeholder_is_found():
    # Weakening a placeholder binding to "equals" would claim a value the record does not have.
    binding = replace(_binding("load_balancers.registry.https_listener_arn"), relation=Relation.EQUALS)
    (found,) = problems(STACK, [binding])
    assert "bind it as a placeholder" in found


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (Where(Source.STACK, "hokusai:network.nowhere"), "no 'nowhere' here"),
        (Where(Source.STACK, "hokusai:nothing"), "the stack file sets no hokusai:nothing"),
        (Where(Source.CONTRACT, "api.container_nmae"), "no 'container_nmae' here"),
        (Where(Source.SETTINGS, "services.web.name"), "no 'web' here"),
        (Where(Source.PROGRAM, "core.service_discovery.NOTHING"), "has no NOTHING"),
        (Where(Source.PROGRAM, "infra.service.MAX_PERCENT"), "a constant of the pure core"),
        (Where(Source.STACK, "hokusai:services.api.routes[9].priority"), "no item 9 of 'routes'"),
    ],
)
def test_a_binding_that_names_nothing_in_the_stack_is_found(where, says):
    (found,) = problems(STACK, [Binding(where, "cluster.name")])
    assert says in found


def test_a_binding_to_a_record_entry_that_does_not_exist_is_found():
    (found,) = problems(STACK, [Binding(Where(Source.SETTINGS, "cluster_name"), "cluster.nmae")])
    assert "the record has no such entry" in found


def test_an_unbound_record_entry_is_found_when_a_binding_is_removed():
    settings = stack_settings(STACK)
    for record in (
        "services.api.container_name",
        "network.vpc_id",
        "cloud_map.failure_threshold",
        "application.runs_as_root",
        "application.model_download_dir",
        "load_balancers.registry.https_ssl_policy",
    ):
        kept = [b for b in BINDINGS[STACK] if b.record != record]
        assert unbound(kept, settings) == [record]


def test_a_secret_both_sides_read_must_be_bound():
    """Required from both sides: the stack adopting a secret the live service read is bound."""
    required = fidelity.required_record_paths(stack_settings(STACK))
    for service in stack_settings(STACK).services:
        live = LIVE.services.get(service.key)
        for source in service.secrets:
            if live is not None and source.env_var in live.secrets:
                assert f"services.{service.key}.secrets.{source.env_var}.secret_name" in required


def test_a_live_rule_to_a_service_of_the_stack_must_be_bound():
    required = fidelity.required_record_paths(stack_settings(STACK))
    for index, rule in enumerate(LIVE.load_balancers["registry"].https_rules):
        assert f"load_balancers.registry.https_rules[{index}].priority" in required, rule


def test_values_are_compared_as_the_container_reads_them():
    assert fidelity.same(6379, "6379") and fidelity.same(True, "true") and fidelity.same(["a", "b"], ("a", "b"))
    assert not fidelity.same(6379, "6380") and not fidelity.same(False, "true") and not fidelity.same(["a"], ("a", "b"))


def test_a_secret_references_parts_carry_its_sources():
    entry = record_entry("services.api.secrets.DB_PASSWORD.json_key")
    reference = lookup("services.api.secrets.DB_PASSWORD")
    assert isinstance(entry, Fact) and entry.value == "database_password"
    assert entry.sources == reference.value_from.sources
    with pytest.raises(KeyError, match="not a fact or a placeholder"):
        record_entry("services.api.health_check")


def test_the_placeholder_a_config_key_stands_in_for_is_found():
    found = fidelity.placeholder_for(STACK, "hokusai:load_balancer.listener_arn")
    assert found is not None and isinstance(found[1], Placeholder)
    assert found[0] == "load_balancers.registry.https_listener_arn"
    assert fidelity.placeholder_for(STACK, "hokusai:network.vpc_id") is None
    assert fidelity.placeholder_for("no-such-stack", "hokusai:load_balancer.listener_arn") is None


# --------------------------------------------------------------------------- #
# What the program deploys is what the bound values say
# --------------------------------------------------------------------------- #


@each_service
def test_the_rendered_container_logs_and_checks_as_the_live_one(stack, service):
    definition = container(rendered(stack), service)
    options = definition["logConfiguration"]["options"]
    assert options["awslogs-stream-prefix"] == documents.LOG_STREAM_PREFIX
    check_ = definition["healthCheck"]
    assert (check_["interval"], check_["timeout"], check_["retries"], check_["startPeriod"]) == (
        documents.CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS,
        documents.CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS,
        documents.CONTAINER_HEALTH_CHECK_RETRIES,
        documents.CONTAINER_HEALTH_CHECK_START_PERIOD_SECONDS,
    )
    settings = stack_settings(stack).service(service)
    assert definition["name"] == settings.container_name and definition["image"] == settings.image


@each_service
def test_the_rendered_cloud_map_service_registers_as_the_live_one(stack, service):
    (found,) = [
        r for r in by_type(rendered(stack), "aws:servicediscovery/service:Service") if r.inputs["name"] == service
    ]
    dns = found.inputs["dnsConfig"]
    assert dns["routingPolicy"] == service_discovery.ROUTING_POLICY
    assert [(r["type"], r["ttl"]) for r in dns["dnsRecords"]] == [
        (service_discovery.RECORD_TYPE, service_discovery.RECORD_TTL_SECONDS)
    ]
    # Without the block an import of the live service would replace it (core/replacement.py).
    assert found.inputs["healthCheckCustomConfig"] == {"failureThreshold": service_discovery.FAILURE_THRESHOLD}


@each_service
def test_the_rendered_target_group_and_rules_are_the_configured_ones(stack, service):
    settings = stack_settings(stack).service(service)
    run = rendered(stack)
    (group,) = [r for r in by_type(run, "aws:lb/targetGroup:TargetGroup") if r.name == f"{service}-tg"]
    assert group.inputs["name"] == settings.target_group_name
    assert group.inputs["healthCheck"]["timeout"] == HEALTH_CHECK_TIMEOUT_SECONDS
    rules = {
        r.inputs["priority"]: r
        for r in by_type(run, "aws:lb/listenerRule:ListenerRule")
        if r.name.startswith(f"{service}-route-")
    }
    assert set(rules) == {route.priority for route in settings.routes}
    for route in settings.routes:
        conditions = rules[route.priority].inputs["conditions"]
        hosts = [c["hostHeader"]["values"] for c in conditions if "hostHeader" in c]
        paths = [c["pathPattern"]["values"] for c in conditions if "pathPattern" in c]
        assert (hosts, paths) == (
            [list(route.hosts)] if route.hosts else [],
            [list(route.paths)] if route.paths else [],
        )


@each_service
def test_the_task_role_reaches_exactly_the_s3_locations_the_contract_names(stack, service):
    settings = stack_settings(stack).service(service)
    policies = [
        json.loads(r.inputs["policy"])
        for r in by_type(rendered(stack), "aws:iam/rolePolicy:RolePolicy")
        if r.name == f"{service}-roles-s3"
    ]
    if not settings.s3_locations:
        assert policies == []
        return
    (policy,) = policies
    assert policy == documents.s3_prefix_policy(settings.s3_locations)
