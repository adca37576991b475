"""The recording mocks keep what the engine is told besides the inputs: the parent and `ignore_changes`.

The import plan rebuilds each resource's URN from its parent chain, and the cutover
diff skips what the program ignores; both read these, so they must be the program's.
"""

from __future__ import annotations

from core.importable import SERVICE_COMPONENT
from tests.helpers import by_type, each_service, each_stack, ecs_service, rendered, service_output, task_definition


@each_stack
def test_every_resource_knows_its_urn_and_each_child_its_parent(stack):
    run = rendered(stack)
    assert all(r.urn for r in run.resources)
    components = [r for r in run.resources if not r.custom]
    # Every provider resource sits under a component (__main__.py composes components only) ...
    for resource in run.resources:
        parent = run.mocks.parent(resource)
        if resource.custom:
            assert parent is not None and not parent.custom, resource.name
            # ... and the mock monitor's URN names the parent's type before the child's.
            assert f"{parent.type}${resource.type}::{resource.name}" in resource.urn
    # ... while the components __main__.py makes are the stack's own children.
    assert any(run.mocks.parent(c) is None for c in components)


@each_service
def test_a_services_resources_are_under_its_component(stack, service):
    run = rendered(stack)
    for resource in (ecs_service(run, service), task_definition(run, service)):
        parent = run.mocks.parent(resource)
        assert (parent.type, parent.name) == (SERVICE_COMPONENT, service)
    assert service_output(run, service)["service_name"] == ecs_service(run, service).inputs["name"]


@each_service
def test_ignore_changes_is_recorded_as_the_program_asks(stack, service):
    """Autoscaling owns the running count (infra/service.py): the ECS service ignores desiredCount."""
    assert ecs_service(rendered(stack), service).ignore_changes == ("desiredCount",)


@each_stack
def test_only_what_the_program_marks_is_ignored(stack):
    marked = {r.name for r in rendered(stack).resources if r.ignore_changes}
    assert marked == {r.name for r in by_type(rendered(stack), "aws:ecs/service:Service")}
