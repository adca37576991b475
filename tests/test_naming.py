"""The estate's names."""

import yaml
from hypothesis import given
from hypothesis import strategies as st

from core import naming
from core.stack_file import PROJECT_DIR


def test_the_development_names_follow_the_existing_estate():
    assert naming.cluster_name("development") == "hokusai-development"
    assert naming.service_name("api", "development") == "hokusai-api-development"
    assert naming.log_group_name("api", "development") == "/ecs/hokusai-api-development"
    assert naming.namespace_name("development") == "hokusai-development.local"
    assert naming.discovery_hostname("api", "development") == "api.hokusai-development.local"
    assert naming.ecs_resource_id("api", "development") == "service/hokusai-development/hokusai-api-development"
    assert naming.task_group("hokusai-api-development") == "service:hokusai-api-development"


def test_target_group_names_fit_aws_and_change_only_with_replace_only_properties():
    name = naming.target_group_name("api", "development", port=8001, vpc_id="vpc-0a1b2c3d4e5f60718")
    assert name.startswith("hokusai-api-development-") and len(name) <= naming.TARGET_GROUP_NAME_MAX
    assert name == naming.target_group_name("api", "development", port=8001, vpc_id="vpc-0a1b2c3d4e5f60718")
    assert name != naming.target_group_name("api", "development", port=8002, vpc_id="vpc-0a1b2c3d4e5f60718")
    assert name != naming.target_group_name("api", "development", port=8001, vpc_id="vpc-0a1b2c3d4e5f60719")
    long = naming.target_group_name("mlflow", "integration-tests", port=5000, vpc_id="vpc-0a1b2c3d")
    assert len(long) <= naming.TARGET_GROUP_NAME_MAX and not long.startswith("-")


def test_the_pulumi_project_is_named_as_the_code_names_it():
    """Pulumi.yaml cannot import naming.PROJECT: the one other place the name must be written."""
    assert yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"] == naming.PROJECT


@given(
    service=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    stack=st.from_regex(r"[a-z][a-z0-9-]{0,23}", fullmatch=True),
    other_service=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    other_stack=st.from_regex(r"[a-z][a-z0-9-]{0,23}", fullmatch=True),
)
def test_two_services_or_stacks_never_share_a_target_group_prefix(service, stack, other_service, other_stack):
    """The deploy role's policy scopes target groups by this prefix: a long name is cut, and the cut
    must not make two stacks' (or services') target groups look alike."""
    name = naming.target_group_name(service, stack, port=8001, vpc_id="vpc-0a")
    assert len(name) <= naming.TARGET_GROUP_NAME_MAX
    assert name.startswith(naming.target_group_prefix(service, stack))
    if naming.service_name(service, stack) != naming.service_name(other_service, other_stack):
        assert naming.target_group_prefix(service, stack) != naming.target_group_prefix(other_service, other_stack)


def test_a_cut_name_keeps_what_tells_it_apart():
    # The names that shared `hokusai-mlflow-developmen-` before the cut kept a digest of the whole.
    assert naming.target_group_prefix("mlflow", "development") != naming.target_group_prefix("mlflow", "development-x")
    # A name that fits is not touched: the development names stay readable.
    assert naming.target_group_prefix("api", "development") == "hokusai-api-development-"
