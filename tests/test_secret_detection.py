"""Secret-like names and values, both directions: each credential is caught, and each plain
value or name is not (a false alarm teaches people to ignore the check, as bad as a miss).
The fake credentials are built from parts at run time, so this file holds none."""

from __future__ import annotations

import copy

import pytest

from core import secret_values
from core.contract import looks_secret
from core.secret_values import credential_in
from core.settings import SettingsError
from tests.credential_samples import PLAIN_VALUES, SECRET_VALUES
from tests.helpers import each_service, load, stack_secret_keys, stack_settings, stack_values

SECRET_NAMES = [
    "HF_KEY", "STRIPE_KEY", "JWT_SIGNING_KEY", "PWD", "DB_PWD", "GITHUB_PAT", "SECRET_KEY", "API_KEY",
    "HUGGINGFACE_API_KEY", "PASSWORD_SALT", "SESSION_SIGNING_SECRET", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "REDIS_AUTH_TOKEN", "SENTRY_DSN", "TLS_PRIVATE_KEY", "KEY", "HMAC_PEPPER",
]  # fmt: skip
PLAIN_NAMES = [
    "REDIS_HOST", "DATABASE_PORT", "AUTH_SERVICE_ID", "MLFLOW_SERVER_URL", "DEFAULT_ARTIFACT_ROOT",
    "PATH", "PYTHONPATH", "KEYCLOAK_URL", "MONKEY_MODE", "PARTITION_KEY", "CACHE_KEY", "S3_KEY",
    "PUBLIC_KEY", "ENVIRONMENT", "PASSTHROUGH", "TOKENIZER_NAME", "DNS_CACHE_TTL", "SIGNATURE_VERSION",
]  # fmt: skip


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_secret_like_name_is_caught(name):
    assert looks_secret(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_a_plain_name_is_not_caught(name):
    assert not looks_secret(name)


@pytest.mark.parametrize("value", SECRET_VALUES.values(), ids=SECRET_VALUES.keys())
def test_a_credential_value_is_caught(value):
    assert credential_in(value) is not None


@pytest.mark.parametrize("value", PLAIN_VALUES.values(), ids=PLAIN_VALUES.keys())
def test_a_plain_value_is_not_caught(value):
    assert credential_in(value) is None


def test_a_weakened_randomness_rule_lets_a_random_string_through(monkeypatch):
    monkeypatch.setattr(secret_values, "_RANDOM_BITS_PER_CHARACTER", 99.0)
    assert credential_in(SECRET_VALUES["random base64"]) is None


def test_a_weakened_shape_list_lets_a_token_through(monkeypatch):
    monkeypatch.setattr(secret_values, "_SHAPES", ())
    assert credential_in(SECRET_VALUES["hugging face token"]) is None


@each_service
@pytest.mark.parametrize("kind", ["hugging face token", "url with password", "jwt"])
def test_a_credential_in_a_plain_setting_is_refused_naming_the_key(stack, service, kind):
    values = copy.deepcopy(stack_values(stack))
    values["hokusai:services"][service].setdefault("environment", {})["SOME_SETTING"] = SECRET_VALUES[kind]
    with pytest.raises(SettingsError) as caught:
        load(values, stack=stack, secret_keys=stack_secret_keys(stack))
    (problem,) = [p for p in caught.value.problems if p.key.endswith(f"services.{service}.environment.SOME_SETTING")]
    assert "in plain text" in problem.what and ".secrets.SOME_SETTING" in problem.fix
    assert SECRET_VALUES[kind] not in problem.what + problem.fix  # the message never repeats the credential
    assert stack_settings(stack)  # the stack as configured still loads
