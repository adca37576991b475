"""ops/smoke.py: the pure judgements first, then the command end to end against a
local imitation of the Hokusai API. The imitation answers the way the real
application did when it was run (docs/SMOKE.md, app commit a9ef708): `{"inputs": {}}`
is accepted, `{}` / `{"inputs": []}` / `{"inputs": "x"}` get 422, a word where a
number belongs gets 500, /health reports its dependencies, 401s carry the auth
middleware's `detail`. Each test switches it to inject one failure from the
incidents (seeds 000-004) or from the real runs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.contract import API, HUGGINGFACE_TOKEN
from core.naming import log_group_name
from ops import smoke
from ops.report import EXIT_CANNOT_CHECK, EXIT_FINDINGS, EXIT_OK, CannotCheck, Report, Status, fail
from tests import tiers

# Built at runtime so nothing in the repository looks like a credential.
FAKE_KEY = "smoke-test-key-" + "x" * 8
MODEL = "21"
PREDICT = f"/api/v1/models/{MODEL}/predict"
INFO = f"/api/v1/models/{MODEL}/info"
MLFLOW_SEARCH = smoke.DEFAULT_MLFLOW_PATH
HEALTHY_SERVICES = {"mlflow": "healthy", "redis": "healthy", "postgres": "healthy", "external_api": "healthy"}
# The API's answers when the Hugging Face token is missing / refused (docs/SMOKE.md).
HF_MISSING_BODY = {"detail": HUGGINGFACE_TOKEN.message}
HF_REFUSED_BODY = {
    "detail": "Failed to load model: 401 Client Error.\n\nRepository Not Found for url: "
    "http://127.0.0.1:1/timogilvie/hokusai-model-21-sales-lead-scorer/resolve/main/model.pkl.\n"
    "Please make sure you specified the correct `repo_id` and `repo_type`.\nIf you are trying to access "
    "a private or gated repo, make sure you are authenticated."
}
DTYPE_ERROR = "Prediction failed: dtype='numeric' is not compatible with arrays of bytes/strings."


# --- the imitation API ----------------------------------------------------------


@dataclass
class Behaviour:
    """How the fake API answers; the defaults are a healthy deployment of the real application."""

    health_status: int = 200
    health_body: Any = field(default_factory=lambda: {"status": "healthy", "services": dict(HEALTHY_SERVICES)})
    health_headers: dict[str, str] = field(default_factory=dict)
    info_status: int = 200
    info_redirect_to: str = ""
    bearer_accepted: bool = True
    auth_enforced: bool = True
    # The auth middleware's answer for every keyed request, e.g. the auth service being down.
    auth_failure: str = ""
    hf_token: str = "ok"  # ok | missing | refused
    malformed_status: int = 500  # what the real API answers to a word where a number belongs
    invalid_bodies_status: int = 422
    predictions_in_body: bool = True
    predict_delay_s: float = 0.0
    fail_every_nth_prediction: int = 0  # one bad task behind the load balancer
    server_error_body: Any = None  # a plain 500 on info, when set
    mlflow_status: int = 200
    echo_key: bool = False  # a careless API that repeats the credential it received


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: Any


class FakeApi(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> bool | None:
        behaviour = self.server.behaviour
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.seen.append(Seen(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body))

        if self.path == "/health" and method == "GET":
            return self._reply(behaviour.health_status, behaviour.health_body, headers=behaviour.health_headers)
        if self.path == INFO and method == "GET":
            if behaviour.info_redirect_to:
                return self._reply(302, {}, headers={"Location": behaviour.info_redirect_to})
            if (refused := self._auth_refusal()) is not None:
                return refused
            if behaviour.server_error_body is not None:
                return self._reply(500, behaviour.server_error_body)
            if behaviour.info_status == 404:
                return self._reply(404, {"detail": f"Model {MODEL} not found"})
            return self._reply(behaviour.info_status, {"model_id": MODEL, "name": "Sales Lead Scoring Model"})
        if self.path == PREDICT and method == "POST":
            return self._predict(behaviour, body)
        if self.path.startswith("/api/mlflow/") and method == "GET":
            if (refused := self._auth_refusal()) is not None:
                return refused
            if self.path == "/api/mlflow/health":
                return self._reply(behaviour.mlflow_status, "OK")
            if self.path == MLFLOW_SEARCH:
                return self._reply(behaviour.mlflow_status, {"experiments": [{"experiment_id": "0"}]})
        return self._reply(404, {"detail": "Not Found"})

    def _auth_refusal(self) -> bool | None:
        """The auth middleware: the 401 the real one sends, or None to let the request through."""
        behaviour = self.server.behaviour
        if not behaviour.auth_enforced:
            return None
        offered = self.headers.get("X-API-Key") or self.headers.get("Authorization")
        if not offered:
            return self._reply(401, {"detail": "API key required"})
        if behaviour.auth_failure:
            return self._reply(401, {"detail": behaviour.auth_failure})
        if not self._authorised():
            return self._reply(401, {"detail": "Invalid or expired API key"})
        return None

    def _predict(self, behaviour: Behaviour, body: Any) -> bool | None:
        if behaviour.predict_delay_s:
            time.sleep(behaviour.predict_delay_s)
        if (refused := self._auth_refusal()) is not None:
            return refused
        # The request model: `inputs` must be an object (422 before anything is loaded).
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), dict):
            return self._reply(behaviour.invalid_bodies_status, {"detail": [{"type": "dict_type"}]})
        if behaviour.hf_token == "missing":
            return self._reply(500, HF_MISSING_BODY)
        if behaviour.hf_token == "refused":
            return self._reply(500, HF_REFUSED_BODY)
        if any(isinstance(v, str) for k, v in body["inputs"].items() if k == "company_size"):
            return self._reply(behaviour.malformed_status, {"detail": DTYPE_ERROR})
        with self.server.lock:
            self.server.predictions += 1
            count = self.server.predictions
        if behaviour.fail_every_nth_prediction and count % behaviour.fail_every_nth_prediction == 0:
            return self._reply(500, {"detail": "Internal Server Error"})
        result = {"lead_score": 70, "recommendation": "Hot"}
        key = "predictions" if behaviour.predictions_in_body else "result"
        return self._reply(200, {"model_id": MODEL, key: result})

    def _authorised(self) -> bool:
        if self.headers.get("X-API-Key") == FAKE_KEY:
            return True
        return self.server.behaviour.bearer_accepted and self.headers.get("Authorization") == f"Bearer {FAKE_KEY}"

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> bool:
        if self.server.behaviour.echo_key and isinstance(payload, dict):
            payload = {**payload, "received": self.headers.get("X-API-Key") or self.headers.get("Authorization")}
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if isinstance(payload, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return True


class QuietServer(socketserver.ThreadingTCPServer):
    """A test server whose handler threads never print: smoke hanging up on a trickling, huge or
    scripted answer (as it should) would otherwise put a server's traceback on stderr, and a thread
    of an earlier test's server may do so while a later test has stderr redirected to read smoke's
    own. (FakeServer, the well-behaved API, prints all but a client hanging up: a bug in it should show.)"""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A slow answer (predict_delay_s) that smoke gave up on, as it should, is written to a
        # closed socket after the test: printed, it would land in a later test's redirected
        # stderr (the fuzz test below reads it). Anything else is a bug in FakeApi: printed.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeApi)  # port 0: the OS picks a free one
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.seen: list[Seen] = []
        self.predictions = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()
    thread.join(timeout=1)


@pytest.fixture
def api(server: FakeServer) -> FakeServer:
    """The fake API, healthy again for this test."""
    server.reset()
    return server


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real key, no real step summary, no proxy between us and 127.0.0.1."""
    for name in (
        "HOKUSAI_API_KEY",
        "GITHUB_STEP_SUMMARY",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def document(self) -> dict[str, Any]:
        return json.loads(self.out)

    def results(self) -> dict[str, dict[str, Any]]:
        """The --json report's results by check name."""
        return {r["check"]: r for r in self.document()["results"]}

    def failed(self) -> list[str]:
        return [name for name, r in self.results().items() if r["status"] == "FAIL"]


def run_smoke(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, key: str | None = FAKE_KEY
) -> Outcome:
    """`python -m ops.smoke ARGS` in-process, with HOKUSAI_API_KEY set to `key` (unset when None)."""
    if key is not None:
        monkeypatch.setenv("HOKUSAI_API_KEY", key)
    code = smoke.main(list(args))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def smoke_json(monkeypatch, capsys, api: FakeServer, *extra: str) -> Outcome:
    """Five timed calls keep each run in milliseconds; the budgets stay at their defaults."""
    return run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--calls", "5", "--json", *extra)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- pure: percentile ------------------------------------------------------------


def test_nearest_rank_picks_an_observed_value_at_the_rank():
    """GIVEN 20 latencies 1..20 (shuffled) WHEN p50/p95/p100 THEN the 10th, 19th and 20th values."""
    samples = [float(v) for v in (7, 3, 20, 1, 14, 9, 12, 5, 18, 2, 16, 11, 4, 19, 6, 13, 8, 17, 10, 15)]
    assert smoke.nearest_rank(samples, 50) == 10.0
    assert smoke.nearest_rank(samples, 95) == 19.0
    assert smoke.nearest_rank(samples, 100) == 20.0
    assert smoke.nearest_rank([42.0], 95) == 42.0


@pytest.mark.parametrize("samples, percent", [([], 50), ([1.0], 0), ([1.0], 101)])
def test_nearest_rank_refuses_what_has_no_percentile(samples, percent):
    with pytest.raises(ValueError):
        smoke.nearest_rank(samples, percent)


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=60), st.floats(min_value=0.1, max_value=100)
)
def test_nearest_rank_is_the_smallest_sample_covering_the_percent(samples, percent):
    """At least percent% of samples are <= the result, and fewer than that are strictly below it."""
    result = smoke.nearest_rank(samples, percent)
    needed = percent / 100 * len(samples)
    assert result in samples
    assert sum(s <= result for s in samples) >= needed
    assert sum(s < result for s in samples) < needed


# --- pure: judgements ----------------------------------------------------------------


def reply(status: int | None, body: Any = "", **kwargs: Any) -> smoke.Reply:
    text = body if isinstance(body, str) else json.dumps(body)
    return smoke.Reply("https://api.example.test" + PREDICT, status, text, **kwargs)


# Every judge that sees a prediction's answer, as (check id, judge of a reply).
PREDICTION_JUDGES = {
    "predict.x-api-key": lambda r, estate: smoke.judge_prediction(r, smoke.Auth.X_API_KEY, MODEL, estate),
    "predict.bearer": lambda r, estate: smoke.judge_prediction(r, smoke.Auth.BEARER, MODEL, estate),
    "predict.no-key": lambda r, estate: smoke.judge_missing_key(r, estate),
    "predict.invalid-body": lambda r, estate: smoke.judge_invalid_bodies([("{}", r)], estate),
    "predict.malformed-values": lambda r, estate: smoke.judge_malformed_values(r, "company_size", estate),
}
STACKS = ("development", "production", "staging-2")


@pytest.mark.parametrize("check", PREDICTION_JUDGES)
@pytest.mark.parametrize("stack", STACKS)
def test_a_missing_hugging_face_token_is_named_with_its_fix_on_every_check(check, stack):
    """GIVEN a 500 'HuggingFace token not configured' WHEN any prediction check meets it THEN FAIL naming
    the incident, the HUGGINGFACE_API_KEY secret of this stack, `make verify` and a new deployment."""
    estate = smoke.Estate(stack)
    result = PREDICTION_JUDGES[check](reply(500, HF_MISSING_BODY), estate)
    assert (result.check, result.status) == (check, Status.FAIL)
    assert HUGGINGFACE_TOKEN.message in result.finding and "incident" in result.finding
    assert API.secret(HUGGINGFACE_TOKEN.missing_secret).secret_name_for(stack) in result.fix
    assert f"make verify STACK={stack}" in result.fix and "--force-new-deployment" in result.fix


@pytest.mark.parametrize("check", PREDICTION_JUDGES)
@pytest.mark.parametrize("stack", STACKS)
def test_a_refused_hugging_face_token_is_named_with_its_fix_on_every_check(check, stack):
    """GIVEN the 500 a token the Hub refuses gives WHEN judged THEN FAIL saying the token is present but
    refused, the fix putting the right value in this stack's secret and forcing a new deployment."""
    estate = smoke.Estate(stack)
    result = PREDICTION_JUDGES[check](reply(500, HF_REFUSED_BODY), estate)
    assert (result.check, result.status) == (check, Status.FAIL)
    assert "token is present but the Hub refuses it" in result.finding
    assert "Failed to load model: 401 Client Error" in result.finding  # the evidence
    assert API.secret(HUGGINGFACE_TOKEN.missing_secret).secret_name_for(stack) in result.fix
    assert estate.force_new_deployment in result.fix and HUGGINGFACE_TOKEN.refused_log in result.fix
    assert log_group_name(API.key, stack) in result.fix


def test_the_refused_token_is_found_anywhere_in_the_body_not_only_in_the_excerpt():
    """The identifying text after 5000 characters of something else: still named (the whole body read is searched)."""
    body = {"detail": "x" * 5000 + " " + HF_REFUSED_BODY["detail"]}
    result = smoke.judge_prediction(reply(500, body), smoke.Auth.X_API_KEY)
    assert "token is present but the Hub refuses it" in result.finding
    missing = smoke.judge_prediction(reply(500, "<html>" + "y" * 5000 + HUGGINGFACE_TOKEN.message), smoke.Auth.BEARER)
    assert "incident" in missing.finding


@pytest.mark.parametrize("stack", STACKS)
def test_a_plain_500_points_at_the_stacks_own_log_group(stack):
    """The log group comes from --stack, never a hard-coded development."""
    result = smoke.judge_prediction(reply(500, {"detail": "boom"}), smoke.Auth.X_API_KEY, MODEL, smoke.Estate(stack))
    assert result.status is Status.FAIL and "boom" in result.finding
    assert log_group_name(API.key, stack) in result.fix
    if stack != "development":
        assert "development" not in result.fix


# The auth middleware's 401 details (src/middleware/auth.py at a9ef708), and what each means.
AUTH_DETAILS = {
    "API key required": "did not find the key",
    "Invalid or expired API key": "auth service refused the key",
    "Authentication service unavailable": "could not ask its auth service",
    "Authentication service timeout": "could not ask its auth service",
    "Authentication service error": "could not ask its auth service",
    "Rate limit exceeded": "rate limit",
    "Something new": "was refused",
}
KEYED_JUDGES = {
    "model.info": lambda r: smoke.judge_info(r, MODEL),
    "predict.x-api-key": lambda r: smoke.judge_prediction(r, smoke.Auth.X_API_KEY),
    "predict.bearer": lambda r: smoke.judge_prediction(r, smoke.Auth.BEARER),
    "mlflow.x-api-key": lambda r: smoke.judge_mlflow(r, smoke.Auth.X_API_KEY),
    "mlflow.bearer": lambda r: smoke.judge_mlflow(r, smoke.Auth.BEARER),
}


@pytest.mark.parametrize("check", KEYED_JUDGES)
@pytest.mark.parametrize("detail", AUTH_DETAILS)
def test_a_401_is_judged_by_its_detail_which_the_finding_shows(check, detail):
    """GIVEN a 401 with one of the middleware's details THEN the finding quotes it and says what it means;
    no 401 is ever blamed on Redis (it only caches successful validations)."""
    result = KEYED_JUDGES[check](reply(401, {"detail": detail}))
    assert (result.check, result.status) == (check, Status.FAIL)
    assert f"({detail})" in result.finding and AUTH_DETAILS[detail] in result.finding
    assert "redis" not in (result.finding + result.fix).lower()


def test_an_auth_service_outage_is_not_blamed_on_the_key():
    result = smoke.judge_info(reply(401, {"detail": "Authentication service unavailable"}), MODEL)
    assert "HOKUSAI_AUTH_SERVICE_URL" in result.fix and "the key needs no change" in result.fix
    assert "refused the key" not in result.finding


def test_a_model_the_api_does_not_list_is_its_own_table_not_mlflow():
    for result in (
        smoke.judge_info(reply(404, {"detail": "Model 21 not found"}), MODEL),
        smoke.judge_prediction(reply(404, {"detail": "Model 21 not found"}), smoke.Auth.X_API_KEY),
    ):
        assert result.status is Status.FAIL and "Model 21 not found" in result.finding
        assert "model table" in result.finding and "not the MLflow registry" in result.fix
        assert "MLFLOW_SERVER_URL" not in result.fix


@pytest.mark.parametrize("status", [400, 422])
def test_invalid_bodies_refused_with_4xx_pass(status):
    probes = [(label, reply(status, {"detail": []})) for label, _ in smoke.INVALID_BODIES]
    result = smoke.judge_invalid_bodies(probes)
    assert result.status is Status.OK
    for label, _ in smoke.INVALID_BODIES:
        assert f"{label} -> {status}" in result.finding


@pytest.mark.parametrize("wrong_status, says", [(200, "accepted a body"), (500, "HTTP 500"), (404, "HTTP 404")])
@pytest.mark.parametrize("wrong_index", range(len(smoke.INVALID_BODIES)))
def test_any_invalid_body_not_refused_fails_and_is_named(wrong_status, says, wrong_index):
    probes = [(label, reply(422, {})) for label, _ in smoke.INVALID_BODIES]
    label = probes[wrong_index][0]
    probes[wrong_index] = (label, reply(wrong_status, {"detail": "x"}))
    result = smoke.judge_invalid_bodies(probes)
    assert result.status is Status.FAIL
    assert result.finding.startswith(f"body {label}: ") and says in result.finding


def test_empty_inputs_are_valid_and_never_sent_as_an_invalid_body():
    """The real API answers 200 to {"inputs": {}} (every feature defaults): it must not be a probe."""
    assert {"inputs": {}} not in [body for _, body in smoke.INVALID_BODIES]


def test_a_500_on_a_malformed_value_is_a_warning_with_the_evidence():
    result = smoke.judge_malformed_values(reply(500, {"detail": DTYPE_ERROR}), "company_size")
    assert result.status is Status.WARN
    assert "HTTP 500" in result.finding and DTYPE_ERROR in result.finding and "application defect" in result.finding
    assert "not a deploy blocker" in result.fix


@pytest.mark.parametrize("status, expected", [(422, Status.OK), (400, Status.OK), (200, Status.OK), (404, Status.FAIL)])
def test_a_malformed_value_refused_or_tolerated_passes(status, expected):
    assert smoke.judge_malformed_values(reply(status, {"detail": "x"}), "company_size").status is expected


@pytest.mark.parametrize(
    "payload, probe",
    [
        (smoke.DEFAULT_PAYLOAD, ("company_size", {"inputs": {"company_size": "lots"}})),
        ({"inputs": {"flag": True, "n": 2.5}}, ("n", {"inputs": {"n": "lots"}})),  # a bool is not a number here
        ({"inputs": {"name": "x"}}, None),
        ({"inputs": [1]}, None),
        ({}, None),
    ],
)
def test_the_malformed_probe_spoils_the_first_numeric_input(payload, probe):
    assert smoke.malformed_probe(payload) == probe


@pytest.mark.parametrize("status, expected", [(401, Status.OK), (200, Status.FAIL), (403, Status.FAIL)])
def test_no_key_must_be_refused_with_401(status, expected):
    for result in (smoke.judge_missing_key(reply(status, {})), smoke.judge_mlflow(reply(status, {}), smoke.Auth.NONE)):
        assert result.status is expected
        if status == 200:
            assert "authentication is open" in result.finding


@pytest.mark.parametrize(
    "status, expected, says",
    [(200, Status.OK, "MLflow answered"), (204, Status.OK, "MLflow answered"), (404, Status.FAIL, "--mlflow-path")],
)
def test_an_mlflow_read_with_a_key_gets_mlflows_answer(status, expected, says):
    result = smoke.judge_mlflow(reply(status, {"experiments": []}), smoke.Auth.BEARER)
    assert result.status is expected and says in result.finding + result.fix


@pytest.mark.parametrize("status", [502, 504])
def test_an_mlflow_proxy_without_mlflow_names_the_mlflow_service(status):
    result = smoke.judge_mlflow(reply(status, {"detail": "Failed to connect to MLflow server"}), smoke.Auth.X_API_KEY)
    assert result.status is Status.FAIL and "hokusai-mlflow-development" in result.fix


def health(status: int, body: Any, server: str = "uvicorn") -> smoke.Reply:
    text = body if isinstance(body, str) else json.dumps(body)
    return smoke.Reply("https://api.example.test/health", status, text, headers={"server": server})


def test_health_healthy_passes_and_a_bare_200_passes():
    assert smoke.judge_health(health(200, {"status": "healthy", "services": HEALTHY_SERVICES})).status is Status.OK
    assert smoke.judge_health(health(200, "OK")).status is Status.OK


def test_health_degraded_is_a_warning_naming_the_dependencies():
    body = {"status": "degraded", "services": {**HEALTHY_SERVICES, "redis": "unhealthy", "message_queue": "degraded"}}
    result = smoke.judge_health(health(200, body), smoke.Estate("production"))
    assert result.status is Status.WARN
    assert "redis unhealthy" in result.finding and "message_queue degraded" in result.finding
    assert "mlflow" not in result.finding  # healthy ones are not named
    assert "make verify STACK=production" in result.fix


def test_a_503_from_the_api_itself_names_its_dependencies_not_the_load_balancer():
    body = {
        "status": "unhealthy",
        "services": {"mlflow": "degraded", "redis": "unhealthy", "postgres": "unhealthy", "external_api": "healthy"},
    }
    result = smoke.judge_health(health(503, body))
    assert result.status is Status.FAIL and "from the API itself" in result.finding
    assert "redis unhealthy" in result.finding and "postgres unhealthy" in result.finding
    assert "PostgreSQL" in result.fix and "no healthy API target" not in result.fix


@pytest.mark.parametrize(
    "body, server",
    [
        ("<html><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>", "awselb/2.0"),
        ({"status": "unhealthy", "services": {}}, "awselb/2.0"),  # even JSON: the ALB says so
        ("", ""),
    ],
)
def test_a_503_not_from_the_api_points_at_the_load_balancer(body, server):
    result = smoke.judge_health(health(503, body, server))
    assert result.status is Status.FAIL and "no healthy API target" in result.fix


def test_a_health_body_naming_a_thousand_dependencies_stays_readable():
    body = {"status": "degraded", "services": {f"dep{i}": "unhealthy" for i in range(1000)}}
    result = smoke.judge_health(health(200, body))
    assert result.status is Status.WARN and "and 992 more" in result.finding and len(result.finding) < 600


@pytest.mark.parametrize(
    "body, named",
    [
        ({"status": "degraded", "services": ["redis"]}, "none named"),
        ({"status": "degraded", "services": "redis"}, "none named"),
        ({"status": "degraded", "services": {"redis": None, "mlflow": {"x": 1}}}, "redis (NoneType), mlflow (dict)"),
        ({"status": "degraded", "services": {"a" * 500: "b" * 500}}, "a" * 40 + "... " + "b" * 40 + "..."),
    ],
)
def test_a_health_report_of_the_wrong_shape_is_reported_not_crashed_on(body, named):
    result = smoke.judge_health(health(200, body))
    assert result.status is Status.WARN and named in result.finding


@pytest.mark.parametrize("status_field", [None, 7, ["healthy"], {"a": 1}])
def test_a_health_status_that_is_not_text_is_no_dependency_report(status_field):
    result = smoke.judge_health(health(200, {"status": status_field, "services": {"redis": "unhealthy"}}))
    assert result.status is Status.OK and "names no dependency status" in result.finding


def test_a_health_timeout_also_suspects_mlflow():
    """Seen on the real API: /health blocks for minutes while MLflow is unreachable."""
    result = smoke.judge_health(smoke.Reply("https://x/health", None, error="timed out after 10 s (...)"))
    assert result.status is Status.FAIL and "hokusai-mlflow-development" in result.fix


def test_a_redirect_is_a_finding_with_its_target_not_a_pass():
    result = smoke.judge_health(reply(301, "", location="https://elsewhere.example.test/health"))
    assert result.status is Status.FAIL
    assert "301" in result.finding and "https://elsewhere.example.test/health" in result.finding
    assert "not followed" in result.finding


def test_an_oversize_answer_cannot_be_judged_whatever_its_status():
    for status in (200, 401, 500):
        result = smoke.judge_info(reply(status, "", oversize=True, error="the body declares 5242880 bytes"), MODEL)
        assert result.status is Status.FAIL and "cannot tell" in result.finding


def test_no_response_is_an_outage_with_url_and_error():
    result = smoke.judge_info(reply(None, error="Connection refused"), MODEL)
    assert result.status is Status.FAIL
    assert "unreachable" in result.finding and "Connection refused" in result.finding
    assert "https://api.example.test" in result.finding


def timed(*ms: float, status: int = 200) -> list[smoke.Reply]:
    return [reply(status, {"predictions": {}}, elapsed_ms=m) for m in ms]


def test_latency_within_budget_reports_the_figures():
    result = smoke.judge_latency(timed(*range(1, 21)), 20, smoke.Budget(p50_ms=10, p95_ms=19))
    assert result.status is Status.OK
    assert result.finding == "p50 10 ms (budget 10 ms), p95 19 ms (budget 19 ms) over 20 calls"


def test_latency_over_the_p95_budget_fails_and_says_which():
    result = smoke.judge_latency(timed(*range(1, 21)), 20, smoke.Budget(p50_ms=500, p95_ms=18))
    assert result.status is Status.FAIL
    assert result.finding.startswith("p95 over budget: p50 10 ms")


def test_latency_fails_on_intermittent_errors_and_does_not_time_them():
    replies = timed(900, 900, 900) + timed(1, status=500)
    result = smoke.judge_latency(replies, 4, smoke.Budget(p50_ms=1000, p95_ms=1000), smoke.Estate("production"))
    assert result.status is Status.FAIL
    assert "1 of 4 calls did not return HTTP 200 (statuses: 500 x1)" in result.finding
    assert "p50 900 ms" in result.finding  # the fast 500 did not drag the median down
    assert "/ecs/hokusai-api-production" in result.fix


def test_latency_stops_on_a_call_without_response_and_says_which_call():
    replies = timed(5, 5) + [reply(None, error="timed out after 10 s")]
    result = smoke.judge_latency(replies, 20, smoke.Budget())
    assert result.status is Status.FAIL
    assert result.finding.startswith("call 3 of 20: API unreachable")


def test_redact_replaces_the_key_everywhere_and_keeps_the_report_kind():
    report = smoke.SmokeReport("t", [fail("c", f"s {FAKE_KEY}", f"body {FAKE_KEY}", f"fix {FAKE_KEY}")], [FAKE_KEY])
    report.cut_short = True
    redacted = smoke.redact(report, FAKE_KEY)
    assert FAKE_KEY not in redacted.as_json() and smoke.REDACTED in redacted.as_json()
    assert isinstance(redacted, smoke.SmokeReport) and redacted.cut_short
    assert isinstance(smoke.redact(Report("t"), FAKE_KEY), Report)


@pytest.mark.parametrize(
    "results, cut_short, code, verdict",
    [
        ([], False, EXIT_OK, "passed"),
        ([], True, EXIT_CANNOT_CHECK, "INCOMPLETE"),
        ([fail("c", "s", "f", "x")], True, EXIT_FINDINGS, "FAILED"),
        ([fail("c", "s", "f", "x")], False, EXIT_FINDINGS, "FAILED"),
    ],
)
def test_a_run_the_deadline_stopped_never_passes(results, cut_short, code, verdict):
    report = smoke.SmokeReport("smoke t", results, cut_short=cut_short)
    assert report.exit_code == code
    assert report.summary_line().startswith(f"smoke t: {verdict}")
    assert json.loads(report.as_json())["passed"] is (code == EXIT_OK)
    assert json.loads(report.as_json())["exit_code"] == code


# --- inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "api.hokus.ai",
        "ftp://api.hokus.ai",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "https://api.hokus.ai?x=1",
        "https://user:pw@api.hokus.ai",
        "https://api.hokus.ai:99999",
        "https://api.hokus.ai/a b",
        "https://api.hokus.ai/\x00",
    ],
)
def test_a_malformed_base_url_cannot_be_checked(raw):
    with pytest.raises(CannotCheck, match="malformed"):
        smoke.normalise_base_url(raw)


@given(st.text(max_size=60) | st.builds(lambda tail: "http://" + tail, st.text(max_size=40)))
def test_any_base_url_is_accepted_as_an_origin_or_refused_with_a_message(raw):
    """No text makes normalise_base_url raise anything but CannotCheck (urlsplit itself raises ValueError
    on a malformed [IPv6] host); what it accepts is an ASCII http(s) URL without query or credentials."""
    try:
        url = smoke.normalise_base_url(raw)
    except CannotCheck as error:
        assert "is malformed" in str(error)
        return
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname and url.isascii()
    assert not (parts.query or parts.fragment or parts.username)


@pytest.mark.parametrize("raw", ["http://[::1", "http://[zz]/", "https://api.hokus.ai/ü", "https://bücher.example"])
def test_a_base_url_urlsplit_chokes_on_is_refused_not_raised(raw):
    with pytest.raises(CannotCheck, match="malformed"):
        smoke.normalise_base_url(raw)


def test_a_base_url_loses_its_trailing_slash_but_keeps_a_path_prefix():
    assert smoke.normalise_base_url("https://api.hokus.ai/") == "https://api.hokus.ai"
    assert smoke.normalise_base_url(" http://alb.example.test:8080/hokusai/ ") == "http://alb.example.test:8080/hokusai"


@pytest.mark.parametrize(
    "raw", ["api/mlflow", "//evil.example/x", "/a b", "/x#frag", "/" + "a" * 2001, "/\n", "/experiments/ü"]
)
def test_a_malformed_mlflow_path_cannot_be_checked(raw):
    with pytest.raises(CannotCheck, match="--mlflow-path"):
        smoke.mlflow_path_from(raw)


# --- end to end: a healthy API --------------------------------------------------


def test_a_healthy_api_passes_every_check(monkeypatch, capsys, api):
    """GIVEN an API that answers as the real one did when healthy WHEN smoke runs with 20 calls
    THEN exit 0; every check ok except the API's own 500 on a malformed value, a warning."""
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--json")
    assert outcome.code == EXIT_OK, outcome.out
    results = outcome.results()
    assert list(results) == list(smoke.CHECKS)
    assert {name for name, r in results.items() if r["status"] != "ok"} == {"predict.malformed-values"}
    assert results["predict.malformed-values"]["status"] == "warn"
    assert results["predict.latency"]["finding"].endswith("over 20 calls")
    assert outcome.document()["passed"] is True


def test_an_api_refusing_the_malformed_value_passes_without_warnings(monkeypatch, capsys, api):
    api.behaviour.malformed_status = 422
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_OK and {r["status"] for r in outcome.results().values()} == {"ok"}


def test_each_request_carries_the_key_only_as_intended(monkeypatch, capsys, api):
    """The no-key calls really have no key; the Bearer calls have no X-API-Key to fall back on."""
    smoke_json(monkeypatch, capsys, api)
    keyed = [s for s in api.seen if s.path != "/health"]
    no_key = [s for s in keyed if "x-api-key" not in s.headers and "authorization" not in s.headers]
    bearer = [s for s in keyed if s.headers.get("authorization") == f"Bearer {FAKE_KEY}"]
    assert {s.path for s in no_key} == {PREDICT, MLFLOW_SEARCH} and len(no_key) == 2
    assert {s.path for s in bearer} == {PREDICT, MLFLOW_SEARCH} and len(bearer) == 2
    assert all("x-api-key" not in s.headers for s in bearer)
    assert "x-api-key" not in next(s for s in api.seen if s.path == "/health").headers


def test_the_bodies_sent_are_the_payload_the_invalid_ones_and_the_malformed_one(monkeypatch, capsys, api):
    smoke_json(monkeypatch, capsys, api)
    bodies = [s.body for s in api.seen if s.path == PREDICT]
    invalid = [body for _, body in smoke.INVALID_BODIES]
    assert [b for b in bodies if b in invalid] == invalid
    assert bodies.count({"inputs": {"company_size": "lots"}}) == 1
    assert bodies.count(smoke.DEFAULT_PAYLOAD) == 3 + 5  # two keyed, one without key, five timed
    assert {"inputs": {}} not in bodies


def test_the_table_names_each_check_and_the_verdict(monkeypatch, capsys, api):
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url + "/", "--calls", "3")
    assert outcome.code == EXIT_OK
    for check in smoke.CHECKS:
        assert check in outcome.out
    assert f"passed ({len(smoke.CHECKS) - 1} ok, 0 failed, 1 warnings)" in outcome.out


def test_a_payload_file_replaces_the_default_input(monkeypatch, capsys, api, tmp_path):
    payload = {"inputs": {"company_size": 50, "industry": "Retail"}}
    (tmp_path / "payload.json").write_text(json.dumps(payload))
    outcome = smoke_json(monkeypatch, capsys, api, "--payload", str(tmp_path / "payload.json"))
    assert outcome.code == EXIT_OK
    keyed_valid = [
        s.body for s in api.seen if s.path == PREDICT and isinstance(s.body, dict) and "industry" in str(s.body)
    ]
    assert keyed_valid and all(body == payload for body in keyed_valid)


def test_a_payload_without_numbers_skips_the_malformed_probe(monkeypatch, capsys, api, tmp_path):
    (tmp_path / "payload.json").write_text(json.dumps({"inputs": {"industry": "Retail"}}))
    outcome = smoke_json(monkeypatch, capsys, api, "--payload", str(tmp_path / "payload.json"))
    malformed = outcome.results()["predict.malformed-values"]
    assert malformed["status"] == "warn" and malformed["finding"].startswith("not run: the payload has no numeric")


def test_the_mlflow_checks_follow_their_options(monkeypatch, capsys, api):
    """--mlflow-base-url sends the proxy checks elsewhere (here: the same server under another name),
    --mlflow-path reads another path (MLflow's /health, a text answer)."""
    other = api.base_url.replace("127.0.0.1", "localhost")
    outcome = smoke_json(monkeypatch, capsys, api, "--mlflow-base-url", other, "--mlflow-path", "/api/mlflow/health")
    assert outcome.code == EXIT_OK, outcome.out
    mlflow_calls = [s for s in api.seen if s.path.startswith("/api/mlflow/")]
    assert len(mlflow_calls) == 3 and all(s.path == "/api/mlflow/health" for s in mlflow_calls)
    assert all(s.headers["host"].startswith("localhost:") for s in mlflow_calls)
    assert outcome.results()["mlflow.bearer"]["subject"] == other + "/api/mlflow/health"


# --- end to end: each failure from the incidents and the real runs ---------------------


def test_the_missing_hugging_face_token_incident(monkeypatch, capsys, api):
    """GIVEN the seed incident (every prediction 500 'HuggingFace token not configured') WHEN smoke runs
    THEN exit 1, every prediction check names the incident; validation (422 before loading) still passes."""
    api.behaviour.hf_token = "missing"
    outcome = smoke_json(monkeypatch, capsys, api, "--stack", "production")
    assert outcome.code == EXIT_FINDINGS
    assert outcome.failed() == ["predict.x-api-key", "predict.bearer", "predict.malformed-values", "predict.latency"]
    for check in ("predict.x-api-key", "predict.bearer", "predict.malformed-values"):
        result = outcome.results()[check]
        assert HUGGINGFACE_TOKEN.message in result["finding"]
        assert (
            API.secret(HUGGINGFACE_TOKEN.missing_secret).secret_name_for("production") in result["fix"]
            and "make verify STACK=production" in result["fix"]
        )


def test_a_token_the_hub_refuses(monkeypatch, capsys, api):
    api.behaviour.hf_token = "refused"
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    assert outcome.failed() == ["predict.x-api-key", "predict.bearer", "predict.malformed-values", "predict.latency"]
    for check in ("predict.x-api-key", "predict.bearer"):
        result = outcome.results()[check]
        assert "the Hugging Face token is present but the Hub refuses it" in result["finding"]
        assert "--force-new-deployment" in result["fix"]


def test_health_degraded_warns_and_passes(monkeypatch, capsys, api):
    api.behaviour.health_body = {"status": "degraded", "services": {**HEALTHY_SERVICES, "message_queue": "degraded"}}
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_OK
    assert outcome.results()["health"]["status"] == "warn"
    assert "message_queue degraded" in outcome.results()["health"]["finding"]


def test_the_apis_own_503_fails_health_and_the_other_checks_still_run(monkeypatch, capsys, api):
    """Seen on the real API with Redis and PostgreSQL down: /health 503 from uvicorn, predictions fine."""
    api.behaviour.health_status = 503
    api.behaviour.health_body = {"status": "unhealthy", "services": {"redis": "unhealthy", "postgres": "unhealthy"}}
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS and outcome.failed() == ["health"]
    assert "from the API itself" in outcome.results()["health"]["finding"]
    assert outcome.results()["predict.x-api-key"]["status"] == "ok"


def test_the_load_balancers_503_fails_health_pointing_at_the_targets(monkeypatch, capsys, api):
    api.behaviour.health_status = 503
    api.behaviour.health_body = "<html><h1>503 Service Temporarily Unavailable</h1></html>"
    api.behaviour.health_headers = {"Server": "awselb/2.0"}
    outcome = smoke_json(monkeypatch, capsys, api)
    health_row = outcome.results()["health"]
    assert outcome.code == EXIT_FINDINGS
    assert health_row["finding"].startswith("HTTP 503 (the load balancer)") and "target group" in health_row["fix"]


def test_the_auth_service_down_is_named_in_every_keyed_check(monkeypatch, capsys, api):
    """Seen on the real API: 401 'Authentication service unavailable' for every key."""
    api.behaviour.auth_failure = "Authentication service unavailable"
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    for check in ("model.info", "predict.x-api-key", "predict.bearer", "mlflow.x-api-key", "mlflow.bearer"):
        result = outcome.results()[check]
        assert "Authentication service unavailable" in result["finding"] and "HOKUSAI_AUTH_SERVICE_URL" in result["fix"]
    assert (
        outcome.results()["predict.no-key"]["status"] == "ok" and outcome.results()["mlflow.no-key"]["status"] == "ok"
    )


def test_unknown_model_fails_info_naming_the_apis_table(monkeypatch, capsys, api):
    api.behaviour.info_status = 404
    outcome = smoke_json(monkeypatch, capsys, api)
    info = outcome.results()["model.info"]
    assert outcome.code == EXIT_FINDINGS and info["status"] == "FAIL"
    assert f"Model {MODEL} not found" in info["finding"] and "model table" in info["finding"]


def test_bearer_rejected_while_x_api_key_works(monkeypatch, capsys, api):
    """GIVEN the API accepts X-API-Key but not Bearer (the third-party client's form)
    THEN the Bearer checks FAIL, and only they."""
    api.behaviour.bearer_accepted = False
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    assert outcome.failed() == ["predict.bearer", "mlflow.bearer"]
    assert "Authorization: Bearer" in outcome.results()["predict.bearer"]["finding"]


def test_auth_broken_open_fails_both_no_key_checks(monkeypatch, capsys, api):
    api.behaviour.auth_enforced = False
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    assert outcome.failed() == ["predict.no-key", "mlflow.no-key"]
    assert all("authentication is open" in outcome.results()[c]["finding"] for c in outcome.failed())


def test_validation_switched_off_fails_invalid_body(monkeypatch, capsys, api):
    api.behaviour.invalid_bodies_status = 200
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.failed() == ["predict.invalid-body"]
    assert outcome.results()["predict.invalid-body"]["finding"].startswith("body {}: HTTP 200")


def test_mlflow_unreachable_behind_the_proxy_fails_the_keyed_mlflow_checks(monkeypatch, capsys, api):
    api.behaviour.mlflow_status = 502
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.failed() == ["mlflow.x-api-key", "mlflow.bearer"]


def test_a_200_without_predictions_fails_both_predict_checks(monkeypatch, capsys, api):
    api.behaviour.predictions_in_body = False
    outcome = smoke_json(monkeypatch, capsys, api)
    results = outcome.results()
    assert outcome.code == EXIT_FINDINGS
    for check in ("predict.x-api-key", "predict.bearer"):
        assert results[check]["status"] == "FAIL"
        assert "no `predictions`" in results[check]["finding"]


def test_slow_predictions_over_budget_fail_latency_with_figures(monkeypatch, capsys, api):
    """GIVEN predictions take ~3 ms WHEN the budgets are 1 ms THEN latency FAILs and reports p50/p95."""
    api.behaviour.predict_delay_s = 0.003
    outcome = smoke_json(monkeypatch, capsys, api, "--p50-budget-ms", "1", "--p95-budget-ms", "1")
    assert outcome.code == EXIT_FINDINGS
    latency = outcome.results()["predict.latency"]
    assert latency["status"] == "FAIL"
    assert latency["finding"].startswith("p50 and p95 over budget: p50 ")
    assert "(budget 1 ms)" in latency["finding"] and "over 5 calls" in latency["finding"]


def test_one_bad_task_shows_as_intermittent_failures(monkeypatch, capsys, api):
    """GIVEN every 4th prediction fails (one task of several is broken) THEN latency FAILs counting them."""
    api.behaviour.fail_every_nth_prediction = 4
    outcome = smoke_json(monkeypatch, capsys, api)
    latency = outcome.results()["predict.latency"]
    assert outcome.code == EXIT_FINDINGS
    assert latency["status"] == "FAIL"
    assert "1 of 5 calls did not return HTTP 200 (statuses: 500 x1)" in latency["finding"]


def test_a_redirect_is_reported_and_not_followed(monkeypatch, capsys, api):
    """GIVEN info redirects elsewhere THEN a FAIL naming the target, and the key never goes there."""
    api.behaviour.info_redirect_to = api.base_url + "/elsewhere"
    outcome = smoke_json(monkeypatch, capsys, api)
    info = outcome.results()["model.info"]
    assert outcome.code == EXIT_FINDINGS
    assert info["status"] == "FAIL" and "HTTP 302 redirect to" in info["finding"]
    assert not [s for s in api.seen if s.path == "/elsewhere"]


def test_api_down_is_an_outage_not_a_cannot_check(monkeypatch, capsys):
    """GIVEN nothing listens on the port WHEN smoke runs THEN exit 1, health FAILs 'unreachable' with the URL,
    and the other checks are listed as not run instead of each waiting out a timeout."""
    base = f"http://127.0.0.1:{closed_port()}"
    outcome = run_smoke(monkeypatch, capsys, "--base-url", base, "--json")
    assert outcome.code == EXIT_FINDINGS
    results = outcome.results()
    assert list(results) == list(smoke.CHECKS)
    assert results["health"]["status"] == "FAIL"
    assert "unreachable" in results["health"]["finding"] and f"{base}/health" in results["health"]["finding"]
    assert all(r["status"] == "warn" and r["finding"].startswith("not run") for r in list(results.values())[1:])


# --- end to end: time and size -----------------------------------------------------------


class TrickleHandler(socketserver.BaseRequestHandler):
    """Answers every request one byte per 0.2 s: a status line that would take seconds."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}":
                self.request.sendall(bytes([byte]))
                time.sleep(0.2)


@pytest.fixture
def trickling_api() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), TrickleHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@tiers.timing
def test_a_trickling_api_is_cut_at_the_request_deadline(monkeypatch, capsys, trickling_api):
    """GIVEN /health trickles one byte per 0.2 s WHEN --timeout 0.5 THEN health FAILs 'timed out' after ~0.5 s
    (an outage: exit 1) and nothing else waits."""
    started = time.monotonic()
    outcome = run_smoke(monkeypatch, capsys, "--base-url", trickling_api, "--timeout", "0.5", "--json")
    assert time.monotonic() - started < 1.5
    assert outcome.code == EXIT_FINDINGS
    assert "timed out after 0.5 s" in outcome.results()["health"]["finding"]


@tiers.timing
def test_the_run_deadline_reports_what_it_left_unchecked(monkeypatch, capsys, trickling_api):
    """GIVEN the same trickle, --timeout 10 but --deadline 0.5 THEN after ~0.5 s every check is 'not run:
    deadline' and the exit is 2: nothing could be checked, and a run cut short never passes."""
    started = time.monotonic()
    outcome = run_smoke(monkeypatch, capsys, "--base-url", trickling_api, "--deadline", "0.5", "--json")
    assert time.monotonic() - started < 1.5
    assert outcome.code == EXIT_CANNOT_CHECK
    document = outcome.document()
    assert document["passed"] is False and document["exit_code"] == EXIT_CANNOT_CHECK
    assert all(r["finding"].startswith("not run: deadline") for r in document["results"])


@tiers.timing
def test_a_deadline_mid_run_keeps_the_findings_made_so_far(monkeypatch, capsys, api):
    """GIVEN slow predictions and a deadline that ends during the timed calls THEN the early checks are
    judged, latency is 'not run: deadline'; exit 1 when one of them failed, 2 when none did."""
    api.behaviour.predict_delay_s = 0.02
    args = ("--calls", "100", "--deadline", "0.5")
    passing = smoke_json(monkeypatch, capsys, api, *args)
    assert passing.code == EXIT_CANNOT_CHECK
    assert passing.results()["predict.x-api-key"]["status"] == "ok"
    assert passing.results()["predict.latency"]["finding"].startswith("not run: deadline")
    api.behaviour.bearer_accepted = False
    failing = smoke_json(monkeypatch, capsys, api, *args)
    assert failing.code == EXIT_FINDINGS and failing.failed() == ["predict.bearer", "mlflow.bearer"]


class HugeHandler(socketserver.BaseRequestHandler):
    """Declares a 5 MiB body, sends its first 64 KiB, then holds the rest back for seconds."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\n\r\n" + b"x" * 65536)
            time.sleep(3)


def test_a_5_mib_answer_is_refused_without_reading_it(monkeypatch, capsys):
    server = QuietServer(("127.0.0.1", 0), HugeHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        started = time.monotonic()
        outcome = run_smoke(
            monkeypatch, capsys, "--base-url", f"http://127.0.0.1:{server.server_address[1]}", "--calls", "1", "--json"
        )
        took = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert took < 2.0  # every request refused at once, none waited for the 5 MiB
    assert outcome.code == EXIT_FINDINGS
    health_row = outcome.results()["health"]
    assert health_row["status"] == "FAIL" and "over the 1 MiB limit" in health_row["finding"]


# --- cannot check: exit 2 with a message, never a traceback ------------------------


@pytest.mark.parametrize("key", [None, "", "   "])
def test_no_api_key_cannot_check(monkeypatch, capsys, api, key):
    """GIVEN HOKUSAI_API_KEY unset or blank THEN exit 2, a message naming it, and no request sent."""
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, key=key)
    assert outcome.code == EXIT_CANNOT_CHECK
    assert outcome.err.startswith("could not check: HOKUSAI_API_KEY is not set or is empty")
    assert "Traceback" not in outcome.err and outcome.out == ""
    assert api.seen == []


def test_a_key_with_a_newline_is_refused_without_echoing_it(monkeypatch, capsys, api):
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, key=FAKE_KEY + "\nX: y")
    assert outcome.code == EXIT_CANNOT_CHECK
    assert "HOKUSAI_API_KEY contains" in outcome.err and FAKE_KEY not in outcome.err


@pytest.mark.parametrize(
    "args, message",
    [
        (("--base-url", "api.hokus.ai"), "--base-url 'api.hokus.ai' is malformed"),
        (("--base-url", "ftp://api.hokus.ai"), "must start with https:// or http://"),
        (("--model-id", "abc"), "--model-id 'abc' is not a model id"),
        (("--model-id", "21; rm"), "is not a model id"),
        (("--model-id", "-1"), "is not a model id"),
        (("--stack", "Prod_1"), "--stack 'Prod_1' is not a stack name"),
        (("--mlflow-base-url", "registry.hokus.ai"), "--mlflow-base-url 'registry.hokus.ai' is malformed"),
        (("--mlflow-path", "api/mlflow"), "--mlflow-path 'api/mlflow' is malformed"),
    ],
)
def test_bad_arguments_cannot_check_with_a_clear_message(monkeypatch, capsys, api, args, message):
    base = () if "--base-url" in args else ("--base-url", api.base_url)
    outcome = run_smoke(monkeypatch, capsys, *base, *args)
    assert outcome.code == EXIT_CANNOT_CHECK
    assert message in outcome.err and "Traceback" not in outcome.err
    assert api.seen == []


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "cannot read the file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be an object"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_unreadable_payload_cannot_check(monkeypatch, capsys, api, tmp_path, content, problem):
    path = tmp_path / "payload.json"
    if content is not None:
        path.write_text(content)
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--payload", str(path))
    assert outcome.code == EXIT_CANNOT_CHECK
    assert f"--payload {path}" in outcome.err and problem in outcome.err
    assert api.seen == []


@pytest.mark.parametrize("option", ["--p95-budget-ms", "--p50-budget-ms", "--timeout", "--deadline", "--calls"])
@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "abc"])
def test_a_non_positive_or_non_finite_number_is_a_usage_error(monkeypatch, capsys, api, option, value):
    monkeypatch.setenv("HOKUSAI_API_KEY", FAKE_KEY)
    with pytest.raises(SystemExit) as exit_:
        smoke.main(["--base-url", api.base_url, option, value])
    assert exit_.value.code == EXIT_CANNOT_CHECK
    assert option in capsys.readouterr().err
    assert api.seen == []


# --- the key stays secret; the report reaches every consumer ----------------------


def test_the_key_never_appears_even_when_the_api_echoes_it(monkeypatch, capsys, api, tmp_path):
    """GIVEN an API that repeats the received key in its error bodies WHEN smoke reports them
    (table, --json and the step summary) THEN the key is redacted everywhere."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    api.behaviour.echo_key = True
    api.behaviour.server_error_body = {"error": "boom"}
    api.behaviour.bearer_accepted = False
    table = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--calls", "2")
    as_json = smoke_json(monkeypatch, capsys, api)
    assert table.code == as_json.code == EXIT_FINDINGS
    for text in (table.out, table.err, as_json.out, as_json.err, summary.read_text()):
        assert FAKE_KEY not in text
    assert smoke.REDACTED in as_json.results()["model.info"]["finding"]  # the echo was there, and was scrubbed


def test_the_auth_detail_shown_is_redacted_of_the_key(monkeypatch, capsys, api):
    api.behaviour.auth_failure = f"Authentication service unavailable for key {FAKE_KEY}"
    outcome = smoke_json(monkeypatch, capsys, api)
    finding = outcome.results()["model.info"]["finding"]
    assert "Authentication service unavailable for key " + smoke.REDACTED in finding
    assert FAKE_KEY not in outcome.out


def test_no_part_of_the_key_survives_an_excerpt_cut_through_it(monkeypatch, capsys, api):
    """GIVEN a 500 body whose echoed key straddles the 200-character excerpt limit
    THEN not even the key's first half is printed (redaction happens before the cut)."""
    api.behaviour.echo_key = True
    # '{"error": "' + 161 characters + '", "received": "' puts the key at offset 188.
    api.behaviour.server_error_body = {"error": "a" * 161}
    outcome = smoke_json(monkeypatch, capsys, api)
    finding = outcome.results()["model.info"]["finding"]
    assert finding.endswith("...") and '"received": "[' in finding  # the cut fell inside the redaction
    assert FAKE_KEY[: len(FAKE_KEY) // 2] not in outcome.out


def test_json_output_lists_every_check_with_all_fields(monkeypatch, capsys, api):
    outcome = smoke_json(monkeypatch, capsys, api)
    document = outcome.document()
    assert document["exit_code"] == outcome.code == EXIT_OK
    assert [r["check"] for r in document["results"]] == list(smoke.CHECKS)
    assert all(set(r) == {"check", "subject", "status", "finding", "fix"} for r in document["results"])
    assert document["results"][0]["subject"] == api.base_url + "/health"


def test_github_step_summary_gets_a_markdown_table(monkeypatch, capsys, api, tmp_path):
    """GIVEN GITHUB_STEP_SUMMARY points at a file WHEN smoke finds a failure
    THEN a Markdown table with a row per check is appended to it."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    api.behaviour.health_status = 503
    outcome = smoke_json(monkeypatch, capsys, api)
    text = summary.read_text()
    assert outcome.code == EXIT_FINDINGS
    assert text.startswith("earlier step\n")  # appended, not overwritten
    assert "| check | status | subject | finding | fix |" in text
    for check in smoke.CHECKS:
        assert f"| {check} |" in text
    assert "| health | ❌ FAIL |" in text


# --- fuzz: whatever comes back, smoke reports; it never raises ----------------------------


HEADER_NAMES = ("Content-Type", "Content-Length", "Location", "Server", "Transfer-Encoding", "X-Junk")
# The keys the judges read, mostly, so that most answers reach the judgement and not only the parser.
JSON_KEYS = st.sampled_from(["status", "services", "detail", "predictions", "experiments", "model_id"]) | st.text(
    max_size=6
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(["healthy", "degraded", "unhealthy", HUGGINGFACE_TOKEN.message, "Failed to load model: 401"])
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_KEYS, inner, max_size=4),
    max_leaves=12,
)
# The shapes each judge reads, with anything in the fields: /health's report, an error's
# `detail`, a prediction; and objects of the judges' keys in any mixture.
JSON_OBJECTS = st.one_of(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["healthy", "degraded", "unhealthy"]) | JSON_SCALARS,
            "services": st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4) | JSON_VALUES,
        }
    ),
    st.fixed_dictionaries({"detail": JSON_VALUES}),
    st.fixed_dictionaries({"predictions": JSON_VALUES}),
    st.dictionaries(JSON_KEYS, JSON_VALUES, min_size=1, max_size=4),
)
BODIES = st.one_of(
    JSON_OBJECTS.map(lambda value: json.dumps(value).encode()),
    JSON_OBJECTS.map(lambda value: json.dumps(value).encode()),  # twice: objects are what the API sends
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=4300, max_value=6000).map(lambda digits: b"7" * digits),  # over int()'s digit limit
    st.just(b"\xff\xfe\xfd not utf-8 \xc3\x28"),
)
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=30
)


@st.composite
def raw_responses(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=120))  # not HTTP at all
    common = st.sampled_from([200, 200, 200, 204, 301, 302, 400, 401, 403, 404, 422, 500, 500, 502, 503, 503])
    status = draw(common | common | common | st.integers(0, 1200))
    head = [f"HTTP/1.1 {status} {draw(HEADER_TEXT)}"]
    head += [
        f"{name}: {value}"
        for name, value in draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), HEADER_TEXT), max_size=3))
    ]
    body = draw(BODIES)
    framing = draw(st.sampled_from(["length", "close", "chunked"]))
    if framing == "length":
        head.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
    return "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body


class ScriptedHandler(socketserver.BaseRequestHandler):
    """Answers the n-th request with the n-th scripted response (cycling), then hangs up."""

    server: ScriptedServer

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.settimeout(2)
            read_request_head(self.request)
            with self.server.lock:
                response = self.server.script[self.server.count % len(self.server.script)]
                self.server.count += 1
            self.request.sendall(response)
            self.request.shutdown(socket.SHUT_WR)


def read_request_head(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk


class ScriptedServer(QuietServer):
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.lock = threading.Lock()
        self.script: list[bytes] = [b""]
        self.count = 0


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(raw_responses(), min_size=1, max_size=5))
@tiers.fuzz
def test_whatever_the_api_answers_smoke_reports_and_never_raises(scripted, script):
    """GIVEN arbitrary statuses, headers and bodies (bytes, invalid UTF-8, invalid or deeply nested JSON,
    huge numbers, garbage instead of HTTP) served to each check in turn WHEN smoke runs
    THEN no exception escapes, the exit code is 0, 1 or 2, and --json is one JSON document."""
    scripted.script, scripted.count = script, 0
    out, err = io.StringIO(), io.StringIO()
    argv = ["--base-url", f"http://127.0.0.1:{scripted.server_address[1]}", "--calls", "2", "--timeout", "2", "--json"]
    with (
        mock.patch.dict(os.environ, {"HOKUSAI_API_KEY": FAKE_KEY}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = smoke.main(argv)
    assert code in (EXIT_OK, EXIT_FINDINGS, EXIT_CANNOT_CHECK)
    document = json.loads(out.getvalue())
    assert document["exit_code"] == code and [r["check"] for r in document["results"]] == list(smoke.CHECKS)
    assert FAKE_KEY not in out.getvalue() + err.getvalue() and "Traceback" not in err.getvalue()


# Every judge, fed one reply (the list-taking ones get it as their only item).
JUDGES = {
    "health": lambda r: smoke.judge_health(r),
    "model.info": lambda r: smoke.judge_info(r, MODEL),
    "predict.x-api-key": lambda r: smoke.judge_prediction(r, smoke.Auth.X_API_KEY),
    "predict.bearer": lambda r: smoke.judge_prediction(r, smoke.Auth.BEARER),
    "predict.no-key": lambda r: smoke.judge_missing_key(r),
    "predict.invalid-body": lambda r: smoke.judge_invalid_bodies([("{}", r)]),
    "predict.malformed-values": lambda r: smoke.judge_malformed_values(r, "company_size"),
    "mlflow.x-api-key": lambda r: smoke.judge_mlflow(r, smoke.Auth.X_API_KEY),
    "mlflow.bearer": lambda r: smoke.judge_mlflow(r, smoke.Auth.BEARER),
    "mlflow.no-key": lambda r: smoke.judge_mlflow(r, smoke.Auth.NONE),
    "predict.latency": lambda r: smoke.judge_latency([r], 1, smoke.Budget()),
}


def test_every_check_has_a_judge_fuzzed():
    assert list(JUDGES) == list(smoke.CHECKS)


@pytest.mark.parametrize("check", JUDGES)
@settings(max_examples=40)
@given(
    status=st.none() | st.sampled_from([200, 204, 302, 401, 403, 404, 422, 500, 502, 503, 504]) | st.integers(0, 999),
    body=BODIES.map(lambda raw: raw.decode("utf-8", errors="replace")),
    headers=st.dictionaries(st.sampled_from(["server", "location", "content-type"]), HEADER_TEXT, max_size=3),
    oversize=st.booleans(),
)
@tiers.fuzz
def test_every_judge_gives_a_result_for_any_reply(check, status, body, headers, oversize):
    """The judges alone, many more answers than the end-to-end fuzz can afford: a result with the
    check's own id, readable sentences, never an exception."""
    result = JUDGES[check](smoke.Reply("http://x/p", status, body, headers=headers, oversize=oversize))
    assert result.check == check and result.status in Status
    assert result.finding and (result.status is Status.OK or result.fix or result.finding.startswith("not run"))
    assert len(result.finding) < 2000


# --- the recorded run against the real application --------------------------------------

SMOKE_RECORD = Path(__file__).resolve().parents[2] / "docs" / "SMOKE.md"


def recorded_tables(text: str) -> list[str]:
    """The report tables in docs/SMOKE.md: fenced blocks that start with smoke's table header."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return [block for block in blocks if block.startswith("check ")]


def test_the_recorded_run_shows_every_check_in_every_table():
    """docs/SMOKE.md must be re-recorded when the checks change: each table lists exactly today's checks."""
    tables = recorded_tables(SMOKE_RECORD.read_text())
    assert len(tables) >= 3  # healthy, no token, refused token
    for table in tables:
        rows = [line.split()[0] for line in table.splitlines()[1:] if line and not line.startswith(" ")]
        assert rows[:-1] == list(smoke.CHECKS) and rows[-1] == "smoke"


def test_the_recorded_run_holds_no_key():
    text = SMOKE_RECORD.read_text()
    assert re.findall(r"hk_[a-z]+_[A-Za-z0-9]{12,}", text) == []
    assert "<API_KEY>" in text and "a9ef708" in text


def test_the_record_checker_notices_a_missing_check():
    stale = "```\ncheck  status\nhealth  ok  x  y\nsmoke x: passed\n```\n"
    rows = [line.split()[0] for line in recorded_tables(stale)[0].splitlines()[1:]]
    assert rows[:-1] != list(smoke.CHECKS)
