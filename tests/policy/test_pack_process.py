"""The pack as the Pulumi CLI runs it: `python policy`, then the engine's gRPC calls.

No Pulumi CLI here, so this plays the engine: it starts the pack's entry point the way
the CLI's Python host does (`<venv python> <pack dir>`, from another directory, with
nothing on PYTHONPATH), reads the port the pack prints, and calls GetAnalyzerInfo and
AnalyzeStack on 127.0.0.1 with the development stack's resources as protobuf Structs.

GIVEN that
THEN the pack names every core invariant at its enforcement level, finds nothing in the
     development stack nor in its first preview (unknown markers), and a broken invariant
     comes back as a diagnostic of its policy, at its level, on the resource's URN.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.deserialize import serialize_properties

from core.invariants import INVARIANTS, Enforcement
from policy.policies import PACK_NAME
from tests import tiers
from tests.helpers import PROJECT_DIR
from tests.policy.engine_view import engine_resources, first_preview, first_preview_estate, urn

START_TIMEOUT_S = 60
LEVELS = {Enforcement.MANDATORY: analyzer_pb2.MANDATORY, Enforcement.ADVISORY: analyzer_pb2.ADVISORY}


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_PROJECT", "PULUMI_STACK")}
    process = subprocess.Popen(
        [sys.executable, "-u", str(PROJECT_DIR / "policy")],
        cwd=tmp_path_factory.mktemp("elsewhere"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = read_port(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_port(process: subprocess.Popen) -> int:
    """The first line the pack prints is its port (what the CLI reads); it must come in time."""
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not line or not line[0].strip().isdigit():
        process.kill()
        raise AssertionError(f"the pack printed no port: {line!r}; stderr: {process.stderr.read()[-2000:]}")
    return int(line[0])


def analyzer_resources(resources) -> list[analyzer_pb2.AnalyzerResource]:
    """The engine's AnalyzeStack request items: the same props, as a Struct."""
    items = []
    for resource in resources:
        properties = struct_pb2.Struct()
        properties.update(serialize_properties(resource.props))
        items.append(
            analyzer_pb2.AnalyzerResource(
                type=resource.resource_type,
                properties=properties,
                urn=resource.urn,
                name=resource.name,
                # The resource options the engine sends too (`protect` is an invariant's business).
                options=analyzer_pb2.AnalyzerResourceOptions(protect=resource.opts.protect),
            )
        )
    return items


def analyze(analyzer, resources) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    request = analyzer_pb2.AnalyzeStackRequest(resources=analyzer_resources(resources))
    return list(analyzer.AnalyzeStack(request, timeout=60).diagnostics)


@tiers.process
def test_the_pack_serves_every_invariant_at_its_level(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME
    served = {p.name: p.enforcementLevel for p in info.policies}
    assert served == {i.name: LEVELS[i.enforcement] for i in INVARIANTS}


@tiers.process
def test_the_development_stack_and_its_first_preview_pass(analyzer, dev_run):
    resources, estate = copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs)
    assert analyze(analyzer, engine_resources(resources, estate)) == []
    preview = engine_resources(resources, first_preview_estate(resources, estate), first_preview(resources))
    assert analyze(analyzer, preview) == []


@tiers.process
def test_a_missing_redis_rule_stops_the_preview(analyzer, dev_run):
    resources, estate = copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs)
    resources = [r for r in resources if r.name != "redis-from-api"]
    (diagnostic,) = analyze(analyzer, engine_resources(resources, estate))
    assert diagnostic.policyName == "dependencies-admit-every-consumer"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "redis_from_data_pipeline_ecs" in diagnostic.message
    assert diagnostic.urn == urn("aws:ecs/service:Service", "api-service")


@tiers.process
def test_a_slow_deregistration_only_warns(analyzer, dev_run):
    resources, estate = copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs)
    group = next(r for r in resources if r.type == "aws:lb/targetGroup:TargetGroup")
    group.inputs["deregistrationDelay"] = 300
    (diagnostic,) = analyze(analyzer, engine_resources(resources, estate))
    assert diagnostic.policyName == "target-groups-are-tuned"
    assert diagnostic.enforcementLevel == analyzer_pb2.ADVISORY
