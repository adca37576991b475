"""The hokusai estate: load settings -> look up what is adopted -> build -> export.

Composition only; each concern lives in its own module under infra/.
"""

import pulumi

from core import naming
from core.estate import OUTPUT_NAME
from infra.alarm_topic import AlarmTopic, AlarmTopicArgs
from infra.cluster import Cluster, ClusterArgs
from infra.discovery import DiscoveryNamespace, DiscoveryNamespaceArgs
from infra.existing import look_up_existing
from infra.load_balancer import LoadBalancer, LoadBalancerArgs, NewLoadBalancer
from infra.outputs import estate_output
from infra.redis_access import RedisAccess, RedisAccessArgs, redis_consumers
from infra.secrets import Secrets, SecretsArgs
from infra.service import Service, ServiceArgs
from infra.stack_config import read_settings, secret_values

# Both stop the program with a readable message before any resource exists.
settings = read_settings()
existing = look_up_existing(settings)

tags = settings.resource_tags

alarm_topic = AlarmTopic(
    "alarms",
    AlarmTopicArgs(topic_name=naming.alarm_topic_name(settings.environment), emails=settings.alarm_emails, tags=tags),
)
cluster = Cluster("cluster", ClusterArgs(cluster_name=settings.cluster_name, tags=tags))
namespace = DiscoveryNamespace(
    "discovery", DiscoveryNamespaceArgs(environment=settings.environment, vpc_id=settings.network.vpc_id, tags=tags)
)
adopted_or_new_load_balancer = existing.listener or NewLoadBalancer(
    name=naming.load_balancer_name(settings.environment),
    vpc_id=settings.network.vpc_id,
    public_subnet_ids=settings.network.public_subnet_ids,
    certificate_arn=settings.load_balancer.certificate_arn,
    ssl_policy=settings.load_balancer.ssl_policy,
)
load_balancer = LoadBalancer("lb", LoadBalancerArgs(adopt_or_create=adopted_or_new_load_balancer, tags=tags))
secrets = Secrets(
    "secrets",
    SecretsArgs(
        secrets_by_service={spec.name: spec.secrets for spec in settings.services},
        existing_arns=existing.secret_arns,
        kms_key_arn=settings.secrets_kms_key_arn,
        tags=tags,
        values=secret_values(settings),
    ),
)

secret_arns = {spec.key: secrets.result.arns_for(spec.secrets) for spec in settings.services}
services = {
    spec.key: Service(
        spec.key,
        ServiceArgs(
            settings=settings,
            service=spec,
            cluster_arn=cluster.result.arn,
            load_balancer=load_balancer.result,
            secret_arns=secret_arns[spec.key],
            namespace_id=namespace.result.id,
            alarm_topic_arn=alarm_topic.result.arn,
        ),
    )
    for spec in settings.services
}

consumers = redis_consumers(settings, {key: s.security_group.id for key, s in services.items()})
if settings.redis is not None:
    RedisAccess("redis", RedisAccessArgs(settings, settings.redis, consumers))

pulumi.export(
    OUTPUT_NAME,
    estate_output(
        settings,
        cluster=cluster.result,
        alarm_topic=alarm_topic.result,
        services=services,
        secret_arns=secret_arns,
        redis_consumers=consumers,
    ),
)
