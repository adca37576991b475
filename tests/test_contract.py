"""The contract: what each service requires, and the failure signatures."""

import pytest

from core.contract import API, CONTRACTS, HTTP_5XX, HUGGINGFACE_TOKEN, looks_secret
from core.documents import filter_pattern_problems
from core.live_estate import LIVE
from tests.filter_patterns import matches
from tests.helpers import INCIDENT, INCIDENT_SERVICE

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

SIGNATURES = sorted({s for c in CONTRACTS.values() for s in c.error_signatures}, key=lambda s: s.key)


def test_the_incidents_service_requires_the_secret_the_incident_was_missing():
    requirement = CONTRACTS[INCIDENT_SERVICE].secret(INCIDENT.missing_secret)
    assert INCIDENT.message in requirement.breaks
    # ... under the name the estate keeps it (DESIGN.md: hokusai/<stack>/huggingface/api-key)
    assert requirement.secret_name_for("development") == "hokusai/development/huggingface/api-key"


def test_the_api_listens_where_the_estate_expects():
    live = LIVE.services[API.key]
    assert (API.container_name, API.container_port, API.health_check_path) == (
        live.container_name.value,
        live.container_port.value,
        live.health_check.command_path.value,
    )
    # The incident's missing rule was the API's into Redis: the API reaches Redis by contract.
    assert "redis" in API.dependency_names


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_a_variable_comes_from_one_place_only(contract):
    """A setting is the stack's, derived, or a dependency's, never two of them; never also a secret."""
    names = [s.env_var for s in contract.settings] + list(contract.dependency_setting_names)
    # One attribute may be read under two names (MLFLOW_SERVER_URL, MLFLOW_TRACKING_URI); a name, once.
    assert len(names) == len(set(names))
    assert not set(names) & set(contract.secret_names)
    assert not set(names) & {entry.env_var for entry in contract.not_provided}


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_every_dependency_setting_is_found_back(contract):
    for requirement in contract.dependencies:
        for env_var, attribute in requirement.settings:
            assert contract.dependency_setting(env_var) == (requirement, attribute)
    assert contract.dependency_setting("NOT_A_DEPENDENCY_SETTING") is None


def test_a_dependency_named_like_a_service_is_that_service():
    """Resolution by name (core/settings/dependencies.py): the API's MLflow is the mlflow service."""
    assert "mlflow" in API.dependency_names and "mlflow" in CONTRACTS


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_every_required_secret_is_kept_out_of_plain_environment_whatever_its_name(contract):
    # verify, the invariants and the settings loader refuse a contract secret as a plain value by
    # must_be_secret, not by its name: MLflow's BACKEND_STORE_URI holds a password but does not look it.
    assert all(contract.must_be_secret(name) for name in contract.secret_names)
    assert not contract.must_be_secret("DATABASE_HOST")


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_no_plain_setting_looks_like_a_credential(contract):
    assert not [name for name in contract.setting_names if looks_secret(name)]


@pytest.mark.parametrize(
    "name",
    [
        "HUGGINGFACE_API_KEY",
        "DB_PASSWORD",
        "REDIS_AUTH_TOKEN",
        "API_SECRET_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "SENTRY_DSN",
        "webhook_secret",
    ],
)
def test_credential_names_look_secret(name):
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "DATABASE_HOST",
        "REDIS_URL",
        "MLFLOW_SERVER_URL",
        "AUTH_SERVICE_ID",
        "API_PORT",
        "PASSTHROUGH_MODE",
        "KEYCLOAK_URL",
        "TOKENIZER_NAME",
    ],
)
def test_plain_names_do_not_look_secret(name):
    assert not looks_secret(name)


@pytest.mark.parametrize("signature", SIGNATURES, ids=[s.key for s in SIGNATURES])
def test_signature_patterns_are_accepted_by_cloudwatch(signature):
    assert filter_pattern_problems(signature.filter_pattern) == []


@pytest.mark.parametrize("signature", SIGNATURES, ids=[s.key for s in SIGNATURES])
def test_signature_patterns_match_the_line_they_watch_for(signature):
    assert matches(signature.filter_pattern, signature.sample)


def test_the_huggingface_signature_matches_the_incident_response_body():
    assert matches(HUGGINGFACE_TOKEN.filter_pattern, '{"detail":"HuggingFace token not configured"}')
    assert not matches(HUGGINGFACE_TOKEN.filter_pattern, "HuggingFace token configured")


@pytest.mark.parametrize("signature", SIGNATURES, ids=[s.key for s in SIGNATURES])
def test_a_signature_with_a_message_watches_for_exactly_that_message(signature):
    if signature.message:
        assert matches(signature.filter_pattern, signature.message) and signature.message in signature.sample


def test_the_incident_message_is_the_one_the_api_answers_with():
    """smoke reads it from here; a customer saw exactly this text (the one place it is pinned)."""
    assert INCIDENT is HUGGINGFACE_TOKEN and API.key == INCIDENT_SERVICE
    assert INCIDENT.message == "HuggingFace token not configured"


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_a_signature_blames_only_a_secret_its_service_declares(contract):
    for signature in contract.error_signatures:
        if signature.missing_secret:
            assert signature.missing_secret in contract.secret_names


@pytest.mark.parametrize(
    "line",
    [
        'INFO:     10.0.1.5:1 - "POST /api/v1/models/21/predict HTTP/1.1" 500 Internal Server Error',
        'INFO:     10.0.1.5:1 - "GET /api/v1/models/21/info HTTP/1.1" 503 Service Unavailable',
        'INFO:     10.0.1.5:1 - "GET /api/mlflow/x HTTP/2.0" 502 Bad Gateway',
    ],
)
def test_the_5xx_signature_counts_server_errors(line):
    assert matches(HTTP_5XX.filter_pattern, line)


@pytest.mark.parametrize(
    "line",
    [
        'INFO:     10.0.1.5:1 - "POST /api/v1/models/21/predict HTTP/1.1" 200 OK',
        'INFO:     10.0.1.5:1 - "POST /api/v1/models/500/predict HTTP/1.1" 401 Unauthorized',
        'INFO:     10.0.1.5:1 - "GET /health HTTP/1.1" 422 Unprocessable Entity',
    ],
)
def test_the_5xx_signature_ignores_other_statuses(line):
    assert not matches(HTTP_5XX.filter_pattern, line)


def test_a_declared_secret_or_a_credential_like_name_must_be_secret():
    assert API.must_be_secret("HUGGINGFACE_API_KEY") and API.must_be_secret("SOME_TOKEN")
    assert not API.must_be_secret("DATABASE_HOST")
