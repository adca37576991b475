"""A live copy of a rendered stack in moto, and the failures of the incidents injected into it.

    MOTO_ECS_SERVICE_RUNNING=2 moto_server -p 5555 &
    export AWS_ENDPOINT_URL=http://127.0.0.1:5555 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    python -m synth.fake_estate seed --stack development --outputs build/fake-outputs.json
    python -m ops.verify --stack development --outputs build/fake-outputs.json      # exit 0
    python -m synth.fake_estate break redis-rule-removed --outputs build/fake-outputs.json
    python -m ops.verify --stack development --outputs build/fake-outputs.json      # exit 1, with the fix

The copy is built from the program's own offline render (synth/program.py):
the same names, task definitions, IAM policies, filters and alarms the program
would deploy, created through the AWS APIs of whatever endpoint boto3 talks to
(moto in-process, or moto_server). Identifiers the mocks invented are replaced
by the ones moto hands out, and the stack outputs are written as
`pulumi stack output --json` would print them.

moto quirks this works around, each noted where it happens: services report
`MOTO_ECS_SERVICE_RUNNING` running tasks, tasks need a container memory, and
task ENIs need DNS hostnames on the VPC.

`seed` keeps the render next to the outputs (`render-<stack>.json`) and uses it
again while neither the stack file nor the program changed: rendering is most of
a seed's time, and `make fake-estate-reset` seeds again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets as token_source
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import bounded_json
from core.contract import HUGGINGFACE_TOKEN, POSTGRES, REDIS
from core.estate import OUTPUT_NAME, Estate, EstateError
from core.naming import task_group
from core.stack_file import PROJECT_DIR, StackFileError, stack_file_path
from core.text_file import TextFileError, read_text, write_text
from core.value_from import SecretValueFrom

if TYPE_CHECKING:
    import boto3

    from synth.program import Run

# As ops/outputs.py bounds `pulumi stack output --json` (synth/ may not import ops/).
OUTPUTS_LIMIT = 1024 * 1024

# The secret whose absence caused the incident; the injections use it.
INCIDENT_SECRET = HUGGINGFACE_TOKEN.missing_secret
_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


class CannotInject(Exception):
    """The outputs lack what a failure breaks (another stack's, or not `seed`'s)."""


@dataclass
class FakeEstate:
    """A seeded copy: its outputs (as verify reads them) and the AWS clients to break it with."""

    outputs: dict[str, Any]
    session: boto3.Session
    region: str
    ids: dict[str, str] = field(default_factory=dict)  # rendered identifier -> moto identifier
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.session.client(name, region_name=self.region)
        return self._clients[name]

    @property
    def estate(self) -> dict[str, Any]:
        return self.outputs[OUTPUT_NAME]

    @property
    def api(self) -> dict[str, Any]:
        for service in self.estate["services"]:
            if service["key"] == "api":
                return service
        raise CannotInject("the outputs have no api service, which every failure is injected into")

    def write(self, path: Path) -> None:
        write_text(path, json.dumps(self.outputs, indent=2) + "\n", what="the fake estate's outputs")


@dataclass(frozen=True)
class Resource:
    """A registered resource as seeding reads it (synth.mocks.Registered, as JSON can hold it)."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str


@dataclass(frozen=True)
class Rendering:
    """What seeding reads of a render: the stack's `estate` output and every resource."""

    outputs: dict[str, Any]
    resources: list[Resource]


# What a render depends on: the stack file, the program and the mocks it runs under,
# and the pinned Pulumi packages. A change to any of them renders again.
RENDER_INPUTS = ("Pulumi.yaml", "__main__.py", "requirements.txt", "core/**/*.py", "infra/**/*.py", "synth/*.py")
# A cached render of the development stack is well under 1 MiB; this bounds what reading a
# stray file in the cache's place costs (it is then rendered again).
RENDER_CACHE_LIMIT = 32 * 1024 * 1024


def render_key(stack: str, project_dir: Path = PROJECT_DIR) -> str:
    """A digest of every input of the stack's render; a name that is not a stack name is
    refused first (StackFileError), before it becomes part of a path."""
    digest = hashlib.sha256()
    files = [stack_file_path(stack, project_dir)]
    files += sorted(path for pattern in RENDER_INPUTS for path in project_dir.glob(pattern))
    for path in files:
        digest.update(f"{path.relative_to(project_dir)}\0".encode())
        # is_file: a regular file (a FIFO or a directory in the stack file's place is
        # refused by the render itself, which runs since no cache holds this key).
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    return digest.hexdigest()


def run_stack(stack: str) -> Run:
    """synth.program.run_stack, imported when a render is needed: it imports pulumi, which
    seeding from a cached rendering and `break` do without."""
    from synth.program import run_stack as render

    return render(stack)


def rendering(stack: str, cache: Path) -> Run | Rendering:
    """The stack rendered under the mocks, or the rendering `cache` holds if it was made
    from the same inputs (render_key); a new render is written to `cache` if it can be
    (a cache that cannot be read or written is only slower)."""
    key = render_key(stack)
    try:
        cached = json.loads(read_text(cache, limit=RENDER_CACHE_LIMIT, what="a cached render"))
        if cached["key"] == key:
            return Rendering(cached["outputs"], [Resource(**r) for r in cached["resources"]])
    except (TextFileError, ValueError, KeyError, TypeError):
        pass  # none yet, or unreadable: render
    run = run_stack(stack)
    resources = [
        {"type": r.type, "name": r.name, "inputs": r.inputs, "outputs": r.outputs, "id": r.id} for r in run.resources
    ]
    partial_file = cache.with_name(cache.name + ".partial")
    try:
        write_text(
            partial_file,
            json.dumps({"key": key, "outputs": run.outputs, "resources": resources}),
            what="a cached render",
        )
        partial_file.replace(cache)
    except (TextFileError, OSError):
        pass  # seeding does not need the cache; writing the outputs beside it reports the directory
    return run


def seed(run: Run | Rendering, session: boto3.Session | None = None) -> FakeEstate:
    """Create in the current AWS endpoint everything verify looks at, as rendered in `run`."""
    estate = run.outputs
    region = estate["region"]
    if session is None:
        import boto3

        session = boto3.Session(region_name=region)
    fake = FakeEstate(outputs={}, session=session, region=region)
    _Seeder(fake, run).seed()
    fake.outputs = {OUTPUT_NAME: _replace_ids(estate, fake.ids)}
    return fake


class _Seeder:
    def __init__(self, fake: FakeEstate, run: Run | Rendering):
        self.fake, self.run, self.ids = fake, run, fake.ids
        self.estate = run.outputs

    def of_type(self, type_: str) -> list[Any]:
        """synth.mocks.of_type, which this module does not import: it imports pulumi, which
        seeding from a cached rendering and `break` do without."""
        return [r for r in self.run.resources if r.type == type_]

    def mapped(self, value: Any) -> Any:
        return _replace_ids(value, self.ids)

    def seed(self) -> None:
        self.network()
        self.secrets()
        self.security_groups()
        self.iam()
        self.observability()
        self.target_groups()
        self.ecs()

    def network(self) -> None:
        ec2 = self.fake.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        # moto names task ENIs only when the VPC has DNS hostnames (as ECS VPCs do).
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.vpc = vpc
        self.subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{self.fake.region}{zone}")[
                "Subnet"
            ]["SubnetId"]
            for i, zone in ((1, "a"), (2, "b"))
        ]

    def secrets(self) -> None:
        client = self.fake.client("secretsmanager")
        # secret ARN -> the JSON keys the containers read from it (none: the whole value)
        keys: dict[str, set[str]] = {}
        for service in self.estate["services"]:
            for env_var, arn in service["secret_arns"].items():
                reads = SecretValueFrom.parse(service["secret_value_froms"].get(env_var))
                keys.setdefault(arn, set()).update([reads.json_key] if reads and reads.json_key else [])
        for arn, json_keys in keys.items():
            name = arn.split(":secret:", 1)[1][:-7]  # drop the random "-AbCdEf"
            # Throwaway values made up now: the copy needs values, the repository holds none.
            value = (
                json.dumps({key: f"fake-{token_source.token_hex(8)}" for key in sorted(json_keys)})
                if json_keys
                else f"fake-{token_source.token_hex(8)}"
            )
            self.ids[arn] = client.create_secret(Name=name, SecretString=value)["ARN"]

    def security_groups(self) -> None:
        ec2 = self.fake.client("ec2")
        created = []
        for group in self.of_type("aws:ec2/securityGroup:SecurityGroup"):
            self.ids[group.id] = ec2.create_security_group(
                GroupName=group.inputs["name"], Description=group.inputs.get("description", group.name), VpcId=self.vpc
            )["GroupId"]
            created.append(self.ids[group.id])
        # Groups the stack adopts rather than creates: the dependencies' and the existing ALB's.
        adopted = {d["security_group_id"] for d in self.estate.get("dependencies", []) if d["security_group_id"]}
        for rule in [*self.of_type(_INGRESS), *self.of_type(_EGRESS)]:
            adopted.update(
                g
                for g in (rule.inputs.get("securityGroupId"), rule.inputs.get("referencedSecurityGroupId"))
                if g and g not in self.ids
            )
        # (A dependency that is a service of the stack has the group just created for it.)
        for index, group_id in enumerate(sorted(adopted - set(self.ids))):
            self.ids[group_id] = ec2.create_security_group(
                GroupName=f"adopted-{index}", Description="exists outside the stack", VpcId=self.vpc
            )["GroupId"]
        # The provider revokes the allow-all egress AWS (and moto) gives a new group: the
        # stack's groups let out exactly their egress rules.
        for group_id in created:
            ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
            )
        for rule in self.of_type(_INGRESS):
            ec2.authorize_security_group_ingress(
                GroupId=self.ids[rule.inputs["securityGroupId"]], IpPermissions=[self._permission(rule.inputs)]
            )
        for rule in self.of_type(_EGRESS):
            ec2.authorize_security_group_egress(
                GroupId=self.ids[rule.inputs["securityGroupId"]], IpPermissions=[self._permission(rule.inputs)]
            )

    def _permission(self, inputs: dict[str, Any]) -> dict[str, Any]:
        permission: dict[str, Any] = {
            "IpProtocol": inputs["ipProtocol"],
            "FromPort": int(inputs["fromPort"]),
            "ToPort": int(inputs["toPort"]),
        }
        if inputs.get("referencedSecurityGroupId"):
            permission["UserIdGroupPairs"] = [
                {"GroupId": self.ids[inputs["referencedSecurityGroupId"]], "Description": inputs.get("description", "")}
            ]
        else:
            permission["IpRanges"] = [{"CidrIp": inputs.get("cidrIpv4", "0.0.0.0/0")}]
        return permission

    def iam(self) -> None:
        iam = self.fake.client("iam")
        for role in self.of_type("aws:iam/role:Role"):
            created = iam.create_role(
                RoleName=role.inputs["name"], AssumeRolePolicyDocument=role.inputs["assumeRolePolicy"]
            )
            self.ids[role.outputs["arn"]] = created["Role"]["Arn"]
        names = {r.id: r.inputs["name"] for r in self.of_type("aws:iam/role:Role")}
        for policy in self.of_type("aws:iam/rolePolicy:RolePolicy"):
            document = self.mapped(policy.inputs["policy"])
            iam.put_role_policy(
                RoleName=names.get(policy.inputs["role"], policy.inputs["role"]),
                PolicyName=policy.outputs["name"],
                PolicyDocument=document,
            )

    def observability(self) -> None:
        logs, cloudwatch = self.fake.client("logs"), self.fake.client("cloudwatch")
        sns = self.fake.client("sns")
        for topic in self.of_type("aws:sns/topic:Topic"):
            self.ids[topic.outputs["arn"]] = sns.create_topic(Name=topic.inputs["name"])["TopicArn"]
        for group in self.of_type("aws:cloudwatch/logGroup:LogGroup"):
            logs.create_log_group(logGroupName=group.inputs["name"])
            logs.put_retention_policy(
                logGroupName=group.inputs["name"], retentionInDays=int(group.inputs["retentionInDays"])
            )
        for metric_filter in self.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter"):
            transformation = metric_filter.inputs["metricTransformation"]
            logs.put_metric_filter(
                logGroupName=metric_filter.inputs["logGroupName"],
                filterName=metric_filter.inputs["name"],
                filterPattern=metric_filter.inputs["pattern"],
                metricTransformations=[
                    {
                        "metricName": transformation["name"],
                        "metricNamespace": transformation["namespace"],
                        "metricValue": transformation["value"],
                    }
                ],
            )
        for alarm in self.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            inputs = alarm.inputs
            common = dict(
                AlarmName=inputs["name"],
                AlarmDescription=inputs.get("alarmDescription", ""),
                EvaluationPeriods=int(inputs["evaluationPeriods"]),
                Threshold=float(inputs["threshold"]),
                ComparisonOperator=inputs["comparisonOperator"],
                AlarmActions=self.mapped(inputs.get("alarmActions", [])),
            )
            if inputs.get("metricQueries"):
                cloudwatch.put_metric_alarm(**common, Metrics=[_metric_query(q) for q in inputs["metricQueries"]])
            else:
                cloudwatch.put_metric_alarm(
                    **common,
                    Namespace=inputs["namespace"],
                    MetricName=inputs["metricName"],
                    Statistic=inputs["statistic"],
                    Period=int(inputs["period"]),
                    Dimensions=[{"Name": k, "Value": str(v)} for k, v in (inputs.get("dimensions") or {}).items()],
                )

    def target_groups(self) -> None:
        elbv2 = self.fake.client("elbv2")
        for group in self.of_type("aws:lb/targetGroup:TargetGroup"):
            inputs, check = group.inputs, group.inputs["healthCheck"]
            created = elbv2.create_target_group(
                Name=inputs["name"],
                Protocol=inputs["protocol"],
                Port=int(inputs["port"]),
                VpcId=self.vpc,
                TargetType=inputs["targetType"],
                HealthCheckPath=check["path"],
                HealthCheckIntervalSeconds=int(check["interval"]),
                HealthyThresholdCount=int(check["healthyThreshold"]),
            )["TargetGroups"][0]["TargetGroupArn"]
            self.ids[group.outputs["arn"]] = created
            elbv2.register_targets(
                TargetGroupArn=created,
                Targets=[{"Id": f"10.0.1.{10 + i}", "Port": int(inputs["port"])} for i in range(2)],
            )

    def ecs(self) -> None:
        ecs = self.fake.client("ecs")
        ecs.create_cluster(clusterName=self.estate["cluster_name"])
        for task in self.of_type("aws:ecs/taskDefinition:TaskDefinition"):
            self.ids[task.outputs["arn"]] = register_like(ecs, task.inputs, self.ids)
        for service in self.of_type("aws:ecs/service:Service"):
            inputs = service.inputs
            network = inputs["networkConfiguration"]
            create_service(
                ecs,
                cluster=self.estate["cluster_name"],
                name=inputs["name"],
                task_definition=self.ids[inputs["taskDefinition"]],
                desired=int(inputs["desiredCount"]),
                subnets=self.subnets,
                security_groups=[self.ids[g] for g in network["securityGroups"]],
                target_group=self.ids[inputs["loadBalancers"][0]["targetGroupArn"]],
                container=inputs["loadBalancers"][0]["containerName"],
                port=int(inputs["loadBalancers"][0]["containerPort"]),
            )


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    if "expression" in query:
        return {
            "Id": query["id"],
            "Expression": query["expression"],
            "Label": query.get("label", ""),
            "ReturnData": bool(query.get("returnData")),
        }
    metric = query["metric"]
    return {
        "Id": query["id"],
        "ReturnData": bool(query.get("returnData")),
        "MetricStat": {
            "Metric": {
                "Namespace": metric["namespace"],
                "MetricName": metric["metricName"],
                "Dimensions": [{"Name": k, "Value": v} for k, v in metric.get("dimensions", {}).items()],
            },
            "Period": int(metric["period"]),
            "Stat": metric["stat"],
        },
    }


def _replace_ids(value: Any, ids: dict[str, str]) -> Any:
    """Rendered identifiers -> moto's, anywhere in a JSON-able value (longest first, so an
    ARN is replaced before an identifier it contains)."""
    text = value if isinstance(value, str) else json.dumps(value)
    for old in sorted(ids, key=len, reverse=True):
        text = text.replace(old, ids[old])
    return text if isinstance(value, str) else json.loads(text)


def register_like(
    ecs: Any, inputs: dict[str, Any], ids: dict[str, str], change: Callable[[dict[str, Any]], None] | None = None
) -> str:
    """Register a task definition like the rendered one (optionally changed); returns its ARN."""
    containers = json.loads(_replace_ids(inputs["containerDefinitions"], ids))
    for container in containers:
        # moto places tasks by container memory; Fargate sizes the task instead.
        container.setdefault("memory", int(inputs["memory"]))
        if change:
            change(container)
    return ecs.register_task_definition(
        family=inputs["family"],
        containerDefinitions=containers,
        networkMode=inputs["networkMode"],
        requiresCompatibilities=inputs["requiresCompatibilities"],
        cpu=inputs["cpu"],
        memory=inputs["memory"],
        executionRoleArn=_replace_ids(inputs["executionRoleArn"], ids),
        taskRoleArn=_replace_ids(inputs["taskRoleArn"], ids),
    )["taskDefinition"]["taskDefinitionArn"]


def create_service(
    ecs: Any,
    *,
    cluster: str,
    name: str,
    task_definition: str,
    desired: int,
    subnets: list[str],
    security_groups: list[str],
    target_group: str,
    container: str,
    port: int,
    run_tasks: bool = True,
) -> dict[str, Any]:
    network = {
        "awsvpcConfiguration": {"subnets": subnets, "securityGroups": security_groups, "assignPublicIp": "DISABLED"}
    }
    service = ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration=network,
        loadBalancers=[{"targetGroupArn": target_group, "containerName": container, "containerPort": port}],
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
        },
    )["service"]
    if run_tasks:
        _run_service_tasks(ecs, cluster, name, task_definition, min(desired, 10), network)
    return service


def _run_service_tasks(
    ecs: Any, cluster: str, service_name: str, task_definition: str, count: int, network: dict[str, Any]
) -> list[dict[str, Any]]:
    """Tasks as the service would start them (moto's services start none): in the service's task group."""
    return ecs.run_task(
        cluster=cluster,
        taskDefinition=task_definition,
        count=count,
        launchType="FARGATE",
        networkConfiguration=network,
        group=task_group(service_name),
    )["tasks"]


# --------------------------------------------------------------------------- #
# Injected failures: each changes the live copy (and, where the stack would
# declare something new, the outputs) the way the incidents did.
# --------------------------------------------------------------------------- #


def _service_config(fake: FakeEstate) -> dict[str, Any]:
    ecs = fake.client("ecs")
    return ecs.describe_services(cluster=fake.estate["cluster_name"], services=[fake.api["service_name"]])["services"][
        0
    ]


def _task_inputs(fake: FakeEstate, arn: str) -> dict[str, Any]:
    definition = fake.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return {
        "family": definition["family"],
        "containerDefinitions": json.dumps(definition["containerDefinitions"]),
        "networkMode": definition["networkMode"],
        "requiresCompatibilities": definition["requiresCompatibilities"],
        "cpu": definition["cpu"],
        "memory": definition["memory"],
        "executionRoleArn": definition["executionRoleArn"],
        "taskRoleArn": definition["taskRoleArn"],
    }


def repoint_service(
    fake: FakeEstate, task_definition: str, *, desired: int | None = None, declare: bool = True
) -> None:
    """Make the api service run `task_definition` (moto keeps a deployment's revision for
    its life, so the service is recreated). `declare`: the stack outputs name it too."""
    ecs = fake.client("ecs")
    current = _service_config(fake)
    network = current["networkConfiguration"]["awsvpcConfiguration"]
    balancer = current["loadBalancers"][0]
    ecs.delete_service(cluster=fake.estate["cluster_name"], service=fake.api["service_name"], force=True)
    for arn in ecs.list_tasks(cluster=fake.estate["cluster_name"], desiredStatus="RUNNING")["taskArns"]:
        ecs.stop_task(cluster=fake.estate["cluster_name"], task=arn, reason="Scaling activity initiated by deployment")
    create_service(
        ecs,
        cluster=fake.estate["cluster_name"],
        name=fake.api["service_name"],
        task_definition=task_definition,
        desired=desired or current["desiredCount"],
        subnets=network["subnets"],
        security_groups=network["securityGroups"],
        target_group=balancer["targetGroupArn"],
        container=balancer["containerName"],
        port=balancer["containerPort"],
    )
    if declare:
        fake.api["task_definition_arn"] = task_definition


def _new_revision(fake: FakeEstate, change: Callable[[dict[str, Any]], None] | None = None) -> str:
    return register_like(fake.client("ecs"), _task_inputs(fake, fake.api["task_definition_arn"]), {}, change)


def _incident_secret_from(secret_arn: str) -> Callable[[dict[str, Any]], None]:
    """A change to a container definition: the incident's secret read from `secret_arn`."""

    def change(container: dict[str, Any]) -> None:
        for secret in container["secrets"]:
            if secret["name"] == INCIDENT_SECRET:
                secret["valueFrom"] = secret_arn

    return change


def secret_missing_from_task_definition(fake: FakeEstate) -> None:
    """The incident: a revision without HUGGINGFACE_API_KEY is what runs."""
    revision = _new_revision(
        fake, lambda c: c.update(secrets=[s for s in c["secrets"] if s["name"] != INCIDENT_SECRET])
    )
    repoint_service(fake, revision)


def secret_deleted(fake: FakeEstate) -> None:
    fake.client("secretsmanager").delete_secret(
        SecretId=fake.api["secret_arns"][INCIDENT_SECRET], RecoveryWindowInDays=7
    )


def secret_empty(fake: FakeEstate) -> None:
    """A declared secret whose value was never put: the container's reference points at an empty secret."""
    client = fake.client("secretsmanager")
    name = fake.api["secret_arns"][INCIDENT_SECRET].split(":secret:", 1)[1][:-7] + "-never-filled"
    empty = client.create_secret(Name=name)["ARN"]
    declared = SecretValueFrom.parse(fake.api["secret_value_froms"][INCIDENT_SECRET]) or SecretValueFrom(empty)
    value_from = str(SecretValueFrom(empty, declared.json_key, declared.version_stage, declared.version_id))
    revision = _new_revision(fake, _incident_secret_from(value_from))
    _grant_also(fake, empty)
    repoint_service(fake, revision)
    fake.api["secret_arns"][INCIDENT_SECRET] = empty
    fake.api["secret_value_froms"][INCIDENT_SECRET] = value_from


def value_from_wrong_secret(fake: FakeEstate) -> None:
    wrong = fake.api["secret_arns"]["DB_PASSWORD"]
    revision = _new_revision(fake, _incident_secret_from(wrong))
    repoint_service(fake, revision)


def secret_json_key_wrong(fake: FakeEstate) -> None:
    """A revision reads another JSON key of a secret than the stack declares (a typo, a renamed key)."""
    value_froms = fake.api["secret_value_froms"]
    # A secret read by JSON key if the stack has one, else the database password's.
    env_var = next(
        (v for v, text in sorted(value_froms.items()) if (p := SecretValueFrom.parse(text)) and p.json_key),
        "DB_PASSWORD" if "DB_PASSWORD" in value_froms else sorted(value_froms)[0],
    )
    declared = SecretValueFrom.parse(value_froms[env_var])
    assert declared is not None, f"{env_var} is not read from Secrets Manager"
    wrong = str(
        SecretValueFrom(
            declared.secret_arn,
            json_key=f"{declared.json_key}_old" if declared.json_key else "password",
            version_stage=declared.version_stage,
            version_id=declared.version_id,
        )
    )

    def change(container: dict[str, Any]) -> None:
        for secret in container["secrets"]:
            if secret["name"] == env_var:
                secret["valueFrom"] = wrong

    repoint_service(fake, _new_revision(fake, change))


def stale_revision(fake: FakeEstate) -> None:
    """The stack declares a new revision; the service still runs the old one."""
    fake.api["task_definition_arn"] = _new_revision(fake)


def rolled_back(fake: FakeEstate) -> None:
    """The new revision's tasks could not read their secret; the circuit breaker went back."""
    ecs = fake.client("ecs")
    revision = _new_revision(fake)
    config = _service_config(fake)
    started = _run_service_tasks(
        ecs, fake.estate["cluster_name"], fake.api["service_name"], revision, 2, config["networkConfiguration"]
    )
    for task in started:
        ecs.stop_task(
            cluster=fake.estate["cluster_name"],
            task=task["taskArn"],
            reason="ResourceInitializationError: unable to pull secrets or registry auth: execution "
            "resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException: "
            "not authorized to perform: secretsmanager:GetSecretValue",
        )
    fake.api["task_definition_arn"] = revision


def _changed_by_hand(container: dict[str, Any]) -> None:
    """What an engineer changes in a revision registered by hand: the image tag, say."""
    container["image"] = container["image"].rsplit(":", 1)[0] + ":hotfix-by-hand"


def revision_deployed_by_hand(fake: FakeEstate) -> None:
    """A revision registered outside the stack runs: the service was pointed at it by hand."""
    revision = _new_revision(fake, _changed_by_hand)
    repoint_service(fake, revision, declare=False)


def revision_registered_outside_the_stack(fake: FakeEstate) -> None:
    """A deploy workflow registered a newer revision outside the stack; it does not run (yet)."""
    _new_revision(fake, _changed_by_hand)


def running_below_desired(fake: FakeEstate) -> None:
    current = _service_config(fake)
    repoint_service(fake, current["taskDefinition"], desired=current["desiredCount"] + 1, declare=False)


def redis_rule_removed(fake: FakeEstate) -> None:
    """The incident's second drift: the rule admitting the API into Redis is gone."""
    _rule_removed(fake, REDIS)


def postgres_rule_removed(fake: FakeEstate) -> None:
    """The rule admitting the API into PostgreSQL is gone: the registry database times out."""
    _rule_removed(fake, POSTGRES)


def _rule_removed(fake: FakeEstate, dependency: str) -> None:
    ec2 = fake.client("ec2")
    found = next((d for d in fake.estate["dependencies"] if d["name"] == dependency), None)
    if found is None or found["security_group_id"] is None:
        raise CannotInject(f"the stack has no {dependency} security group rule to remove")
    group = found["security_group_id"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    doomed = [
        r["SecurityGroupRuleId"]
        for r in rules
        if not r.get("IsEgress")
        and (r.get("ReferencedGroupInfo") or {}).get("GroupId") == fake.api["security_group_id"]
    ]
    ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=doomed)


def metric_filter_removed(fake: FakeEstate) -> None:
    metric_filter = next(f for f in fake.api["metric_filters"] if f["metric_name"] == "HuggingFaceTokenError")
    fake.client("logs").delete_metric_filter(logGroupName=fake.api["log_group_name"], filterName=metric_filter["name"])


def alarm_removed(fake: FakeEstate) -> None:
    fake.client("cloudwatch").delete_alarms(AlarmNames=[fake.api["deployment_alarm_names"][0]])


def alarm_firing(fake: FakeEstate) -> None:
    fake.client("cloudwatch").set_alarm_state(
        AlarmName=fake.api["deployment_alarm_names"][0],
        StateValue="ALARM",
        StateReason="Threshold Crossed: 1 datapoint [3.0] >= 1.0",
    )


def health_check_path_changed(fake: FakeEstate) -> None:
    fake.client("elbv2").modify_target_group(TargetGroupArn=fake.api["target_group_arn"], HealthCheckPath="/")


def plaintext_secret_in_environment(fake: FakeEstate) -> None:
    revision = _new_revision(
        fake, lambda c: c["environment"].append({"name": INCIDENT_SECRET, "value": "pasted-here-by-hand"})
    )
    repoint_service(fake, revision)


def execution_role_without_grant(fake: FakeEstate) -> None:
    iam = fake.client("iam")
    role = fake.api["execution_role_arn"].rsplit("/", 1)[-1]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "ReadDeclaredSecrets"]
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


def old_revision_still_running(fake: FakeEstate) -> None:
    ecs = fake.client("ecs")
    older = _new_revision(fake)
    config = _service_config(fake)
    _run_service_tasks(
        ecs, fake.estate["cluster_name"], fake.api["service_name"], older, 1, config["networkConfiguration"]
    )


def huggingface_errors_logged(fake: FakeEstate) -> None:
    """The container starts, then every prediction logs the incident's error line."""
    import time

    logs = fake.client("logs")
    stream = "api/api/0123456789abcdef"
    logs.create_log_stream(logGroupName=fake.api["log_group_name"], logStreamName=stream)
    logs.put_log_events(
        logGroupName=fake.api["log_group_name"],
        logStreamName=stream,
        logEvents=[
            {
                "timestamp": int(time.time() * 1000),
                "message": "ERROR:src.api.endpoints.model_serving:HuggingFace token not configured",
            }
        ],
    )


def _grant_also(fake: FakeEstate, arn: str) -> None:
    iam = fake.client("iam")
    role = fake.api["execution_role_arn"].rsplit("/", 1)[-1]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for statement in document["Statement"]:
            if statement.get("Sid") == "ReadDeclaredSecrets":
                statement["Resource"] = sorted(set(statement["Resource"]) | {arn})
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


FAILURES: dict[str, Callable[[FakeEstate], None]] = {
    fn.__name__.replace("_", "-"): fn
    for fn in (
        secret_missing_from_task_definition,
        secret_deleted,
        secret_empty,
        value_from_wrong_secret,
        secret_json_key_wrong,
        stale_revision,
        rolled_back,
        revision_deployed_by_hand,
        revision_registered_outside_the_stack,
        running_below_desired,
        redis_rule_removed,
        postgres_rule_removed,
        metric_filter_removed,
        alarm_removed,
        alarm_firing,
        health_check_path_changed,
        plaintext_secret_in_environment,
        execution_role_without_grant,
        old_revision_still_running,
        huggingface_errors_logged,
    )
}


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.fake_estate", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="create a live copy of the rendered stack at the AWS endpoint")
    seeding.add_argument("--stack", default="development")
    seeding.add_argument(
        "--outputs",
        type=Path,
        required=True,
        help="where to write the stack outputs (JSON); the render is kept beside it, as render-<stack>.json",
    )
    breaking = commands.add_parser("break", help="inject one failure into a seeded copy")
    breaking.add_argument("failure", choices=sorted(FAILURES))
    breaking.add_argument("--outputs", type=Path, required=True, help="the outputs file `seed` wrote (updated)")
    commands.add_parser("list", help="the failures `break` can inject, one per line with its description")
    args = parser.parse_args(argv)

    if args.command == "list":
        width = max(map(len, FAILURES))
        for name, inject in FAILURES.items():
            summary = (inject.__doc__ or "").strip().split("\n")[0]
            print(f"{name:<{width}}  {summary}".rstrip())
        return 0
    # Here, not at the top: `list` needs neither boto3 nor pulumi (it starts in 0.1 s instead of 0.6).
    import botocore.exceptions

    try:
        return _seed(args.stack, args.outputs) if args.command == "seed" else _break(args.failure, args.outputs)
    except _refused() as error:
        print(f"fake_estate {args.command}: {error}", file=sys.stderr)
        return 2
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        print(
            f"fake_estate {args.command}: the AWS endpoint failed ({error}); is the fake estate running "
            "(make fake-estate) and AWS_ENDPOINT_URL pointing at it?",
            file=sys.stderr,
        )
        return 2


def _refused() -> tuple[type[Exception], ...]:
    """What a command reports as a sentence and exit 2. Called when an exception is being
    handled, not before: pulumi.RunError (the program refused the stack's settings) is in it
    only if pulumi was imported, and a seed from a cached render never imports it (so it
    cannot have raised one)."""
    refused: tuple[type[Exception], ...] = (
        StackFileError,
        TextFileError,
        bounded_json.JsonRefused,
        EstateError,
        CannotInject,
    )
    pulumi = sys.modules.get("pulumi")
    return refused + (pulumi.RunError,) if pulumi is not None else refused


def _seed(stack: str, outputs: Path) -> int:
    fake = seed(rendering(stack, outputs.parent / f"render-{stack}.json"))
    ecs = fake.client("ecs")
    names = [s["service_name"] for s in fake.estate["services"]]
    for service in ecs.describe_services(cluster=fake.estate["cluster_name"], services=names)["services"]:
        if service["runningCount"] < service["desiredCount"]:
            print(
                f"warning: moto reports fewer running tasks than desired for {service['serviceName']}; "
                f"start moto_server with MOTO_ECS_SERVICE_RUNNING={service['desiredCount']}",
                file=sys.stderr,
            )
    fake.write(outputs)
    print(f"seeded a copy of stack {stack}; outputs in {outputs}")
    return 0


def _break(failure: str, path: Path) -> int:
    text = read_text(path, limit=OUTPUTS_LIMIT, what="the outputs file `seed` wrote")
    outputs = bounded_json.parse(text, max_bytes=OUTPUTS_LIMIT)
    # The injections read the outputs by key: they must be an estate's, every field typed.
    estate = Estate.from_outputs(outputs)
    if isinstance(outputs, dict) and OUTPUT_NAME not in outputs:
        outputs = {OUTPUT_NAME: outputs}
    import boto3

    fake = FakeEstate(outputs=outputs, session=boto3.Session(), region=estate.region)
    FAILURES[failure](fake)
    fake.write(path)
    print(f"injected {failure}; outputs updated in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
