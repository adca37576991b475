"""Post-deploy smoke test: does the deployed Hokusai API answer the way its clients need?

Runs HTTP checks against a base URL (the ALB's public name or any address that
reaches the API) and prints the shared report (ops/report.py). The expectations
are the real application's, as recorded in docs/SMOKE.md (app commit a9ef708):

  health                    GET  /health                                  -> 200, `status` healthy
                            (degraded: a warning naming the dependencies; a 503 the API
                            sends itself is told apart from the load balancer's)
  model.info                GET  /api/v1/models/{id}/info     (X-API-Key)  -> 200
  predict.x-api-key         POST /api/v1/models/{id}/predict  (X-API-Key)  -> 200, JSON with `predictions`
  predict.bearer            POST ... (Authorization: Bearer)               -> 200, JSON with `predictions`
  predict.no-key            POST ... without a key                         -> 401
  predict.invalid-body      POST ... {}, {"inputs": []}, {"inputs": "x"}   -> 400/422 each, never 500
  predict.malformed-values  POST ... {"inputs": {"company_size": "lots"}}  -> 400/422; a 500 is a warning
                            (an application defect, not a failed deploy)
  mlflow.x-api-key          GET  <mlflow path> through the API's MLflow proxy (X-API-Key)  -> 2xx
  mlflow.bearer             GET  ... (Authorization: Bearer)                               -> 2xx
  mlflow.no-key             GET  ... without a key                                         -> 401
  predict.latency           N more POSTs: p50 and p95 (nearest rank) within the budget

`{"inputs": {}}` is not a probe of validation: the API accepts it (every missing
feature takes a default) and answers 200.

A 500 naming the Hugging Face token, missing ("HuggingFace token not configured")
or refused by the Hub ("Failed to load model: 401 ..."), is named as such with
its fix, whichever check meets it. A 401 is judged by its `detail`: a key that
did not arrive, a key the auth service refused, and the auth service being
unreachable are different problems.

Usage:
  HOKUSAI_API_KEY=... python -m ops.smoke --base-url https://api.hokus.ai \\
      [--model-id 21] [--stack development] [--calls 20] [--p50-budget-ms 500] \\
      [--p95-budget-ms 1000] [--timeout 10] [--deadline 120] [--payload FILE] \\
      [--mlflow-base-url URL] [--mlflow-path PATH] [--json]

The API key comes only from the environment variable HOKUSAI_API_KEY, never from
a flag: flags end up in shell history, `ps` output and CI logs. The key is never
printed; any echo of it in a response is redacted from the report.

Time and size are bounded (ops/smoke_http.py): each request has a wall-clock
deadline (--timeout), the whole run another (--deadline); a body over 1 MiB is
not read. Redirects are never followed: the key would go wherever they point.

Exit codes (ops/report.py):
  0  every check passed (warnings allowed)
  1  at least one check failed, including the API being unreachable or timing
     out (that is an outage, not an inability to check)
  2  could not check: HOKUSAI_API_KEY unset or empty, bad arguments, unreadable
     --payload file; or the run deadline stopped the checks before any failed
     (a run that did not finish must not pass a deploy)
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import json
import math
import os
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from core.contract import API, HUGGINGFACE_TOKEN, MLFLOW
from core.naming import cluster_name, log_group_name, service_name
from core.settings.identity import STACK_NAME
from ops.report import (
    EXIT_CANNOT_CHECK,
    EXIT_FINDINGS,
    EXIT_OK,
    CannotCheck,
    Report,
    Result,
    Status,
    emit,
    fail,
    ok,
    run_tool,
)
from ops.report import warn as warning
from ops.smoke_http import (
    API_KEY_ENV,
    MAX_BODY_BYTES,
    REDACTED,
    Auth,
    Client,
    Reply,
    RunDeadlineReached,
)

__all__ = ["API_KEY_ENV", "REDACTED", "Auth", "Client", "Reply"]  # re-exported for the tests and callers

DEFAULT_MODEL_ID = "21"
DEFAULT_STACK = "development"
DEFAULT_CALLS = 20
# The budgets come from the HuggingFace-token incident's runbook: cached
# predictions are expected under 500 ms; p95 gets twice that for tail noise.
DEFAULT_P50_BUDGET_MS = 500.0
DEFAULT_P95_BUDGET_MS = 1000.0
DEFAULT_TIMEOUT_S = 10.0
# 11 checks and ~30 requests take seconds on a healthy API; two minutes is room
# for a cold model load and a slow network, and a bound for a CI job.
DEFAULT_DEADLINE_S = 120.0
# A read MLflow answers with 200 and a small JSON (experiments are never empty:
# MLflow always has "Default"); the auth middleware lets reads pass with a
# `model:read` key, while writes need a write scope (403).
DEFAULT_MLFLOW_PATH = "/api/mlflow/api/2.0/mlflow/experiments/search?max_results=1"

# The lead-scoring input the third-party tester sent for model 21 (seed 002):
# a request that must succeed on a healthy deployment.
DEFAULT_PAYLOAD: dict[str, Any] = {
    "inputs": {
        "company_size": 1000,
        "industry": "Technology",
        "engagement_score": 75,
        "website_visits": 10,
        "email_opens": 5,
        "content_downloads": 3,
        "demo_requested": True,
        "budget_confirmed": False,
        "decision_timeline": "Q2 2025",
        "title": "VP of Sales",
    }
}
# Bodies the API's request model really rejects with 422 (`inputs` missing, or not
# an object). `{"inputs": {}}` is not among them: it is valid, and answered 200.
INVALID_BODIES: tuple[tuple[str, Any], ...] = (
    ("{}", {}),
    ('{"inputs": []}', {"inputs": []}),
    ('{"inputs": "x"}', {"inputs": "x"}),
)
# Put where the payload has a number: the API answers 500 (a scikit-learn dtype error).
MALFORMED_VALUE = "lots"

# The Hugging Face token's failure family, as the contract declares it.
HF_TOKEN_SIGNATURE = HUGGINGFACE_TOKEN.message
HF_TOKEN_REFUSED_SIGNATURE = HUGGINGFACE_TOKEN.refused_message
_HF_SECRET = API.secret(HUGGINGFACE_TOKEN.missing_secret)
HF_TOKEN_INCIDENT = (
    f'this is the known "{HF_TOKEN_SIGNATURE}" incident: the API cannot fetch models '
    "from Hugging Face, so every prediction fails"
)
AUTH_SERVICE_SETTING = "HOKUSAI_AUTH_SERVICE_URL"
# What a service name in /health's `services` points at, for the fix.
DEPENDENCY_HINTS = {
    "mlflow": "MLflow ({mlflow_service}, the API's MLFLOW_SERVER_URL, and `dependency.access` in `make verify "
    "STACK={stack}`)",
    "redis": "Redis (`dependency.access` in `make verify STACK={stack}`, and REDIS_AUTH_TOKEN)",
    "message_queue": "the event queue, which is Redis too (`dependency.access` in `make verify STACK={stack}`)",
    "postgres": "PostgreSQL (`dependency.access` in `make verify STACK={stack}`, DATABASE_HOST, and DB_PASSWORD's "
    "secret)",
}
UNREACHABLE = "API unreachable"
# A hostile /health could name thousands of services: the finding names a few.
MAX_NAMED_DEPENDENCIES = 8


# --- where the advice points: the stack's own names -----------------------------


@dataclass(frozen=True)
class Estate:
    """The stack smoke's advice names (log group, cluster, service, secret), from --stack."""

    stack: str = DEFAULT_STACK

    @property
    def log_group(self) -> str:
        return log_group_name(API.key, self.stack)

    @property
    def hf_secret_name(self) -> str:
        return _HF_SECRET.secret_name_for(self.stack)

    @property
    def force_new_deployment(self) -> str:
        return (
            f"aws ecs update-service --cluster {cluster_name(self.stack)} "
            f"--service {service_name(API.key, self.stack)} --force-new-deployment"
        )

    @property
    def mlflow_service(self) -> str:
        return service_name(MLFLOW.key, self.stack)


DEVELOPMENT = Estate()


def hf_token_missing_fix(estate: Estate) -> str:
    return (
        f"the running task definition lacks the {_HF_SECRET.env_var} secret, or its secret "
        f"({estate.hf_secret_name}) has no value: run `make verify STACK={estate.stack}` to see which; "
        "deploy the stack if the revision lacks it, or put the secret's value and force a new deployment "
        f"(the value is read when a task starts: `{estate.force_new_deployment}`); then rerun smoke"
    )


def hf_token_refused_fix(estate: Estate) -> str:
    return (
        f"put a token the Hub accepts for the model's private repository into {estate.hf_secret_name} "
        "(rotate it on Hugging Face if it was revoked), then force a new deployment, because the value is "
        f"read when a task starts: `{estate.force_new_deployment}`; the log shows "
        f"`{HUGGINGFACE_TOKEN.refused_log}` for every prediction "
        f"(`aws logs tail {estate.log_group} --since 15m --filter-pattern '\"{HUGGINGFACE_TOKEN.refused_log}\"'`); "
        'runbook: RUNBOOK.md "Hugging Face token refused by the Hub"'
    )


# --- pure: percentiles and judgements -----------------------------------------


def nearest_rank(samples: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least `percent`% of samples at or below it.

    Chosen over statistics.quantiles (which interpolates) because it always returns
    a latency some request actually had, is defined for any sample size, and never
    understates the tail: with 20 calls, p95 is the second-slowest call itself,
    not a blend interpolated towards it.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    ordered = sorted(samples)
    rank = math.ceil(percent / 100 * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Budget:
    p50_ms: float = DEFAULT_P50_BUDGET_MS
    p95_ms: float = DEFAULT_P95_BUDGET_MS


def _unreachable(check: str, reply: Reply, estate: Estate = DEVELOPMENT) -> Result:
    # An outage, so a FAIL (exit 1), not "could not check" (exit 2): a deploy
    # gate must not treat a dead API as inconclusive.
    fix = (
        "the API is down or not reachable from here: check the ECS service's running "
        "tasks and the ALB target group health, or the base URL"
    )
    if check == "health" and reply.error.startswith("timed out"):
        # Seen on the real API: with MLflow unreachable, each /health retries it for
        # minutes (until MLflow's circuit breaker opens) and blocks the only worker.
        fix += (
            f"; or the API is up but /health is waiting on an unreachable MLflow ({estate.mlflow_service}): "
            "it retries MLflow for minutes before its circuit breaker opens"
        )
    return fail(check, reply.url, f"{UNREACHABLE}: no response from {reply.url} ({reply.error})", fix)


def _no_usable_reply(check: str, reply: Reply, estate: Estate = DEVELOPMENT) -> Result | None:
    """The finding shared by every check when there is no response to judge: outage, redirect, oversize."""
    if not reply.answered:
        return _unreachable(check, reply, estate)
    if reply.status is not None and 300 <= reply.status < 400:
        target = reply.location or "(no Location header)"
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} redirect to {target}; not followed, so the API key is not sent to another location",
            "pass the final URL as --base-url (e.g. https:// rather than http://)",
        )
    if reply.oversize:
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status}, but smoke cannot tell what it means: {reply.error}",
            f"the API answers in kilobytes; over {MAX_BODY_BYTES // (1 << 20)} MiB is something else "
            "answering this URL: check --base-url and what serves this path",
        )
    return None


def _hugging_face_token(check: str, reply: Reply, expected: str, estate: Estate) -> Result | None:
    """The token's failure family, named, when a 5xx body carries it (the whole body read is searched)."""
    body = reply.body.lower()
    if HF_TOKEN_SIGNATURE.lower() in body:
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} (expected {expected}): {HF_TOKEN_INCIDENT}",
            hf_token_missing_fix(estate),
        )
    if HF_TOKEN_REFUSED_SIGNATURE.lower() in body:
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} (expected {expected}): the Hugging Face token is present but the Hub refuses it, "
            f"so every prediction fails ({reply.detail()})",
            hf_token_refused_fix(estate),
        )
    return None


def _server_error(check: str, reply: Reply, expected: str, estate: Estate) -> Result:
    """A 5xx: the Hugging Face token's failures by name, else where to read the error."""
    if (token := _hugging_face_token(check, reply, expected, estate)) is not None:
        return token
    return fail(
        check,
        reply.url,
        f"HTTP {reply.status} (expected {expected}): {reply.detail() or '(empty body)'}",
        f"the API failed on the server: read {estate.log_group} for the error "
        f"(`aws logs tail {estate.log_group} --since 15m`)",
    )


def _unexpected_status(check: str, reply: Reply, expected: str, estate: Estate = DEVELOPMENT) -> Result:
    if reply.status is not None and reply.status >= 500:
        return _server_error(check, reply, expected, estate)
    return fail(
        check,
        reply.url,
        f"HTTP {reply.status} (expected {expected}): {reply.detail() or '(empty body)'}",
        "compare with the API's routes for this model (--base-url, --model-id)",
    )


def _refused(check: str, reply: Reply, auth: Auth) -> Result:
    """A 401/403 judged by the middleware's `detail`: the key is only one of the possible causes.

    The API's auth middleware (src/middleware/auth.py at a9ef708) answers 401 with
    "API key required" (no key found), "Invalid or expired API key" (the auth
    service said no), "Rate limit exceeded", or "Authentication service
    unavailable/timeout/error" (it could not ask); 403 when the key lacks a scope.
    Redis only caches successful validations: it never causes a 401.
    """
    detail = reply.detail() or "(empty body)"
    lowered = detail.lower()
    sent = f"sent as `{auth.header_form}`"
    status = f"HTTP {reply.status} ({detail})"
    if reply.status == 403:
        return fail(
            check,
            reply.url,
            f"{status}: the key {sent} was accepted but lacks the scope for this call",
            "use a key with the read scope (`model:read`) for this environment; the auth service decides scopes",
        )
    if lowered.startswith("authentication service"):
        return fail(
            check,
            reply.url,
            f"{status}: the API could not ask its auth service, so it refuses every key; the key was not judged",
            f"the auth service the API calls ({AUTH_SERVICE_SETTING}) is down or unreachable from the tasks "
            "(DNS, egress, its own status): fix that and rerun; the key needs no change",
        )
    if "rate limit" in lowered:
        return fail(
            check,
            reply.url,
            f"{status}: the key {sent} is over its rate limit",
            "wait for the limit to reset and rerun; if smoke itself exhausts it, lower --calls",
        )
    if "api key required" in lowered and auth is not Auth.NONE:
        return fail(
            check,
            reply.url,
            f"{status}: the API did not find the key {sent}",
            "something between smoke and the API drops the header (a proxy, a load-balancer rule), or the "
            "API's auth middleware no longer reads this form; clients use both forms",
        )
    if "invalid" in lowered or "expired" in lowered:
        return fail(
            check,
            reply.url,
            f"{status}: the auth service refused the key {sent}",
            f"{API_KEY_ENV} must hold a valid, unexpired key for this environment; if it does, the API asks "
            f"the wrong auth service ({AUTH_SERVICE_SETTING})",
        )
    return fail(
        check,
        reply.url,
        f"{status}: the request with the key {sent} was refused",
        f"the API's auth middleware refused it, for the reason in the detail; the auth service "
        f"({AUTH_SERVICE_SETTING}) decides which keys are valid",
    )


@dataclass(frozen=True)
class DependencyReport:
    """What /health says about the API's dependencies."""

    status: str  # healthy | degraded | unhealthy (anything else is reported as it is)
    not_healthy: tuple[str, ...]  # "redis unhealthy", ...

    def named(self) -> str:
        shown = list(self.not_healthy[:MAX_NAMED_DEPENDENCIES])
        if len(self.not_healthy) > len(shown):
            shown.append(f"and {len(self.not_healthy) - len(shown)} more")
        return ", ".join(shown) or "none named"


def dependency_report(reply: Reply) -> DependencyReport | None:
    """/health's body as the API writes it (`status`, `services`), or None when it is not that."""
    body = reply.json_object()
    if body is None or not isinstance(body.get("status"), str):
        return None
    services = body.get("services")
    not_healthy: list[str] = []
    if isinstance(services, dict):
        for name, state in services.items():
            state_text = state if isinstance(state, str) else f"({type(state).__name__})"
            if state_text != "healthy":
                not_healthy.append(f"{_short(name)} {_short(state_text)}")
    return DependencyReport(_short(body["status"]), tuple(not_healthy))


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _dependency_fix(report: DependencyReport, estate: Estate) -> str:
    hints = []
    for entry in report.not_healthy[:MAX_NAMED_DEPENDENCIES]:
        hint = DEPENDENCY_HINTS.get(entry.split(" ", 1)[0])
        if hint:
            hints.append(hint.format(stack=estate.stack, mlflow_service=estate.mlflow_service))
    where = "; ".join(dict.fromkeys(hints)) or f"the dependencies named, from {estate.log_group}"
    return f"check {where}"


def _from_load_balancer(reply: Reply) -> bool:
    return "awselb" in reply.header("server").lower()


def judge_health(reply: Reply, estate: Estate = DEVELOPMENT) -> Result:
    check = "health"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    report = dependency_report(reply)
    took = f"in {reply.elapsed_ms:.0f} ms"
    if reply.status == 200:
        if report is None:
            return ok(check, reply.url, f"HTTP 200 {took} (the body names no dependency status)")
        if report.status == "healthy":
            return ok(check, reply.url, f"HTTP 200 {took}: status healthy")
        if report.status == "degraded":
            return warning(
                check,
                reply.url,
                f"HTTP 200 {took}, but status degraded: {report.named()}",
                f"the API serves, but not every dependency is healthy: {_dependency_fix(report, estate)}",
            )
        if report.status != "unhealthy":
            return warning(
                check,
                reply.url,
                f"HTTP 200 {took} with an unknown status {report.status!r}",
                "the API's /health says healthy, degraded or unhealthy: check which application version is "
                "deployed, and what answers this URL",
            )
    if (
        reply.status in (200, 503)
        and report is not None
        and report.status == "unhealthy"
        and not _from_load_balancer(reply)
    ):
        # The API's own verdict: it answers 503 when some dependency is unhealthy and
        # none is healthy. Its predictions may still work; its targets will not stay
        # in service, because the ALB's health check is this path.
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} from the API itself: status unhealthy, no dependency healthy ({report.named()})",
            f"the API process is up, its dependencies are not: {_dependency_fix(report, estate)}; the load "
            "balancer takes the targets out of service while /health says so",
        )
    if reply.status in (502, 503, 504):
        source = "the load balancer" if _from_load_balancer(reply) else "not the API's health report"
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} ({source}): {reply.excerpt() or '(empty body)'}",
            "the load balancer has no healthy API target: check the ECS service's tasks "
            "(stopped reason) and the target group's health checks",
        )
    return _unexpected_status(check, reply, "200", estate)


def _model_not_listed(check: str, reply: Reply, model_id: str) -> Result:
    return fail(
        check,
        reply.url,
        f"HTTP 404 ({reply.detail() or 'empty body'}): the API's own model table does not list model {model_id}",
        "check --model-id; the API serves only the models its serving code configures (a table in the "
        "application, not the MLflow registry), so another model needs an application release",
    )


def judge_info(reply: Reply, model_id: str, estate: Estate = DEVELOPMENT) -> Result:
    check = "model.info"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    if reply.status == 200:
        if reply.json_object() is None:
            return fail(
                check,
                reply.url,
                f"HTTP 200 but not a JSON object: {reply.excerpt() or '(empty body)'}",
                "something other than the API answers this path: check --base-url",
            )
        # Listing is not loading: info said 200 in both Hugging Face token incidents.
        return ok(check, reply.url, f"HTTP 200: the API lists model {model_id} (the predict checks show it loads)")
    if reply.status == 404:
        return _model_not_listed(check, reply, model_id)
    if reply.status in (401, 403):
        return _refused(check, reply, Auth.X_API_KEY)
    return _unexpected_status(check, reply, "200", estate)


def judge_prediction(
    reply: Reply, auth: Auth, model_id: str = DEFAULT_MODEL_ID, estate: Estate = DEVELOPMENT
) -> Result:
    """A valid request with the key presented as `auth`: 200 and a JSON body with predictions."""
    check = f"predict.{auth.value}"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    if reply.status in (401, 403):
        return _refused(check, reply, auth)
    if reply.status == 404:
        return _model_not_listed(check, reply, model_id)
    if reply.status != 200:
        return _unexpected_status(check, reply, "200", estate)
    body = reply.json_object()
    if body is None or body.get("predictions") is None:
        return fail(
            check,
            reply.url,
            f"HTTP 200 but the body has no `predictions`: {reply.excerpt() or '(empty body)'}",
            "clients read `predictions`: check the model's serving code and the API version deployed",
        )
    return ok(check, reply.url, f"HTTP 200 with predictions in {reply.elapsed_ms:.0f} ms")


def _open_door(check: str, reply: Reply, what: str) -> Result:
    return fail(
        check,
        reply.url,
        f"HTTP {reply.status} without any API key: authentication is open",
        f"urgent: the API serves {what} to anyone; check the API's auth middleware and "
        f"{AUTH_SERVICE_SETTING}, and consider scaling the service to 0 until fixed",
    )


def judge_missing_key(reply: Reply, estate: Estate = DEVELOPMENT) -> Result:
    check = "predict.no-key"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    if reply.status == 401:
        return ok(check, reply.url, "HTTP 401: a request without a key is refused")
    if reply.status is not None and 200 <= reply.status < 300:
        return _open_door(check, reply, "predictions")
    return _unexpected_status(check, reply, "401", estate)


def _judge_invalid_body(reply: Reply, estate: Estate) -> Result:
    check = "predict.invalid-body"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    if reply.status in (400, 422):
        return ok(check, reply.url, f"HTTP {reply.status}")
    if reply.status in (401, 403):
        return _refused(check, reply, Auth.X_API_KEY)
    if reply.status is not None and 200 <= reply.status < 300:
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status}: the API accepted a body without a valid `inputs` object",
            "the API's request validation is off: roll back if a deploy introduced it, and tell the API's owners",
        )
    return _unexpected_status(check, reply, "400 or 422", estate)


def judge_invalid_bodies(probes: Sequence[tuple[str, Reply]], estate: Estate = DEVELOPMENT) -> Result:
    """Every body the API must refuse (422), refused: the first that was not is the finding."""
    check = "predict.invalid-body"
    judged = [(label, _judge_invalid_body(reply, estate)) for label, reply in probes]
    subject = probes[0][1].url if probes else "(no calls)"
    wrong = [(label, result) for label, result in judged if result.status is not Status.OK]
    if not wrong:
        answers = ", ".join(f"{label} -> {result.finding.removeprefix('HTTP ')}" for label, result in judged)
        return ok(check, subject, f"invalid bodies are refused, not crashed on: {answers}")
    label, first = wrong[0]
    more = f" (and {len(wrong) - 1} more of {len(probes)} bodies)" if len(wrong) > 1 else ""
    return replace(first, finding=f"body {label}: {first.finding}{more}")


def malformed_probe(payload: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The payload's first numeric input set to a word, alone: (input name, request body).

    For model 21 that is `{"inputs": {"company_size": "lots"}}`, which the real API
    answers with 500. None when the payload has no numeric input to spoil.
    """
    inputs = payload.get("inputs")
    if not isinstance(inputs, dict):
        return None
    for name, value in inputs.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            return name, {"inputs": {name: MALFORMED_VALUE}}
    return None


def judge_malformed_values(reply: Reply, feature: str, estate: Estate = DEVELOPMENT) -> Result:
    """A word where a number belongs: 400/422 is right; a 500 is the application's defect, a warning."""
    check = "predict.malformed-values"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    what = f"`{feature}` = {MALFORMED_VALUE!r}"
    if reply.status in (400, 422):
        return ok(check, reply.url, f"HTTP {reply.status}: {what} is refused")
    if reply.status is not None and 200 <= reply.status < 300:
        return ok(check, reply.url, f"HTTP {reply.status}: {what} was tolerated (no crash)")
    if reply.status in (401, 403):
        return _refused(check, reply, Auth.X_API_KEY)
    if reply.status == 500:
        if (token := _hugging_face_token(check, reply, "400 or 422", estate)) is not None:
            return token  # the deploy is broken, not just this input
        return warning(
            check,
            reply.url,
            f"HTTP 500 for {what} ({reply.detail() or 'empty body'}): an application defect, it should answer 422",
            "not a deploy blocker: report it to the API's owners with this request and answer "
            "(clients sending such a value get a 500)",
        )
    return _unexpected_status(check, reply, "400 or 422", estate)


def judge_mlflow(reply: Reply, auth: Auth, estate: Estate = DEVELOPMENT) -> Result:
    """A read through the API's MLflow proxy: MLflow's own 2xx with a key, 401 without."""
    check = "mlflow.no-key" if auth is Auth.NONE else f"mlflow.{auth.value}"
    if (blocked := _no_usable_reply(check, reply, estate)) is not None:
        return blocked
    status = reply.status or 0
    if auth is Auth.NONE:
        if status == 401:
            return ok(check, reply.url, "HTTP 401: the MLflow proxy refuses a request without a key")
        if 200 <= status < 300:
            return _open_door(check, reply, "the MLflow registry")
        return _unexpected_status(check, reply, "401", estate)
    if 200 <= status < 300:
        return ok(
            check, reply.url, f"HTTP {status}: MLflow answered through the proxy, key sent as `{auth.header_form}`"
        )
    if status in (401, 403):
        return _refused(check, reply, auth)
    if status == 404:
        return fail(
            check,
            reply.url,
            f"HTTP 404 ({reply.detail() or 'empty body'}): nothing answers this path",
            "check --mlflow-path (MLflow's REST API is under /api/mlflow/api/2.0/mlflow/...) and "
            "--mlflow-base-url; the API mounts its proxy at /api/mlflow",
        )
    if status in (502, 504):
        return fail(
            check,
            reply.url,
            f"HTTP {status} ({reply.detail() or 'empty body'}): the proxy got no answer from MLflow",
            f"check the {estate.mlflow_service} service's running tasks and the API's MLFLOW_SERVER_URL "
            "(the proxy answers 502 when it cannot connect, 504 when MLflow is too slow)",
        )
    return _unexpected_status(check, reply, "2xx", estate)


def judge_latency(replies: Sequence[Reply], planned: int, budget: Budget, estate: Estate = DEVELOPMENT) -> Result:
    """p50/p95 over the successful predictions; any failed call fails the check.

    Errors are not timed (a fast 500 would flatter the figures), but they are not
    ignored either: a few failures among N calls is what one bad task behind the
    load balancer looks like (e.g. one task still on an old revision).
    """
    check = "predict.latency"
    subject = replies[0].url if replies else "(no calls)"
    if replies and not replies[-1].answered:
        # The loop stops at the first call without a response: say how far it got.
        outage = _unreachable(check, replies[-1], estate)
        return replace(outage, finding=f"call {len(replies)} of {planned}: {outage.finding}")
    timings = [r.elapsed_ms for r in replies if r.status == 200]
    failed = [r for r in replies if r.status != 200]
    if not timings:
        return fail(
            check,
            subject,
            f"none of {len(replies)} calls returned HTTP 200 (statuses: {_status_counts(failed)})",
            "fix the predict.* findings first; latency needs successful predictions",
        )
    p50, p95 = nearest_rank(timings, 50), nearest_rank(timings, 95)
    figures = (
        f"p50 {p50:.0f} ms (budget {budget.p50_ms:.0f} ms), p95 {p95:.0f} ms "
        f"(budget {budget.p95_ms:.0f} ms) over {len(timings)} calls"
    )
    over = [name for name, value, limit in (("p50", p50, budget.p50_ms), ("p95", p95, budget.p95_ms)) if value > limit]
    if failed:
        return fail(
            check,
            subject,
            f"{len(failed)} of {len(replies)} calls did not return HTTP 200 "
            f"(statuses: {_status_counts(failed)}); {figures}",
            "intermittent failures usually mean one bad task behind the load balancer: "
            f"run `make verify STACK={estate.stack}` and read {estate.log_group}",
        )
    if over:
        return fail(
            check,
            subject,
            f"{' and '.join(over)} over budget: {figures}",
            "check the service's CPU/memory and the ALB TargetResponseTime in CloudWatch; "
            "rerun once to rule out a cold model load (2-5 s on first use)",
        )
    return ok(check, subject, figures)


def _status_counts(replies: Sequence[Reply]) -> str:
    counts: dict[str, int] = {}
    for reply in replies:
        key = str(reply.status)
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{status} x{count}" for status, count in sorted(counts.items()))


def not_run(check: str, subject: str, reason: str) -> Result:
    # A warning, not a failure: the cause is already a FAIL row (or the deadline,
    # which sets the exit code itself), and counting every skipped check as failed
    # would bury it.
    return warning(check, subject, f"not run: {reason}")


# --- the report: a run the deadline stopped does not pass -----------------------


@dataclass
class SmokeReport(Report):
    # True when the run deadline left checks unrun: without a failure that is
    # "could not check" (exit 2), never a pass.
    cut_short: bool = False

    @property
    def exit_code(self) -> int:
        if self.failures:
            return EXIT_FINDINGS
        return EXIT_CANNOT_CHECK if self.cut_short else EXIT_OK

    def summary_line(self) -> str:
        line = super().summary_line()
        if self.exit_code == EXIT_CANNOT_CHECK:
            counts = line[len(self.title) :].removeprefix(": passed")
            return f"{self.title}: INCOMPLETE, the run deadline stopped it{counts}"
        return line

    def as_json(self) -> str:
        document = json.loads(super().as_json())
        document["passed"] = self.exit_code == EXIT_OK
        return json.dumps(document, indent=2)


ReportT = TypeVar("ReportT", bound=Report)


def redact(report: ReportT, secret: str) -> ReportT:
    """The report with every occurrence of the secret replaced (a response body may echo it)."""

    def scrub(text: str) -> str:
        return text.replace(secret, REDACTED) if secret else text

    return replace(
        report,
        title=scrub(report.title),
        results=[
            replace(r, check=scrub(r.check), subject=scrub(r.subject), finding=scrub(r.finding), fix=scrub(r.fix))
            for r in report.results
        ],
        notes=[scrub(n) for n in report.notes],
    )


# --- inputs: validated once, CannotCheck on anything wrong --------------------


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_key: str
    model_id: str
    calls: int
    budget: Budget
    timeout_s: float
    payload: dict[str, Any]
    stack: str = DEFAULT_STACK
    deadline_s: float = DEFAULT_DEADLINE_S
    mlflow_base_url: str = ""  # empty: the API's base URL
    mlflow_path: str = DEFAULT_MLFLOW_PATH


def api_key_from(environ: Mapping[str, str]) -> str:
    key = environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise CannotCheck(
            f"{API_KEY_ENV} is not set or is empty. Export an API key for the target "
            f"environment first (e.g. `export {API_KEY_ENV}=...` from your secrets store, "
            "or a CI secret); it is read only from the environment, never from a flag."
        )
    # http.client rejects control characters in header values with a ValueError that
    # quotes the value, i.e. the key: refuse such a key here, without quoting it.
    if not all(33 <= ord(ch) <= 126 for ch in key):
        raise CannotCheck(
            f"{API_KEY_ENV} contains spaces, control or non-ASCII characters, so it cannot "
            "be sent in a header: check how it was exported (a stray newline or quote?)."
        )
    return key


def normalise_base_url(raw: str, option: str = "--base-url") -> str:
    """The base URL without a trailing slash; CannotCheck when it is not an http(s) origin (+ path)."""
    text = raw.strip()
    try:
        parts = urllib.parse.urlsplit(text)
        parts.hostname  # noqa: B018 - raises ValueError on a malformed [IPv6] host
    except ValueError as error:
        raise CannotCheck(f"{option} {raw!r} is malformed: {error}. Example: {option} https://api.hokus.ai") from None
    problem = ""
    if parts.scheme not in ("http", "https"):
        problem = "it must start with https:// or http://"
    elif any(ord(ch) <= 32 or ord(ch) >= 127 for ch in text):
        problem = "it contains spaces, control or non-ASCII characters (percent-encode them; punycode a host)"
    elif not parts.hostname:
        problem = "it has no host name"
    elif parts.username or parts.password:
        problem = "it must not carry credentials (user:password@)"
    elif parts.query or parts.fragment:
        problem = "it must not have a query string or fragment"
    else:
        try:
            parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
        except ValueError:
            problem = "its port is not a number between 0 and 65535"
    if problem:
        raise CannotCheck(f"{option} {raw!r} is malformed: {problem}. Example: {option} https://api.hokus.ai")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def mlflow_path_from(raw: str) -> str:
    """A path (and query) on the API, for the MLflow proxy checks."""
    problem = ""
    if not raw.startswith("/") or raw.startswith("//"):
        problem = "it must be a path starting with a single /"
    elif any(ord(ch) <= 32 or ord(ch) >= 127 for ch in raw):
        problem = "it contains spaces, control or non-ASCII characters (percent-encode them)"
    elif "#" in raw:
        problem = "it must not have a fragment"
    elif len(raw) > 2000:
        problem = "it is over 2000 characters"
    if problem:
        raise CannotCheck(f"--mlflow-path {raw!r} is malformed: {problem}. Default: {DEFAULT_MLFLOW_PATH}")
    return raw


def read_payload(path: str | None) -> dict[str, Any]:
    if path is None:
        return DEFAULT_PAYLOAD
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except OSError as error:
        raise CannotCheck(
            f"--payload {path}: cannot read the file ({error.strerror or error}). "
            "Pass a readable JSON file, or omit --payload for the default lead-scoring input."
        ) from None
    except (ValueError, RecursionError) as error:
        raise CannotCheck(
            f'--payload {path}: not valid JSON ({_short(str(error), 120)}). Expected an object like {{"inputs": {{...}}}}.'
        ) from None
    if not isinstance(payload, dict):
        raise CannotCheck(
            f'--payload {path}: the JSON must be an object like {{"inputs": {{...}}}}, not a {type(payload).__name__}.'
        )
    return payload


def _positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def convert(text: str) -> float | int:
        value = kind(text)
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its error message
    return convert


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.smoke",
        description="Post-deploy smoke test of the Hokusai API. The API key is read from "
        f"${API_KEY_ENV} only. Exit 0 passed, 1 a check failed, 2 could not check.",
    )
    parser.add_argument("--base-url", required=True, help="where the API answers, e.g. https://api.hokus.ai")
    parser.add_argument(
        "--model-id", default=DEFAULT_MODEL_ID, help=f"model to exercise, a number (default {DEFAULT_MODEL_ID})"
    )
    parser.add_argument(
        "--stack",
        default=DEFAULT_STACK,
        help=f"the stack the API belongs to: names its log group, service and secrets in the advice "
        f"(default {DEFAULT_STACK})",
    )
    parser.add_argument(
        "--calls",
        type=_positive(int),
        default=DEFAULT_CALLS,
        help=f"predict calls timed for p50/p95 (default {DEFAULT_CALLS})",
    )
    parser.add_argument(
        "--p50-budget-ms",
        type=_positive(float),
        default=DEFAULT_P50_BUDGET_MS,
        help=f"p50 latency budget in ms (default {DEFAULT_P50_BUDGET_MS:.0f})",
    )
    parser.add_argument(
        "--p95-budget-ms",
        type=_positive(float),
        default=DEFAULT_P95_BUDGET_MS,
        help=f"p95 latency budget in ms (default {DEFAULT_P95_BUDGET_MS:.0f})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds one request may take, start to last byte (default {DEFAULT_TIMEOUT_S:.0f})",
    )
    parser.add_argument(
        "--deadline",
        type=_positive(float),
        default=DEFAULT_DEADLINE_S,
        help=f"seconds the whole run may take; checks left are reported not run (default {DEFAULT_DEADLINE_S:.0f})",
    )
    parser.add_argument(
        "--payload",
        metavar="FILE",
        help="JSON file with the predict request body (default: a lead-scoring input for model 21)",
    )
    parser.add_argument(
        "--mlflow-base-url",
        metavar="URL",
        help="where the MLflow proxy answers, e.g. https://registry.hokus.ai (default: --base-url)",
    )
    parser.add_argument(
        "--mlflow-path",
        default=DEFAULT_MLFLOW_PATH,
        help=f"a read through the MLflow proxy (default {DEFAULT_MLFLOW_PATH})",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    model_id = str(args.model_id).strip()
    if not re.fullmatch(r"[0-9]{1,18}", model_id):
        raise CannotCheck(f"--model-id {args.model_id!r} is not a model id: the API's model ids are numbers, e.g. 21.")
    if not STACK_NAME.match(args.stack):
        raise CannotCheck(
            f"--stack {args.stack!r} is not a stack name: lower-case letters, digits and dashes, "
            "at most 24, starting with a letter (e.g. development)."
        )
    base_url = normalise_base_url(args.base_url)
    return Settings(
        base_url=base_url,
        api_key=api_key_from(environ),
        model_id=model_id,
        calls=args.calls,
        budget=Budget(p50_ms=args.p50_budget_ms, p95_ms=args.p95_budget_ms),
        timeout_s=args.timeout,
        payload=read_payload(args.payload),
        stack=args.stack,
        deadline_s=args.deadline,
        mlflow_base_url=normalise_base_url(args.mlflow_base_url, "--mlflow-base-url") if args.mlflow_base_url else "",
        mlflow_path=mlflow_path_from(args.mlflow_path),
    )


# --- the run --------------------------------------------------------------------


CHECKS = (
    "health",
    "model.info",
    "predict.x-api-key",
    "predict.bearer",
    "predict.no-key",
    "predict.invalid-body",
    "predict.malformed-values",
    "mlflow.x-api-key",
    "mlflow.bearer",
    "mlflow.no-key",
    "predict.latency",
)


@dataclass(frozen=True)
class Step:
    check: str
    subject: str
    run: Callable[[], Result]


def plan(client: Client, settings: Settings) -> list[Step]:
    """Every check, in an order where each failure explains the next; latency, the longest, last."""
    estate = Estate(settings.stack)
    info_path = f"/api/v1/models/{settings.model_id}/info"
    predict_path = f"/api/v1/models/{settings.model_id}/predict"
    predict_url = client.url(predict_path)
    mlflow_base = settings.mlflow_base_url or settings.base_url
    mlflow_url = client.url(settings.mlflow_path, mlflow_base)

    def predict(auth: Auth, payload: Any) -> Reply:
        return client.send("POST", predict_path, auth=auth, payload=payload)

    def mlflow(auth: Auth) -> Result:
        return judge_mlflow(client.send("GET", settings.mlflow_path, auth=auth, base_url=mlflow_base), auth, estate)

    def malformed() -> Result:
        probe = malformed_probe(settings.payload)
        if probe is None:
            return not_run("predict.malformed-values", predict_url, "the payload has no numeric input to spoil")
        feature, body = probe
        return judge_malformed_values(predict(Auth.X_API_KEY, body), feature, estate)

    def latency() -> Result:
        return judge_latency(timed_predictions(client, predict_path, settings), settings.calls, settings.budget, estate)

    return [
        Step(
            "health",
            client.url(API.health_check_path),
            lambda: judge_health(client.send("GET", API.health_check_path), estate),
        ),
        Step(
            "model.info",
            client.url(info_path),
            lambda: judge_info(client.send("GET", info_path, auth=Auth.X_API_KEY), settings.model_id, estate),
        ),
        # These two also warm the model up, so the timed calls below measure the cached
        # path the latency budget is about (the first load from Hugging Face takes seconds).
        *(
            Step(
                f"predict.{auth.value}",
                predict_url,
                functools.partial(
                    lambda a: judge_prediction(predict(a, settings.payload), a, settings.model_id, estate), auth
                ),
            )
            for auth in (Auth.X_API_KEY, Auth.BEARER)
        ),
        Step("predict.no-key", predict_url, lambda: judge_missing_key(predict(Auth.NONE, settings.payload), estate)),
        Step(
            "predict.invalid-body",
            predict_url,
            lambda: judge_invalid_bodies(
                [(label, predict(Auth.X_API_KEY, body)) for label, body in INVALID_BODIES], estate
            ),
        ),
        Step("predict.malformed-values", predict_url, malformed),
        Step("mlflow.x-api-key", mlflow_url, lambda: mlflow(Auth.X_API_KEY)),
        Step("mlflow.bearer", mlflow_url, lambda: mlflow(Auth.BEARER)),
        Step("mlflow.no-key", mlflow_url, lambda: mlflow(Auth.NONE)),
        Step("predict.latency", predict_url, latency),
    ]


def run_checks(client: Client, settings: Settings) -> tuple[list[Result], bool]:
    """Every check's result, and whether the run deadline left some unrun."""
    results: list[Result] = []
    skip_reason = ""
    cut_short = False
    for step in plan(client, settings):
        if not skip_reason and client.out_of_time():
            skip_reason, cut_short = _deadline_reason(settings), True
        if skip_reason:
            results.append(not_run(step.check, step.subject, skip_reason))
            continue
        try:
            result = step.run()
        except RunDeadlineReached:
            skip_reason, cut_short = _deadline_reason(settings), True
            results.append(not_run(step.check, step.subject, skip_reason))
            continue
        results.append(result)
        if step.check == "health" and result.finding.startswith(UNREACHABLE):
            # Nothing answers: every further request would wait out its own timeout to
            # say the same thing, so stop at one clear outage finding.
            skip_reason = f"the API did not answer GET {step.subject}"
    return results, cut_short


def _deadline_reason(settings: Settings) -> str:
    return f"deadline: the run's {settings.deadline_s:g} s (--deadline) were used up"


def timed_predictions(client: Client, path: str, settings: Settings) -> list[Reply]:
    replies: list[Reply] = []
    for _ in range(settings.calls):
        reply = client.send("POST", path, auth=Auth.X_API_KEY, payload=settings.payload)
        replies.append(reply)
        if not reply.answered:
            break  # the API went away mid-run: don't wait out N more timeouts
    return replies


def transport_notes(*base_urls: str) -> list[str]:
    notes = []
    for base_url in dict.fromkeys(base_urls):
        host = urllib.parse.urlsplit(base_url).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if base_url.startswith("http://") and not loopback:
            notes.append(
                f"note: {base_url} is plain http, so the API key crossed the network unencrypted; "
                "prefer the https:// URL"
            )
    return notes


def smoke(settings: Settings, clock: Callable[[], float] = time.monotonic) -> SmokeReport:
    """Every check against the API, as a report already scrubbed of the key."""
    client = Client(
        settings.base_url, settings.api_key, settings.timeout_s, run_deadline=clock() + settings.deadline_s, clock=clock
    )
    results, cut_short = run_checks(client, settings)
    report = SmokeReport(
        title=f"smoke {settings.base_url} (model {settings.model_id}, stack {settings.stack})",
        results=results,
        notes=transport_notes(settings.base_url, settings.mlflow_base_url or settings.base_url),
        cut_short=cut_short,
    )
    return redact(report, settings.api_key)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)  # a usage error exits 2 from argparse itself

    def run() -> int:
        return emit(smoke(settings_from(args, os.environ)), as_json=args.json)

    return run_tool(run)


if __name__ == "__main__":
    sys.exit(main())
