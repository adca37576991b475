"""boto3 clients for the live tools: the standard AWS settings, counted calls,
and AWS errors turned into CannotCheck where they mean "could not look".

boto3 already honours AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION and
AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), so the tools run unchanged
against AWS, a LocalStack or a moto_server on 127.0.0.1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

# Short timeouts and the SDK's standard retry mode: a verify run should fail
# fast and clearly when AWS is unreachable, and ride out throttling otherwise.
# The number of attempts is left to AWS_MAX_ATTEMPTS (standard mode: 3).
_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard"})

# Error codes that mean the caller cannot look, not that the estate is broken.
_CANNOT_LOOK = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AuthFailure",
}


class Aws:
    """One boto3 session for one run; counts every API call it makes (by service and operation)."""

    def __init__(self, region: str | None = None, session: boto3.Session | None = None):
        self.session = session or boto3.Session(region_name=region)
        self.region = region or self.session.region_name
        self.calls: Counter[str] = Counter()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self.session.client(service, region_name=self.region, config=_CONFIG)
            client.meta.events.register("before-call.*.*", self._count)
            self._clients[service] = client
        return self._clients[service]

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())


def error_code(error: Exception) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code", "")
    return ""


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Raise CannotCheck for missing credentials, no network or access denied."""
    from ops.report import CannotCheck

    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise CannotCheck(f"no AWS credentials while {what}: set AWS_PROFILE or run `aws sso login`") from None
    except botocore.exceptions.NoRegionError:
        raise CannotCheck(f"no AWS region while {what}: set AWS_REGION") from None
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as error:
        raise CannotCheck(f"AWS is unreachable while {what}: {error}") from None
    except botocore.exceptions.ClientError as error:
        if error_code(error) in _CANNOT_LOOK:
            message = error.response.get("Error", {}).get("Message", "")
            raise CannotCheck(
                f"access denied while {what} ({error_code(error)}: {message}); the verifier needs the "
                "read-only policy in docs/verify-policy.json"
            ) from None
        raise
