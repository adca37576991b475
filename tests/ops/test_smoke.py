"""ops/smoke.py: the pure judgements first, then the command end to end against a
local imitation of the Hokusai API whose behaviour each test switches to inject
one failure from the incidents (seeds 000-003)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import naming
from ops import smoke
from ops.report import EXIT_CANNOT_CHECK, EXIT_FINDINGS, EXIT_OK, CannotCheck, Report, Status, fail
from tests.helpers import INCIDENT, INCIDENT_SERVICE

# Built at runtime so nothing in the repository looks like a credential.
FAKE_KEY = "smoke-test-key-" + "x" * 8
MODEL = "21"
PREDICT = f"/api/v1/models/{MODEL}/predict"
INFO = f"/api/v1/models/{MODEL}/info"


# --- the imitation API ----------------------------------------------------------


@dataclass
class Behaviour:
    """How the fake API answers; the defaults are a healthy deployment."""

    health_status: int = 200
    info_status: int = 200
    info_redirect_to: str = ""
    bearer_accepted: bool = True
    auth_enforced: bool = True
    empty_inputs_status: int = 422
    empty_inputs_body: dict[str, Any] = field(
        default_factory=lambda: {"detail": [{"loc": ["body", "inputs"], "msg": "field required"}]}
    )
    predictions_in_body: bool = True
    predict_delay_s: float = 0.0
    fail_every_nth_prediction: int = 0  # one bad task behind the load balancer
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

    def _handle(self, method: str) -> None:
        behaviour = self.server.behaviour
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.seen.append(Seen(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body))

        if self.path == "/health" and method == "GET":
            return self._reply(behaviour.health_status, {"status": "healthy"})
        if self.path == INFO and method == "GET":
            if behaviour.info_redirect_to:
                return self._reply(302, {}, location=behaviour.info_redirect_to)
            if not self._authorised():
                return self._reply(401, {"detail": "API key required"})
            return self._reply(behaviour.info_status, {"model_id": MODEL, "name": "lead-scoring"})
        if self.path == PREDICT and method == "POST":
            return self._predict(behaviour, body)
        return self._reply(404, {"detail": "Not Found"})

    def _predict(self, behaviour: Behaviour, body: Any) -> None:
        if behaviour.predict_delay_s:
            time.sleep(behaviour.predict_delay_s)
        if not self._authorised() and behaviour.auth_enforced:
            return self._reply(401, {"detail": "Invalid or missing API key"})
        if body == {"inputs": {}}:
            return self._reply(behaviour.empty_inputs_status, behaviour.empty_inputs_body)
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

    def _reply(self, status: int, payload: dict[str, Any], location: str = "") -> None:
        if self.server.behaviour.echo_key:
            payload = {**payload, "received": self.headers.get("X-API-Key") or self.headers.get("Authorization")}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

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

    def results(self) -> dict[str, dict[str, Any]]:
        """The --json report's results by check name."""
        return {r["check"]: r for r in json.loads(self.out)["results"]}


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


def test_empty_inputs_500_with_the_token_message_names_the_incident_and_its_fix():
    """GIVEN a 500 'HuggingFace token not configured' WHEN judged THEN FAIL naming the incident, the
    missing HUGGINGFACE_API_KEY secret and `make verify`."""
    result = smoke.judge_empty_inputs(reply(500, {"detail": INCIDENT.message}))
    assert result.status is Status.FAIL
    assert INCIDENT.message in result.finding and "incident" in result.finding
    assert INCIDENT.missing_secret in result.fix and "make verify STACK=" in result.fix


def test_the_token_incident_is_recognised_on_any_prediction_not_only_empty_inputs():
    result = smoke.judge_prediction(reply(500, {"detail": INCIDENT.message}), smoke.Auth.BEARER)
    assert (result.check, result.status) == ("predict.bearer", Status.FAIL)
    assert INCIDENT.missing_secret in result.fix


@pytest.mark.parametrize(
    "status, expected", [(400, Status.OK), (422, Status.OK), (500, Status.FAIL), (200, Status.FAIL), (404, Status.FAIL)]
)
def test_empty_inputs_must_be_rejected_as_invalid(status, expected):
    result = smoke.judge_empty_inputs(reply(status, {"detail": "x"}))
    assert result.status is expected
    if status == 500:
        # a plain 500 points at the logs, not the token
        assert naming.log_group_name(INCIDENT_SERVICE, "development") in result.fix


@pytest.mark.parametrize("status, expected", [(401, Status.OK), (200, Status.FAIL), (403, Status.FAIL)])
def test_no_key_must_be_refused_with_401(status, expected):
    result = smoke.judge_missing_key(reply(status, {"detail": "x"}))
    assert result.status is expected
    if status == 200:
        assert "authentication is open" in result.finding


def test_a_redirect_is_a_finding_with_its_target_not_a_pass():
    result = smoke.judge_health(reply(301, "", location="https://elsewhere.example.test/health"))
    assert result.status is Status.FAIL
    assert "301" in result.finding and "https://elsewhere.example.test/health" in result.finding
    assert "not followed" in result.finding


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
    result = smoke.judge_latency(replies, 4, smoke.Budget(p50_ms=1000, p95_ms=1000))
    assert result.status is Status.FAIL
    assert "1 of 4 calls did not return HTTP 200 (statuses: 500 x1)" in result.finding
    assert "p50 900 ms" in result.finding  # the fast 500 did not drag the median down


def test_latency_stops_on_a_call_without_response_and_says_which_call():
    replies = timed(5, 5) + [reply(None, error="timed out after 10 s")]
    result = smoke.judge_latency(replies, 20, smoke.Budget())
    assert result.status is Status.FAIL
    assert result.finding.startswith("call 3 of 20: API unreachable")


def test_redact_replaces_the_key_everywhere():
    report = Report("t", [fail("c", f"s {FAKE_KEY}", f"body {FAKE_KEY}", f"fix {FAKE_KEY}")], [FAKE_KEY])
    text = smoke.redact(report, FAKE_KEY).as_json()
    assert FAKE_KEY not in text and smoke.REDACTED in text


@pytest.mark.parametrize(
    "raw",
    [
        "api.hokus.ai",
        "ftp://api.hokus.ai",
        "https://",
        "https://api.hokus.ai?x=1",
        "https://user:pw@api.hokus.ai",
        "https://api.hokus.ai:99999",
    ],
)
def test_a_malformed_base_url_cannot_be_checked(raw):
    with pytest.raises(CannotCheck, match="malformed"):
        smoke.normalise_base_url(raw)


def test_a_base_url_loses_its_trailing_slash_but_keeps_a_path_prefix():
    assert smoke.normalise_base_url("https://api.hokus.ai/") == "https://api.hokus.ai"
    assert smoke.normalise_base_url(" http://alb.example.test:8080/hokusai/ ") == "http://alb.example.test:8080/hokusai"


# --- end to end: a healthy API --------------------------------------------------


def test_a_healthy_api_passes_every_check(monkeypatch, capsys, api):
    """GIVEN a healthy API WHEN smoke runs with default budgets and 20 calls THEN exit 0, all seven checks ok."""
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--json")
    assert outcome.code == EXIT_OK, outcome.out
    results = outcome.results()
    assert list(results) == list(smoke.CHECKS)
    assert {r["status"] for r in results.values()} == {"ok"}
    assert results["predict.latency"]["finding"].endswith("over 20 calls")
    assert json.loads(outcome.out)["passed"] is True


def test_each_request_carries_the_key_only_as_intended(monkeypatch, capsys, api):
    """The no-key call really has no key; the Bearer call has no X-API-Key to fall back on."""
    smoke_json(monkeypatch, capsys, api)
    predicts = [s for s in api.seen if s.path == PREDICT]
    no_key = [s for s in predicts if "x-api-key" not in s.headers and "authorization" not in s.headers]
    bearer = [s for s in predicts if s.headers.get("authorization") == f"Bearer {FAKE_KEY}"]
    assert len(no_key) == 1 and len(bearer) == 1
    assert "x-api-key" not in bearer[0].headers
    assert "x-api-key" not in next(s for s in api.seen if s.path == "/health").headers
    assert predicts[0].body == smoke.DEFAULT_PAYLOAD
    assert len(predicts) == 4 + 5  # four functional calls, five timed


def test_the_table_names_each_check_and_the_verdict(monkeypatch, capsys, api):
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url + "/", "--calls", "3")
    assert outcome.code == EXIT_OK
    for check in smoke.CHECKS:
        assert check in outcome.out
    assert "passed (7 ok, 0 failed, 0 warnings)" in outcome.out


def test_a_payload_file_replaces_the_default_input(monkeypatch, capsys, api, tmp_path):
    payload = {"inputs": {"company_size": 50, "industry": "Retail"}}
    (tmp_path / "payload.json").write_text(json.dumps(payload))
    outcome = smoke_json(monkeypatch, capsys, api, "--payload", str(tmp_path / "payload.json"))
    assert outcome.code == EXIT_OK
    assert all(s.body == payload for s in api.seen if s.path == PREDICT and s.body != {"inputs": {}})


# --- end to end: each failure from the incidents ---------------------------------


def test_health_503_fails_health(monkeypatch, capsys, api):
    """GIVEN the ALB answers /health with 503 WHEN smoke runs THEN exit 1 and health FAILs with the status."""
    api.behaviour.health_status = 503
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    health = outcome.results()["health"]
    assert health["status"] == "FAIL" and health["finding"].startswith("HTTP 503")
    assert "target group" in health["fix"]


def test_unknown_model_fails_info(monkeypatch, capsys, api):
    api.behaviour.info_status = 404
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    info = outcome.results()["model.info"]
    assert info["status"] == "FAIL"
    assert info["finding"] == f"HTTP 404: the API does not know model {MODEL}"


def test_bearer_rejected_while_x_api_key_works(monkeypatch, capsys, api):
    """GIVEN the API accepts X-API-Key but not Bearer (the third-party client's form)
    THEN predict.bearer FAILs, and only it."""
    api.behaviour.bearer_accepted = False
    outcome = smoke_json(monkeypatch, capsys, api)
    results = outcome.results()
    assert outcome.code == EXIT_FINDINGS
    assert results["predict.x-api-key"]["status"] == "ok"
    assert results["predict.bearer"]["status"] == "FAIL"
    assert "Authorization: Bearer" in results["predict.bearer"]["finding"]
    assert [name for name, r in results.items() if r["status"] == "FAIL"] == ["predict.bearer"]


def test_auth_broken_open_fails_no_key(monkeypatch, capsys, api):
    api.behaviour.auth_enforced = False
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    no_key = outcome.results()["predict.no-key"]
    assert no_key["status"] == "FAIL" and "authentication is open" in no_key["finding"]


def test_missing_huggingface_token_is_named_with_its_fix(monkeypatch, capsys, api):
    """GIVEN the incident: empty inputs -> 500 'HuggingFace token not configured'
    WHEN smoke runs THEN predict.empty-inputs FAILs naming the incident and the fix."""
    api.behaviour.empty_inputs_status = 500
    api.behaviour.empty_inputs_body = {"detail": INCIDENT.message}
    outcome = smoke_json(monkeypatch, capsys, api)
    assert outcome.code == EXIT_FINDINGS
    result = outcome.results()["predict.empty-inputs"]
    assert result["status"] == "FAIL"
    assert INCIDENT.message in result["finding"]
    assert INCIDENT.missing_secret in result["fix"] and "make verify STACK=<stack>" in result["fix"]


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


def test_api_that_never_answers_times_out_as_an_outage(monkeypatch, capsys):
    """GIVEN a port that accepts connections but never replies WHEN --timeout 0.05 THEN exit 1, 'timed out'."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.perf_counter()
        outcome = run_smoke(monkeypatch, capsys, "--base-url", base, "--timeout", "0.05", "--json")
        assert time.perf_counter() - started < 1
    assert outcome.code == EXIT_FINDINGS
    assert "timed out after 0.05 s" in outcome.results()["health"]["finding"]


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


def test_malformed_base_url_cannot_check(monkeypatch, capsys):
    outcome = run_smoke(monkeypatch, capsys, "--base-url", "api.hokus.ai")
    assert outcome.code == EXIT_CANNOT_CHECK
    assert "--base-url 'api.hokus.ai' is malformed" in outcome.err


@pytest.mark.parametrize(
    "content, problem",
    [(None, "cannot read the file"), ("{not json", "not valid JSON"), ("[1, 2]", "must be an object")],
)
def test_unreadable_payload_cannot_check(monkeypatch, capsys, api, tmp_path, content, problem):
    path = tmp_path / "payload.json"
    if content is not None:
        path.write_text(content)
    outcome = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--payload", str(path))
    assert outcome.code == EXIT_CANNOT_CHECK
    assert f"--payload {path}" in outcome.err and problem in outcome.err
    assert api.seen == []


def test_a_non_positive_budget_is_a_usage_error(monkeypatch, capsys, api):
    monkeypatch.setenv("HOKUSAI_API_KEY", FAKE_KEY)
    with pytest.raises(SystemExit) as exit_:
        smoke.main(["--base-url", api.base_url, "--p95-budget-ms", "0"])
    assert exit_.value.code == EXIT_CANNOT_CHECK
    assert "must be greater than 0" in capsys.readouterr().err


# --- the key stays secret; the report reaches every consumer ----------------------


def test_the_key_never_appears_even_when_the_api_echoes_it(monkeypatch, capsys, api, tmp_path):
    """GIVEN an API that repeats the received key in its error bodies WHEN smoke reports them
    (table, --json and the step summary) THEN the key is redacted everywhere."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    api.behaviour.echo_key = True
    api.behaviour.info_status = 500
    api.behaviour.bearer_accepted = False
    table = run_smoke(monkeypatch, capsys, "--base-url", api.base_url, "--calls", "2")
    as_json = smoke_json(monkeypatch, capsys, api)
    assert table.code == as_json.code == EXIT_FINDINGS
    for text in (table.out, table.err, as_json.out, as_json.err, summary.read_text()):
        assert FAKE_KEY not in text
    assert smoke.REDACTED in as_json.results()["model.info"]["finding"]  # the echo was there, and was scrubbed


def test_no_part_of_the_key_survives_an_excerpt_cut_through_it(monkeypatch, capsys, api):
    """GIVEN a 500 body whose echoed key straddles the 200-character excerpt limit
    THEN not even the key's first half is printed (redaction happens before the cut)."""
    api.behaviour.echo_key = True
    api.behaviour.empty_inputs_status = 500
    # '{"detail": "' + 157 characters + '", "received": "' puts the key at offset 185.
    api.behaviour.empty_inputs_body = {"detail": "a" * 157}
    outcome = smoke_json(monkeypatch, capsys, api)
    finding = outcome.results()["predict.empty-inputs"]["finding"]
    assert finding.endswith("...") and '"received": "[' in finding  # the cut fell inside the redaction
    assert FAKE_KEY[: len(FAKE_KEY) // 2] not in outcome.out


def test_json_output_lists_every_check_with_all_fields(monkeypatch, capsys, api):
    outcome = smoke_json(monkeypatch, capsys, api)
    document = json.loads(outcome.out)
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
