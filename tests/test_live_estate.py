"""The record of the live estate (core/live_estate.py): every fact cited, no credential,
every unknown with a way to find it, every difference with a reason; and, where
the estate's repository is mirrored on this machine, every citation checked
against the file it names.

The invariants are functions returning what is wrong, so each is run on the
record (nothing wrong) and on a copy with the fault planted (the fault found).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import zipfile
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from functools import cache
from pathlib import Path

import pytest

from core.contract import CONTRACTS, looks_secret
from core.live_estate import (
    LIVE,
    CarriedOver,
    Difference,
    Fact,
    LiveEstate,
    PackageSource,
    Placeholder,
    SecretReference,
    Source,
    entries,
    facts,
    lookup,
    placeholders,
)
from tests import tiers
from tests.credentials import CREDENTIALS

# --------------------------------------------------------------------------- #
# Walking every fact, claims of disagreements included
# --------------------------------------------------------------------------- #


def _join(path: str, step: str) -> str:
    return f"{path}.{step}" if path else step


def all_strings(node: object, path: str = "") -> list[tuple[str, str]]:
    """Every piece of text anywhere in the record: values, names, notes, placeholders, differences."""
    if isinstance(node, str):
        return [(path, node)]
    found: list[tuple[str, str]] = []
    if is_dataclass(node) and not isinstance(node, type):
        for item in fields(node):
            found += all_strings(getattr(node, item.name), _join(path, item.name))
    elif isinstance(node, Mapping):
        for key, value in node.items():
            found += all_strings(key, _join(path, f"{key} (name)")) + all_strings(value, _join(path, str(key)))
    elif isinstance(node, tuple):
        for index, value in enumerate(node):
            found += all_strings(value, f"{path}[{index}]")
    return found


# --------------------------------------------------------------------------- #
# The invariants
# --------------------------------------------------------------------------- #


def credentials_in(estate: LiveEstate) -> list[str]:
    return [
        f"{path}: looks like a {kind}"
        for path, text in all_strings(estate)
        for kind, pattern in CREDENTIALS.items()
        if pattern.search(text)
    ]


def unsourced(estate: LiveEstate) -> list[str]:
    return [path for path, fact in facts(estate) if not fact.sources]


def bad_citations(estate: LiveEstate) -> list[str]:
    found = []
    for path, fact in facts(estate):
        for citation in fact.sources:
            if isinstance(citation, Source):
                if not citation.path or not re.fullmatch(r"[0-9a-f]{7,40}", citation.commit):
                    found.append(f"{path}: {citation}")
            elif not (isinstance(citation, PackageSource) and citation.version and citation.path):
                found.append(f"{path}: {citation!r}")
    return found


def unexplained_inferences(estate: LiveEstate) -> list[str]:
    return [path for path, fact in facts(estate) if fact.inferred and not fact.note.strip()]


_SECRETS_MANAGER_ARN = re.compile(
    r"arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:]*:[^:]*:[^:]*)?"
)
_SSM_PARAMETER = re.compile(r"/[A-Za-z0-9/_.-]+")


def secrets_not_by_reference(estate: LiveEstate) -> list[str]:
    """A value under a credential-like name must say where it lives (or be a yes/no about it)."""
    found = []
    for path, entry in entries(estate):
        steps = path.split(".")
        secret_steps = [i for i, step in enumerate(steps) if looks_secret(re.sub(r"\[\d+\]", "", step).upper())]
        if not secret_steps or not isinstance(entry, Fact) or isinstance(entry.value, bool):
            continue
        if secret_steps[0] > 0 and steps[secret_steps[0] - 1] == "environment":
            continue  # a plain setting: reported below, by its service
        owner = lookup(".".join(steps[: secret_steps[0] + 1]), estate)
        if not isinstance(owner, SecretReference):
            found.append(f"{path}: a credential-like name holds a value, not a reference")
    for key, service in estate.services.items():
        for name in service.environment:
            if looks_secret(name):
                found.append(f"services.{key}.environment.{name}: a credential-like name as a plain setting")
        for name, reference in service.secrets.items():
            value = reference.value_from.value
            if not (_SECRETS_MANAGER_ARN.fullmatch(value) or _SSM_PARAMETER.fullmatch(value)):
                found.append(f"services.{key}.secrets.{name}: {value!r} is not a secret ARN or parameter name")
    return found


# A placeholder is filled in by reading the account, never by reading a secret's value.
_AWS_CALL = re.compile(r"\baws ([a-z0-9-]+) ([a-z0-9-]+)")
_READ_ONLY_VERB = re.compile(r"(describe|list|get)-[a-z-]+")
_READS_A_SECRET = re.compile(r"get-secret-value|--with-decryption")


def unfindable_placeholders(estate: LiveEstate) -> list[str]:
    found = []
    for path, placeholder in placeholders(estate):
        if not (placeholder.what.strip() and placeholder.why_unknown.strip() and placeholder.how_to_find.strip()):
            found.append(f"{path}: says neither what, why or how to find")
        elif not placeholder.how_to_find.startswith("aws ") or not all(
            _READ_ONLY_VERB.fullmatch(verb) for _, verb in _AWS_CALL.findall(placeholder.how_to_find)
        ):
            found.append(f"{path}: how_to_find is not a read-only AWS call")
        elif _READS_A_SECRET.search(placeholder.how_to_find):
            found.append(f"{path}: how_to_find reads a secret's value")
    return found


def unreasoned_decisions(estate: LiveEstate) -> list[str]:
    found = []
    for index, difference in enumerate(estate.differences):
        where = f"differences[{index}] ({difference.subject})"
        if not all(s.strip() for s in (difference.subject, difference.live, difference.ours, difference.why)):
            found.append(f"{where}: subject, live, ours and why are all required")
        if not difference.live_facts:
            found.append(f"{where}: names no live fact")
        found += [f"{where}: {p} is not in the record" for p in difference.live_facts if not _resolves(p, estate)]
    for index, kept in enumerate(estate.carried_over):
        if not (kept.subject.strip() and kept.why.strip()) or not _resolves(kept.record_path, estate):
            found.append(f"carried_over[{index}]: needs a subject, a reason and a record path that resolves")
    for index, disagreement in enumerate(estate.disagreements):
        if len(disagreement.claims) < 2 or not (disagreement.verdict.strip() and disagreement.why.strip()):
            found.append(f"disagreements[{index}]: needs two claims, a verdict and a reason")
    return found


def _resolves(path: str, estate: LiveEstate) -> bool:
    try:
        lookup(path, estate)
    except KeyError:
        return False
    return True


def dangling_keys(estate: LiveEstate) -> list[str]:
    """Every key one part of the record uses to name another resolves."""
    found = []
    groups, targets = estate.security_groups, estate.target_groups
    for key, service in estate.services.items():
        if service.target_group not in targets:
            found.append(f"services.{key}.target_group: {service.target_group}")
        if service.security_group not in groups:
            found.append(f"services.{key}.security_group: {service.security_group}")
    for key, balancer in estate.load_balancers.items():
        for index, rule in enumerate(balancer.https_rules):
            where = f"load_balancers.{key}.https_rules[{index}]"
            if rule.target_group not in targets:
                found.append(f"{where}.target_group: {rule.target_group}")
            elif targets[rule.target_group].name.value != rule.forwards_to.value:
                found.append(f"{where}.forwards_to: not the name of target_groups.{rule.target_group}")
    for owner, key in (
        ("redis_rule.group", estate.redis_rule.group),
        ("redis_rule.source_group", estate.redis_rule.source_group),
        ("redis.security_group", estate.redis.security_group),
        ("database.security_group", estate.database.security_group),
    ):
        if key not in groups:
            found.append(f"{owner}: {key}")
    return found


# --------------------------------------------------------------------------- #
# The record holds them
# --------------------------------------------------------------------------- #


def test_every_fact_has_a_source():
    assert facts(LIVE), "the record has no facts"
    assert unsourced(LIVE) == []


def test_every_source_names_a_path_and_a_commit():
    assert bad_citations(LIVE) == []


def test_no_value_looks_like_a_credential():
    assert credentials_in(LIVE) == []


def test_secrets_are_known_only_by_where_they_live():
    assert secrets_not_by_reference(LIVE) == []


def test_every_placeholder_says_how_to_find_it():
    assert placeholders(LIVE), "the record has no placeholders"
    assert unfindable_placeholders(LIVE) == []


def test_every_difference_and_carried_over_value_has_a_reason():
    assert LIVE.differences
    assert unreasoned_decisions(LIVE) == []


def test_every_inferred_value_says_how():
    assert unexplained_inferences(LIVE) == []


def test_the_parts_of_the_record_name_each_other_by_keys_that_exist():
    assert dangling_keys(LIVE) == []


def test_every_service_of_the_contract_has_a_live_record():
    # The program binds each service to its live counterpart: none may be missing.
    assert set(CONTRACTS) <= set(LIVE.services)


def test_every_secret_a_live_service_reads_is_a_reference_with_a_store():
    for service in LIVE.services.values():
        for reference in service.secrets.values():
            assert reference.store in ("secretsmanager", "ssm")
            assert bool(reference.secret_name) == (reference.store == "secretsmanager")
            assert bool(reference.parameter_name) == (reference.store == "ssm")


# --------------------------------------------------------------------------- #
# Each invariant finds its fault
# --------------------------------------------------------------------------- #


def _with_incident_date(fact: Fact) -> LiveEstate:
    return replace(LIVE, incident=replace(LIVE.incident, date=fact))


def test_a_fact_without_a_source_is_found():
    estate = _with_incident_date(Fact("2025-10-07", ()))
    assert unsourced(estate) == ["incident.date"]


def test_a_claim_of_a_disagreement_without_a_source_is_found():
    first = LIVE.disagreements[0]
    broken = replace(first, claims=(Fact("x", ()), *first.claims[1:]))
    estate = replace(LIVE, disagreements=(broken, *LIVE.disagreements[1:]))
    assert unsourced(estate) == ["disagreements[0].claims[0]"]


def test_a_citation_without_a_commit_is_refused_where_it_is_written():
    with pytest.raises(ValueError, match="is not 7-40 lower-case hex digits"):
        Source("current-task-def.json", "main", lines="5")
    with pytest.raises(ValueError, match="is not 7-40 lower-case hex digits"):
        Source("current-task-def.json", "a9ef70", lines="5")  # six: too short to name a commit
    with pytest.raises(ValueError, match="without a leading /"):
        Source("/current-task-def.json", "a9ef708", lines="5")
    with pytest.raises(ValueError, match="either lines"):
        Source("current-task-def.json", "a9ef708")
    with pytest.raises(ValueError, match="either lines"):
        Source("infrastructure/terraform/tfplan", "a9ef708", lines="1", locator="tfstate aws_vpc.this")
    with pytest.raises(ValueError, match="must look like"):
        Source("current-task-def.json", "a9ef708", lines="5-")
    with pytest.raises(ValueError, match="exact version"):
        PackageSource("mlflow", "", "mlflow/server/__init__.py", "64")


def test_a_citation_renders_as_path_at_commit_and_lines():
    assert str(Source("current-task-def.json", "a9ef708", lines="86-95")) == "current-task-def.json@a9ef708:86-95"
    assert Source("x.md", "a9ef708", lines="5,12-14").line_numbers == (5, 12, 13, 14)
    located = Source("infrastructure/terraform/tfplan", "a9ef708", locator="tfstate aws_vpc.this")
    assert str(located) == "infrastructure/terraform/tfplan@a9ef708 (tfstate aws_vpc.this)"


@pytest.mark.parametrize(
    ("planted", "kind"),
    [
        ("hk_live_" + "A1b2C3d4E5f6", "Hokusai API key"),
        ("hk_test_" + "A1b2C3d4E5f6", "Hokusai API key"),
        ("hf_" + "AbCdEfGhIjKlMnOp", "Hugging Face token"),
        ("AKIA" + "ABCDEFGHIJKLMNOP", "AWS access key id"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY", "AWS secret access key"),
        ("postgresql://mlflow:" + "s3cr3t" + "@db.example:5432/x", "password in a URL"),
        ("rediss://:" + "t0ken" + "@cache.example:6379/0", "password in a URL"),
    ],
)
def test_a_planted_credential_is_found(planted, kind):
    estate = _with_incident_date(Fact("2025-10-07", LIVE.incident.date.sources, note=f"see {planted}"))
    assert credentials_in(estate) == [f"incident.date.note: looks like a {kind}"]


def test_a_marker_in_a_url_and_a_commit_hash_are_not_credentials():
    note = "postgresql://mlflow:<password>@db.example:5432/x, rediss://:<token>@h:6379/0, " + "a" * 40
    estate = _with_incident_date(Fact("2025-10-07", LIVE.incident.date.sources, note=note))
    assert credentials_in(estate) == []


def test_a_secret_as_a_plain_setting_is_found():
    api = LIVE.services["api"]
    leaked = {**api.environment, "HUGGINGFACE_API_KEY": Fact("redacted", api.container_name.sources)}
    estate = replace(LIVE, services={**LIVE.services, "api": replace(api, environment=leaked)})
    assert secrets_not_by_reference(estate) == [
        "services.api.environment.HUGGINGFACE_API_KEY: a credential-like name as a plain setting"
    ]


def test_a_secret_whose_reference_is_a_value_is_found():
    api = LIVE.services["api"]
    token = SecretReference(Fact("not a reference", api.container_name.sources))
    estate = replace(LIVE, services={**LIVE.services, "api": replace(api, secrets={**api.secrets, "X_TOKEN": token})})
    assert secrets_not_by_reference(estate) == [
        "services.api.secrets.X_TOKEN: 'not a reference' is not a secret ARN or parameter name"
    ]


def test_a_credential_like_field_holding_a_value_is_found():
    # Weakening the rule to "secrets mappings only" would miss a credential field elsewhere.
    estate = replace(LIVE, redis=replace(LIVE.redis, auth_token=Fact("a value", LIVE.redis.port.sources)))
    assert secrets_not_by_reference(estate) == [
        "redis.auth_token: a credential-like name holds a value, not a reference"
    ]


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("", "says neither what, why or how to find"),
        ("ask someone", "how_to_find is not a read-only AWS call"),
        ("aws ecs update-service --cluster c --service s", "how_to_find is not a read-only AWS call"),
        (
            "aws ecs describe-services --services s && aws ecs update-service --service s",
            "how_to_find is not a read-only AWS call",
        ),
        ("aws secretsmanager get-secret-value --secret-id x", "how_to_find reads a secret's value"),
        ("aws ssm get-parameter --name /x --with-decryption", "how_to_find reads a secret's value"),
    ],
)
def test_a_placeholder_that_cannot_be_filled_safely_is_found(how, problem):
    redis = replace(LIVE.redis, port_parameter_value=Placeholder("w", "y", how))
    assert unfindable_placeholders(replace(LIVE, redis=redis)) == [f"redis.port_parameter_value: {problem}"]


def test_a_difference_without_a_reason_or_a_live_fact_is_found():
    unreasoned = Difference("s", "live", "ours", " ", live_facts=("cluster.name",))
    unanchored = Difference("s", "live", "ours", "why")
    misnamed = Difference("s", "live", "ours", "why", live_facts=("cluster.nmae",))
    estate = replace(LIVE, differences=(unreasoned, unanchored, misnamed))
    assert unreasoned_decisions(estate) == [
        "differences[0] (s): subject, live, ours and why are all required",
        "differences[1] (s): names no live fact",
        "differences[2] (s): cluster.nmae is not in the record",
    ]


def test_a_carried_over_value_without_a_reason_is_found():
    estate = replace(LIVE, carried_over=(CarriedOver("s", "services.api.health_check", ""),))
    assert unreasoned_decisions(estate) == [
        "carried_over[0]: needs a subject, a reason and a record path that resolves"
    ]


def test_an_inference_without_its_explanation_is_found():
    estate = _with_incident_date(Fact("2025-10-07", LIVE.incident.date.sources, inferred=True))
    assert unexplained_inferences(estate) == ["incident.date"]


def test_a_key_naming_nothing_is_found():
    estate = replace(LIVE, redis=replace(LIVE.redis, security_group="elasticache"))
    assert dangling_keys(estate) == ["redis.security_group: elasticache"]


def test_a_rule_whose_key_and_target_name_disagree_is_found():
    registry = LIVE.load_balancers["registry"]
    first = registry.https_rules[0]
    other = next(key for key in LIVE.target_groups if key != first.target_group)
    moved = replace(first, target_group=other)
    estate = replace(
        LIVE, load_balancers={"registry": replace(registry, https_rules=(moved, *registry.https_rules[1:]))}
    )
    assert dangling_keys(estate) == [
        f"load_balancers.registry.https_rules[0].forwards_to: not the name of target_groups.{other}"
    ]


# --------------------------------------------------------------------------- #
# Reading the record
# --------------------------------------------------------------------------- #


def test_lookup_follows_fields_keys_indexes_and_secret_parts():
    assert lookup("services.api.health_check.interval") is LIVE.services["api"].health_check.interval
    assert lookup("load_balancers.registry.https_rules[0].priority") is (
        LIVE.load_balancers["registry"].https_rules[0].priority
    )
    assert lookup("services.api.secrets.REDIS_AUTH_TOKEN.json_key") == (
        LIVE.services["api"].secrets["REDIS_AUTH_TOKEN"].json_key
    )


def test_every_entry_is_found_again_by_its_path():
    for path, entry in entries(LIVE):
        assert lookup(path) is entry, path


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("services.web.container_name", "'web'"),
        ("cluster.nmae", "'nmae'"),
        ("load_balancers.registry.https_rules[9]", "item 9"),
    ],
)
def test_lookup_of_a_missing_path_names_the_step(path, names):
    with pytest.raises(KeyError, match=re.escape(names)):
        lookup(path)


def _reference(value: str) -> SecretReference:
    return SecretReference(Fact(value, LIVE.incident.date.sources))


@pytest.mark.parametrize(
    ("value_from", "parts"),
    [
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/app/db-AbC123:password::",
            ("secretsmanager", "team/app/db", "AbC123", "password", ""),
        ),
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/hf/api-key-Zz9Zz9",
            ("secretsmanager", "team/hf/api-key", "Zz9Zz9", "", ""),
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/redis/token:auth_token::",
            ("secretsmanager", "team/redis/token", "", "auth_token", ""),
        ),
        ("/team/development/redis/port", ("ssm", "", "", "", "/team/development/redis/port")),
    ],
)
def test_a_secret_reference_reads_its_parts_from_the_value(value_from, parts):
    reference = _reference(value_from)
    assert (
        reference.store,
        reference.secret_name,
        reference.arn_suffix,
        reference.json_key,
        reference.parameter_name,
    ) == parts


def test_a_secret_arn_drops_only_the_json_key_selector():
    reference = _reference("arn:aws:secretsmanager:us-east-1:123456789012:secret:team/app/db-AbC123:password::")
    assert reference.secret_arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/app/db-AbC123"
    assert _reference("/team/x").secret_arn == ""


def test_the_record_cannot_be_changed_in_place() -> None:
    with pytest.raises(AttributeError):
        LIVE.cluster.name = Fact("other", ())  # type: ignore[misc]
    with pytest.raises(TypeError):
        LIVE.services["web"] = LIVE.services["api"]  # type: ignore[index]


# --------------------------------------------------------------------------- #
# Against the estate's repository, where it is mirrored (CI has no mirror)
# --------------------------------------------------------------------------- #

MIRROR = Path(os.environ.get("HOKUSAI_ESTATE_MIRROR", "/work/.mirror/Hokusai-protocol+hokusai-data-pipeline/repo"))
needs_mirror = pytest.mark.skipif(
    not (MIRROR / "HEAD").exists(),
    reason=f"no mirror of the estate's repository at {MIRROR} (set HOKUSAI_ESTATE_MIRROR to a clone's git dir)",
)
_TFPLAN_MEMBER = "tfstate"


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(MIRROR), *args], capture_output=True, timeout=60, check=False)


@cache
def _blob(commit: str, path: str) -> bytes | None:
    result = _git("show", f"{commit}:{path}")
    return result.stdout if result.returncode == 0 else None


@cache
def _tfstate_resources(commit: str, path: str) -> dict[str, str]:
    """Resource address -> its attributes as JSON text, from the state inside a binary plan."""
    data = _blob(commit, path)
    assert data is not None, f"{path}@{commit} is not in the mirror"
    state = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(_TFPLAN_MEMBER))
    resources: dict[str, str] = {}
    for resource in state["resources"]:
        base = f"{resource['module']}." if resource.get("module") else ""
        base += f"{resource['type']}.{resource['name']}"
        for instance in resource["instances"]:
            index = f"[{instance['index_key']}]" if "index_key" in instance else ""
            resources[base + index] = json.dumps(instance["attributes"])
    return resources


def cited_text(source: Source) -> str | None:
    """The text a citation points at, or None when the mirror does not hold it."""
    if source.locator:
        member, _, address = source.locator.partition(" ")
        if member != _TFPLAN_MEMBER:
            return None
        return _tfstate_resources(source.commit, source.path).get(address)
    data = _blob(source.commit, source.path)
    if data is None:
        return None
    lines = data.decode("utf-8", errors="replace").splitlines()
    if max(source.line_numbers) > len(lines):
        return None
    return "\n".join(lines[n - 1] for n in source.line_numbers)


def _quoted(value: object) -> list[str]:
    """The literal texts a value shows in its sources: identifiers and numbers, not statements or yes/no."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, str):
        return [] if " " in value else [value]
    if isinstance(value, tuple):
        return [text for item in value for text in _quoted(item)]
    return []


def values_not_in_their_sources(estate: LiveEstate) -> list[str]:
    """A quoted (not inferred) value must appear in the lines one of its repository sources cites.

    Only paths and citations are reported: the estate's write-ups hold credentials,
    so their text is never printed.
    """
    found = []
    for path, fact in facts(estate):
        repository_sources = [s for s in fact.sources if isinstance(s, Source)]
        if fact.inferred or not repository_sources:
            continue
        texts = [cited_text(s) or "" for s in repository_sources]
        for literal in _quoted(fact.value):
            if not any(literal in text for text in texts):
                found.append(f"{path}: {literal!r} is not in {', '.join(map(str, repository_sources))}")
    return found


def _repository_sources(estate: LiveEstate) -> set[Source]:
    return {s for _, fact in facts(estate) for s in fact.sources if isinstance(s, Source)}


@needs_mirror
@tiers.process
def test_every_cited_file_exists_at_its_commit():
    cited = {(s.commit, s.path) for s in _repository_sources(LIVE)}
    missing = sorted(
        f"{path}@{commit}" for commit, path in cited if _git("cat-file", "-e", f"{commit}:{path}").returncode
    )
    assert missing == []


@needs_mirror
@tiers.process
def test_every_cited_line_and_state_resource_exists():
    assert sorted(str(s) for s in _repository_sources(LIVE) if cited_text(s) is None) == []


@needs_mirror
@tiers.process
def test_every_quoted_value_appears_in_the_lines_it_cites():
    assert values_not_in_their_sources(LIVE) == []


@needs_mirror
@tiers.process
def test_a_value_that_its_lines_do_not_show_is_found():
    health = LIVE.services["api"].health_check
    wrong = replace(health, interval=replace(health.interval, value=31))
    estate = replace(LIVE, services={**LIVE.services, "api": replace(LIVE.services["api"], health_check=wrong)})
    assert values_not_in_their_sources(estate) == [
        "services.api.health_check.interval: '31' is not in current-task-def.json@a9ef708:91"
    ]


@needs_mirror
@tiers.process
def test_a_citation_past_the_end_of_its_file_is_found():
    assert cited_text(Source("current-task-def.json", "a9ef708", lines="9999")) is None
    assert cited_text(Source("infrastructure/terraform/tfplan", "a9ef708", locator="tfstate aws_vpc.nowhere")) is None
