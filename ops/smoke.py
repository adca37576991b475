"""Post-deploy smoke test: does the deployed Hokusai API answer the way its clients need?

Runs HTTP checks against a base URL (the ALB's public name or any address that
reaches the API) and prints the shared report (ops/report.py):

  health                  GET  /health                                   -> 200
  model.info              GET  /api/v1/models/{id}/info     (X-API-Key)   -> 200
  predict.x-api-key       POST /api/v1/models/{id}/predict  (X-API-Key)   -> 200, JSON with `predictions`
  predict.bearer          POST ... (Authorization: Bearer)                -> 200, JSON with `predictions`
  predict.no-key          POST ... without a key                          -> 401
  predict.empty-inputs    POST ... {"inputs": {}}           (X-API-Key)   -> 400 or 422, never 500
  predict.latency         N more POSTs: p50 and p95 (nearest rank) within the budget

A 500 whose body says "HuggingFace token not configured" is named as the known
incident (the task definition lacks the HUGGINGFACE_API_KEY secret, or its secret
has no value) with the fix, whichever check meets it.

Usage:
  HOKUSAI_API_KEY=... python -m ops.smoke --base-url https://api.hokus.ai \\
      [--model-id 21] [--calls 20] [--p50-budget-ms 500] [--p95-budget-ms 1000] \\
      [--timeout 10] [--payload FILE] [--json]

The API key comes only from the environment variable HOKUSAI_API_KEY, never from
a flag: flags end up in shell history, `ps` output and CI logs. The key is never
printed; any echo of it in a response body is redacted from the report.

Redirects are not followed: urllib re-sends every header (the key included) to
wherever a redirect points, so a 3xx is reported as a finding instead.

Exit codes (ops/report.py):
  0  every check passed
  1  at least one check failed, including the API being unreachable or timing
     out (that is an outage, not an inability to check)
  2  could not check: HOKUSAI_API_KEY unset or empty, malformed --base-url,
     unreadable --payload file, bad arguments
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from core.contract import API, HUGGINGFACE_TOKEN
from core.naming import log_group_name
from ops.report import CannotCheck, Report, Result, emit, fail, ok, run_tool, warn

API_KEY_ENV = "HOKUSAI_API_KEY"
REDACTED = f"[{API_KEY_ENV} redacted]"

DEFAULT_MODEL_ID = "21"
DEFAULT_CALLS = 20
# The budgets come from the HuggingFace-token incident's runbook: cached
# predictions are expected under 500 ms; p95 gets twice that for tail noise.
DEFAULT_P50_BUDGET_MS = 500.0
DEFAULT_P95_BUDGET_MS = 1000.0
DEFAULT_TIMEOUT_S = 10.0

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
EMPTY_INPUTS_PAYLOAD: dict[str, Any] = {"inputs": {}}

# The incident's message, and the secret whose absence causes it, as the contract declares them.
HF_TOKEN_SIGNATURE = HUGGINGFACE_TOKEN.message
_HF_SECRET = API.secret(HUGGINGFACE_TOKEN.missing_secret)
HF_TOKEN_INCIDENT = (
    f'this is the known "{HF_TOKEN_SIGNATURE}" incident: the API cannot fetch models '
    "from Hugging Face, so every prediction fails"
)
HF_TOKEN_FIX = (
    f"the running task definition lacks the {_HF_SECRET.env_var} secret, or its secret "
    f"({_HF_SECRET.secret_name_for('<stack>')}) has no value: run `make verify STACK=<stack>` "
    "to see which, set the secret value or redeploy the stack, then rerun smoke"
)
# Smoke does not know the stack; its findings point at the development API's logs.
API_LOG_GROUP = log_group_name(API.key, "development")

BODY_EXCERPT_CHARS = 200


# --- what a request returned --------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What one HTTP request came back with; pure data so the judges are testable without HTTP."""

    url: str
    status: int | None  # None when no HTTP response arrived (refused, DNS, timeout, reset)
    body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""  # why no response arrived
    location: str = ""  # the Location header of a 3xx, which is not followed

    @property
    def answered(self) -> bool:
        return self.status is not None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def excerpt(self) -> str:
        text = " ".join(self.body.split())
        return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS] + "..."


class Auth(Enum):
    NONE = "none"
    X_API_KEY = "x-api-key"
    BEARER = "bearer"


def auth_headers(auth: Auth, api_key: str) -> dict[str, str]:
    """The headers that present the key the way `auth` says (clients use both forms)."""
    if auth is Auth.X_API_KEY:
        return {"X-API-Key": api_key}
    if auth is Auth.BEARER:
        return {"Authorization": f"Bearer {api_key}"}
    return {}


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


def _unreachable(check: str, reply: Reply) -> Result:
    # An outage, so a FAIL (exit 1), not "could not check" (exit 2): a deploy
    # gate must not treat a dead API as inconclusive.
    return fail(
        check,
        reply.url,
        f"API unreachable: no response from {reply.url} ({reply.error})",
        "the API is down or not reachable from here: check the ECS service's running "
        "tasks and the ALB target group health, or the base URL",
    )


def _no_usable_reply(check: str, reply: Reply) -> Result | None:
    """The finding shared by every check when there is no response to judge: outage or redirect."""
    if not reply.answered:
        return _unreachable(check, reply)
    if reply.status is not None and 300 <= reply.status < 400:
        target = reply.location or "(no Location header)"
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} redirect to {target}; not followed, so the API key is not sent to another location",
            "pass the final URL as --base-url (e.g. https:// rather than http://)",
        )
    return None


def _unexpected_status(check: str, reply: Reply, expected: str) -> Result:
    """A response with the wrong status; 500s are examined for the known incident."""
    if reply.status is not None and reply.status >= 500 and HF_TOKEN_SIGNATURE.lower() in reply.body.lower():
        return fail(check, reply.url, f"HTTP {reply.status} (expected {expected}): {HF_TOKEN_INCIDENT}", HF_TOKEN_FIX)
    fix = (
        f"the API failed on the server: read {API_LOG_GROUP} for the error"
        if reply.status is not None and reply.status >= 500
        else "compare with the API's routes and auth for this model"
    )
    return fail(
        check, reply.url, f"HTTP {reply.status} (expected {expected}): {reply.excerpt() or '(empty body)'}", fix
    )


def judge_health(reply: Reply) -> Result:
    check = "health"
    if (blocked := _no_usable_reply(check, reply)) is not None:
        return blocked
    if reply.status == 200:
        return ok(check, reply.url, f"HTTP 200 in {reply.elapsed_ms:.0f} ms")
    if reply.status in (502, 503, 504):
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status}: {reply.excerpt() or '(empty body)'}",
            "the load balancer has no healthy API target: check the ECS service's tasks "
            "(stopped reason) and the target group's health checks",
        )
    return _unexpected_status(check, reply, "200")


def judge_info(reply: Reply, model_id: str) -> Result:
    check = "model.info"
    if (blocked := _no_usable_reply(check, reply)) is not None:
        return blocked
    if reply.status == 200:
        return ok(check, reply.url, f"HTTP 200: model {model_id} is known to the API")
    if reply.status == 404:
        return fail(
            check,
            reply.url,
            f"HTTP 404: the API does not know model {model_id}",
            "check the model id, and that the API reaches the MLflow registry (MLFLOW_SERVER_URL)",
        )
    if reply.status in (401, 403):
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status}: the API key was rejected",
            f"check that {API_KEY_ENV} holds a valid key for this environment, and that the API "
            "reaches its auth service (HOKUSAI_AUTH_SERVICE_URL) and Redis",
        )
    return _unexpected_status(check, reply, "200")


def judge_prediction(reply: Reply, auth: Auth) -> Result:
    """A valid request with the key presented as `auth`: 200 and a JSON body with predictions."""
    check = f"predict.{auth.value}"
    if (blocked := _no_usable_reply(check, reply)) is not None:
        return blocked
    if reply.status in (401, 403):
        header = "X-API-Key" if auth is Auth.X_API_KEY else "Authorization: Bearer"
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status}: the key was rejected when sent as `{header}`",
            f"the API must accept the key as `{header}` (third-party clients use it); check "
            f"{API_KEY_ENV} and the API's auth middleware",
        )
    if reply.status != 200:
        return _unexpected_status(check, reply, "200")
    body = reply.json()
    if not isinstance(body, dict) or body.get("predictions") is None:
        return fail(
            check,
            reply.url,
            f"HTTP 200 but the body has no `predictions`: {reply.excerpt() or '(empty body)'}",
            "clients read `predictions`: check the model's serving code and the API version deployed",
        )
    return ok(check, reply.url, f"HTTP 200 with predictions in {reply.elapsed_ms:.0f} ms")


def judge_missing_key(reply: Reply) -> Result:
    check = "predict.no-key"
    if (blocked := _no_usable_reply(check, reply)) is not None:
        return blocked
    if reply.status == 401:
        return ok(check, reply.url, "HTTP 401: a request without a key is refused")
    if reply.status is not None and 200 <= reply.status < 300:
        return fail(
            check,
            reply.url,
            f"HTTP {reply.status} without any API key: authentication is open",
            "urgent: the API serves predictions to anyone; check the API's auth middleware and "
            "HOKUSAI_AUTH_SERVICE_URL, and consider scaling the service to 0 until fixed",
        )
    return _unexpected_status(check, reply, "401")


def judge_empty_inputs(reply: Reply) -> Result:
    check = "predict.empty-inputs"
    if (blocked := _no_usable_reply(check, reply)) is not None:
        return blocked
    if reply.status in (400, 422):
        return ok(check, reply.url, f"HTTP {reply.status}: invalid input is rejected, not crashed on")
    return _unexpected_status(check, reply, "400 or 422")


def judge_latency(replies: Sequence[Reply], planned: int, budget: Budget) -> Result:
    """p50/p95 over the successful predictions; any failed call fails the check.

    Errors are not timed (a fast 500 would flatter the figures), but they are not
    ignored either: a few failures among N calls is what one bad task behind the
    load balancer looks like (e.g. one task still on an old revision).
    """
    check = "predict.latency"
    subject = replies[0].url if replies else "(no calls)"
    if replies and not replies[-1].answered:
        # The loop stops at the first call without a response: say how far it got.
        outage = _unreachable(check, replies[-1])
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
            f"run `make verify STACK=<stack>` and read {API_LOG_GROUP}",
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
    # A warning, not a failure: the cause is already a FAIL row, and counting every
    # skipped check as failed would bury it.
    return warn(check, subject, f"not run: {reason}")


def redact(report: Report, secret: str) -> Report:
    """The report with every occurrence of the secret replaced (a response body may echo it)."""

    def scrub(text: str) -> str:
        return text.replace(secret, REDACTED) if secret else text

    return Report(
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


def normalise_base_url(raw: str) -> str:
    """The base URL without a trailing slash; CannotCheck when it is not an http(s) origin (+ path)."""
    parts = urllib.parse.urlsplit(raw.strip())
    problem = ""
    if parts.scheme not in ("http", "https"):
        problem = "it must start with https:// or http://"
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
        raise CannotCheck(f"--base-url {raw!r} is malformed: {problem}. Example: --base-url https://api.hokus.ai")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


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
    except ValueError as error:
        raise CannotCheck(
            f'--payload {path}: not valid JSON ({error}). Expected an object like {{"inputs": {{...}}}}.'
        ) from None
    if not isinstance(payload, dict):
        raise CannotCheck(
            f'--payload {path}: the JSON must be an object like {{"inputs": {{...}}}}, not a {type(payload).__name__}.'
        )
    return payload


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    def positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
        def convert(text: str) -> float | int:
            value = kind(text)
            if value <= 0:
                raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
            return value

        convert.__name__ = kind.__name__  # argparse names the type in its error message
        return convert

    parser = argparse.ArgumentParser(
        prog="python -m ops.smoke",
        description="Post-deploy smoke test of the Hokusai API. The API key is read from "
        f"${API_KEY_ENV} only. Exit 0 passed, 1 a check failed, 2 could not check.",
    )
    parser.add_argument("--base-url", required=True, help="where the API answers, e.g. https://api.hokus.ai")
    parser.add_argument("--model-id", default=DEFAULT_MODEL_ID, help=f"model to exercise (default {DEFAULT_MODEL_ID})")
    parser.add_argument(
        "--calls",
        type=positive(int),
        default=DEFAULT_CALLS,
        help=f"predict calls timed for p50/p95 (default {DEFAULT_CALLS})",
    )
    parser.add_argument(
        "--p50-budget-ms",
        type=positive(float),
        default=DEFAULT_P50_BUDGET_MS,
        help=f"p50 latency budget in ms (default {DEFAULT_P50_BUDGET_MS:.0f})",
    )
    parser.add_argument(
        "--p95-budget-ms",
        type=positive(float),
        default=DEFAULT_P95_BUDGET_MS,
        help=f"p95 latency budget in ms (default {DEFAULT_P95_BUDGET_MS:.0f})",
    )
    parser.add_argument(
        "--timeout",
        type=positive(float),
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for each request (default {DEFAULT_TIMEOUT_S:.0f})",
    )
    parser.add_argument(
        "--payload",
        metavar="FILE",
        help="JSON file with the predict request body (default: a lead-scoring input for model 21)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    model_id = str(args.model_id).strip()
    if not model_id or not all(ch.isalnum() or ch in "-_." for ch in model_id):
        raise CannotCheck(f"--model-id {args.model_id!r} is not a model id (letters, digits, '-', '_', '.').")
    return Settings(
        base_url=normalise_base_url(args.base_url),
        api_key=api_key_from(environ),
        model_id=model_id,
        calls=args.calls,
        budget=Budget(p50_ms=args.p50_budget_ms, p95_ms=args.p95_budget_ms),
        timeout_s=args.timeout,
        payload=read_payload(args.payload),
    )


# --- HTTP ---------------------------------------------------------------------


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Turns every 3xx into an HTTPError instead of following it.

    urllib's default handler re-sends the request's headers, API key included,
    to whatever host the Location names; smoke reports the redirect instead.
    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        return None


class Client:
    """Sends the smoke requests: a timeout on every one, no redirects, the key only as asked."""

    def __init__(
        self, base_url: str, api_key: str, timeout_s: float, opener: urllib.request.OpenerDirector | None = None
    ) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self.timeout_s = timeout_s
        self._opener = opener or urllib.request.build_opener(_RefuseRedirects)

    def url(self, path: str) -> str:
        return self.base_url + path

    def send(self, method: str, path: str, *, auth: Auth = Auth.NONE, payload: dict[str, Any] | None = None) -> Reply:
        url = self.url(path)
        headers = {"Accept": "application/json", "User-Agent": "hokusai-smoke/1", **auth_headers(auth, self._api_key)}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                body = response.read()
                return Reply(url, response.status, self._scrub(body), _ms_since(started))
        except urllib.error.HTTPError as error:  # a real HTTP answer with a 3xx/4xx/5xx status
            body = _read_quietly(error)
            location = error.headers.get("Location", "") if error.headers else ""
            return Reply(url, error.code, self._scrub(body), _ms_since(started), location=self._scrub(location))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # Refused, DNS failure, TLS failure, timeout, reset: no answer at all.
            return Reply(url, None, elapsed_ms=_ms_since(started), error=self._scrub(self._describe(error)))

    def _scrub(self, received: bytes | str) -> str:
        """Received text with the key redacted, before anything can cut it (excerpts are
        truncated, and half a key would survive the report-wide redaction)."""
        text = received.decode("utf-8", errors="replace") if isinstance(received, bytes) else received
        return text.replace(self._api_key, REDACTED)

    def _describe(self, error: BaseException) -> str:
        reason = getattr(error, "reason", None) or error
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"timed out after {self.timeout_s:g} s"
        return str(reason) or type(reason).__name__


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        error.close()


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# --- the run --------------------------------------------------------------------


CHECKS = (
    "health",
    "model.info",
    "predict.x-api-key",
    "predict.bearer",
    "predict.no-key",
    "predict.empty-inputs",
    "predict.latency",
)


def run_checks(client: Client, settings: Settings) -> list[Result]:
    """Every check, in an order where each failure explains the next."""
    info_path = f"/api/v1/models/{settings.model_id}/info"
    predict_path = f"/api/v1/models/{settings.model_id}/predict"

    health = client.send("GET", API.health_check_path)
    results = [judge_health(health)]
    if not health.answered:
        # Nothing answers: every further request would wait out its own timeout to
        # say the same thing, so stop at one clear outage finding.
        reason = f"the API did not answer GET {health.url}"
        subjects = [client.url(info_path)] + [client.url(predict_path)] * 5
        return results + [not_run(check, subject, reason) for check, subject in zip(CHECKS[1:], subjects, strict=False)]

    results.append(judge_info(client.send("GET", info_path, auth=Auth.X_API_KEY), settings.model_id))
    # These two also warm the model up, so the timed calls below measure the cached
    # path the latency budget is about (the first load from Hugging Face takes seconds).
    for auth in (Auth.X_API_KEY, Auth.BEARER):
        results.append(judge_prediction(client.send("POST", predict_path, auth=auth, payload=settings.payload), auth))
    results.append(judge_missing_key(client.send("POST", predict_path, payload=settings.payload)))
    results.append(
        judge_empty_inputs(client.send("POST", predict_path, auth=Auth.X_API_KEY, payload=EMPTY_INPUTS_PAYLOAD))
    )
    results.append(judge_latency(timed_predictions(client, predict_path, settings), settings.calls, settings.budget))
    return results


def timed_predictions(client: Client, path: str, settings: Settings) -> list[Reply]:
    replies: list[Reply] = []
    for _ in range(settings.calls):
        reply = client.send("POST", path, auth=Auth.X_API_KEY, payload=settings.payload)
        replies.append(reply)
        if not reply.answered:
            break  # the API went away mid-run: don't wait out N more timeouts
    return replies


def transport_notes(base_url: str) -> list[str]:
    host = urllib.parse.urlsplit(base_url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if base_url.startswith("http://") and not loopback:
        return [
            f"note: {base_url} is plain http, so the API key crossed the network unencrypted; prefer the https:// URL"
        ]
    return []


def smoke(settings: Settings) -> Report:
    """Every check against the API, as a report already scrubbed of the key."""
    client = Client(settings.base_url, settings.api_key, settings.timeout_s)
    report = Report(title=f"smoke {settings.base_url} (model {settings.model_id})")
    report.extend(run_checks(client, settings))
    report.notes.extend(transport_notes(settings.base_url))
    return redact(report, settings.api_key)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)  # a usage error exits 2 from argparse itself

    def run() -> int:
        return emit(smoke(settings_from(args, os.environ)), as_json=args.json)

    return run_tool(run)


if __name__ == "__main__":
    sys.exit(main())
