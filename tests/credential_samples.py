"""Credential-shaped values and plain values, for the tests of every check that tells them apart
(settings, verify, envcheck): both directions, since a false alarm is as bad as a miss.
The fake credentials are built from parts at run time, so this file holds none."""

from __future__ import annotations


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
