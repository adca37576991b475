"""The hokusai estate: load settings -> look up what is adopted -> build -> export.

Composition only: each component takes exactly what it uses, mapped here from
the settings, and says what it created in a typed result; the estate output is
built from those results. Each concern lives in its own module under infra/.
"""

import pulumi

from core import naming
from core.estate import OUTPUT_NAME
from infra.alarm_topic import AlarmTopic, AlarmTopicArgs
from infra.cluster import Cluster, ClusterArgs
from infra.dependency_access import DependencyAccess, DependencyAccessArgs
from infra.discovery import DiscoveryNamespace, DiscoveryNamespaceArgs
from infra.existing import look_up_existing
from infra.load_balancer import LoadBalancer, LoadBalancerArgs, NewLoadBalancer
from infra.outputs import estate_output
from infra.secrets import Secrets, SecretsArgs
from infra.security_group import ServiceSecurityGroup, ServiceSecurityGroupArgs
from infra.service import Service, ServiceArgs
from infra.stack_config import aws_provider, read_settings, secret_values

# Both stop the program with a readable message before any resource exists.
settings = read_settings()
existing = look_up_existing(settings)
# How the stack's AWS provider authenticates, so the deploy gate looks the same way.
gate_access = aws_provider(settings)
environment, network, tags = settings.environment, settings.network, settings.resource_tags

alarm_topic = AlarmTopic(
    "alarms",
    AlarmTopicArgs(
        topic_name=naming.alarm_topic_name(environment),
        emails=settings.alarm_emails,
        tags=tags,
        kms_key_arn=settings.observability_kms_key_arn,
    ),
).result
cluster = Cluster(
    "cluster",
    ClusterArgs(
        cluster_name=settings.cluster_name, ecs_exec=any(spec.ecs_exec for spec in settings.services), tags=tags
    ),
).result
namespace = DiscoveryNamespace(
    "discovery", DiscoveryNamespaceArgs(environment=environment, vpc_id=network.vpc_id, tags=tags)
).result
# Used only when the stack adopts no listener (load_balancer.listener_arn).
new_load_balancer = NewLoadBalancer(
    name=naming.load_balancer_name(environment),
    vpc_id=network.vpc_id,
    public_subnet_ids=network.public_subnet_ids,
    certificate_arn=settings.load_balancer.certificate_arn,
    ssl_policy=settings.load_balancer.ssl_policy,
)
load_balancer = LoadBalancer(
    "lb",
    LoadBalancerArgs(
        adopt_or_create=existing.listener or new_load_balancer,
        tags=tags,
        exceptions=dict(settings.load_balancer.exceptions),
    ),
).result
secrets = Secrets(
    "secrets",
    SecretsArgs(
        secrets_by_service={spec.name: spec.secrets for spec in settings.services},
        existing_arns=existing.secret_arns,
        kms_key_arn=settings.secrets_kms_key_arn,
        tags=tags,
        values=secret_values(settings),
    ),
).result

# Every service's group first: the dependency rules reference them (a dependency may be
# another service of the stack), and each ECS service waits for its rules.
security_groups = {
    spec.key: ServiceSecurityGroup(
        spec.key,
        ServiceSecurityGroupArgs(
            service_name=spec.name,
            container_port=spec.container_port,
            vpc_id=network.vpc_id,
            load_balancer=load_balancer,
            tags=tags,
        ),
    ).result.security_group_id
    for spec in settings.services
}
dependencies = [
    DependencyAccess(
        dependency.name,
        DependencyAccessArgs(
            dependency=dependency.name,
            security_group_id=(
                security_groups[dependency.service] if dependency.service else dependency.security_group_id
            ),
            port=dependency.port,
            services={key: security_groups[key] for key in dependency.consumers},
            extra_consumers=dict(dependency.extra_consumers),
            tags=tags,
        ),
    ).result
    for dependency in settings.dependencies
]

services = [
    Service(
        spec.key,
        ServiceArgs(
            service=spec,
            environment=environment,
            region=settings.region,
            account_id=settings.account_id,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            cluster_name=settings.cluster_name,
            cluster_arn=cluster.arn,
            load_balancer=load_balancer,
            security_group_id=security_groups[spec.key],
            dependency_rules=[rule for access in dependencies for rule in access.rules_for(spec.key)],
            secret_arns=secrets.arns_for(spec.secrets),
            secrets_kms_key_arn=settings.secrets_kms_key_arn,
            task_role_boundary_arn=settings.task_role_boundary_arn,
            namespace_id=namespace.id,
            alarm_topic_arn=alarm_topic.arn,
            log_retention_days=settings.log_retention_days,
            logs_kms_key_arn=settings.observability_kms_key_arn,
            deploy_gate=settings.deploy_gate,
            aws_provider=gate_access,
            tags=tags,
        ),
    ).result
    for spec in settings.services
]

pulumi.export(
    OUTPUT_NAME,
    estate_output(
        stack=environment,
        region=settings.region,
        account_id=settings.account_id,
        cluster=cluster,
        alarm_topic=alarm_topic,
        services=services,
        dependencies=dependencies,
        load_balancer=load_balancer,
    ),
)
