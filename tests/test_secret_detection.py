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


def _fake(*parts: str) -> str:
    return "".join(parts)


SECRET_VALUES = {
    "url with password": _fake("postgresql://mlflow:", "s3cr3t", "@db.example.com:5432/mlflow_db"),
    "redis url with token": _fake("rediss://:", "Zq8xT2", "@master.redis.example.com:6379/0"),
    "hokusai live key": _fake("hk_", "live_", "Ab12Cd34Ef56Gh78"),
    "hokusai test key": _fake("hk_", "test_", "Ab12Cd34Ef56Gh78"),
    "hugging face token": _fake("hf_", "A" * 10, "b" * 10, "1" * 14),
    "aws access key id": _fake("AK", "IA", "ABCDEFGHIJ234567"),
    "github classic token": _fake("gh", "p_", "a1B2" * 9),
    "github fine-grained token": _fake("github", "_pat_", "11ABCDEFG0123456789_abcdefghij"),
    "stripe live key": _fake("sk_", "live_", "4eC39HqLyjWDarjtT1zdp7dc"),
    "slack bot token": _fake("xo", "xb-", "123456789012-abcdefghijkl"),
    "jwt": _fake("eyJ", "hbGciOiJIUzI1NiJ9", ".eyJ", "zdWIiOiIxMjM0NTY3ODkwIn0", ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    "pem private key": _fake("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIE..."),
    "random base64": _fake("q9XkT3", "vLp2Zr8Wm4Yc7Nd1Bf6Gh0Js5Ka"),
}  # fmt: skip
PLAIN_VALUES = {
    "host": "master.hokusai-redis-development.abc123.use1.cache.amazonaws.com",
    "https url": "https://auth.hokus.ai",
    "url with port and path": "http://mlflow.hokusai-development.local:5000/api/2.0",
    "url with user only": "postgresql://mlflow@db.example.com:5432/mlflow_db",
    "s3 uri": "s3://hokusai-mlflow-artifacts-development/artifacts",
    "arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/api/secret-key-AbCdEf",
    "uuid": "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9",
    "git sha": "a9ef70899fdd9ed2675743ee08968868c271ba01",
    "sha256 digest": "sha256:" + "ab12" * 16,
    "number": "6379",
    "boolean": "true",
    "path": "/tmp/models/cache",
    "email": "oncall@hokus.ai",
    "identifier": "platform",
    "long words": "HuggingFaceTokenNotConfiguredErrorMessage",
    "image": "932100697590.dkr.ecr.us-east-1.amazonaws.com/hokusai-api:a9ef70899fdd9ed2675743ee08968868c271ba01",
    "sentence": "the quick brown fox jumps over the lazy dog",
}


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
