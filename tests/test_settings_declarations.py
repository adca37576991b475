"""The declarations (core/settings/declarations.py) are the single source of every
default and guard: the loader's behaviour and docs/SETTINGS.md both follow them,
and each guard they declare refuses a bad value with a clear error, and stops
refusing it when the declaration is weakened (so the tests would notice)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import pytest

from core.contract import CONTRACTS, DerivedFrom
from core.settings import SecretMode, Settings
from core.settings import declarations as declarations_module
from core.settings.declarations import all_declared, declared
from core.settings.docs import render
from core.settings.fields import NAMESPACE, DerivedDefault, Kind, Marker, Setting
from tests.settings_samples import (
    ADOPTED_SECRET,
    CREATED_SECRET,
    DEVELOPMENT,
    EVERYTHING,
    SERVICE,
    example_dependency,
    example_path,
    has,
    hokusai_settings,
    problems,
    put,
    remove,
    sample_with,
)

# --------------------------------------------------------------------------- #
# Defaults: declared once, and what the loader gives when the key is absent
# --------------------------------------------------------------------------- #


# How each declared default shows in the loaded Settings (the route is the
# sample's second, which has hosts and paths, so it still matches without either).
LOADED: dict[str, Callable[[Settings], Any]] = {
    "network.public_subnet_ids": lambda s: s.network.public_subnet_ids,
    "load_balancer.create": lambda s: s.load_balancer.creates_load_balancer,
    "load_balancer.ssl_policy": lambda s: s.load_balancer.ssl_policy,
    "dependencies.<dependency>.tls": lambda s: (
        s.dependency(example_dependency("dependencies.<dependency>.tls")).attribute("tls") == "true"
    ),
    "dependencies.<dependency>.extra_consumers": lambda s: dict(
        s.dependency(example_dependency("dependencies.<dependency>.extra_consumers")).extra_consumers
    ),
    "log_retention_days": lambda s: s.log_retention_days,
    "alarm_emails": lambda s: s.alarm_emails,
    "deploy_gate.enabled": lambda s: s.deploy_gate.enabled,
    "deploy_gate.timeout_seconds": lambda s: s.deploy_gate.timeout_seconds,
    "tags": lambda s: dict(s.tags),
    "services.<service>.cpu": lambda s: s.service(SERVICE).cpu,
    "services.<service>.memory": lambda s: s.service(SERVICE).memory,
    "services.<service>.desired_count": lambda s: s.service(SERVICE).desired_count,
    "services.<service>.autoscaling.cpu_target_percent": lambda s: s.service(SERVICE).autoscaling.cpu_target_percent,
    "services.<service>.health_check_grace_seconds": lambda s: s.service(SERVICE).health_check_grace_seconds,
    "services.<service>.routes[].hosts": lambda s: s.service(SERVICE).routes[1].hosts,
    "services.<service>.routes[].paths": lambda s: s.service(SERVICE).routes[1].paths,
    "services.<service>.routes[].adopt_existing": lambda s: s.service(SERVICE).routes[1].adopt_existing,
    "services.<service>.task_role_policy_arns": lambda s: s.service(SERVICE).task_role_policy_arns,
}


def has_value_default(setting: Setting) -> bool:
    # A section's default is its keys' defaults; those are checked key by key.
    return not isinstance(setting.default, (Marker, DerivedDefault)) and setting.kind is not Kind.SECTION


def without(path: str) -> dict[str, Any]:
    values = DEVELOPMENT.fresh()
    return remove(values, path) if has(values, path) else values


def test_every_declared_default_is_checked_against_the_loader():
    assert {s.key for s in hokusai_settings() if has_value_default(s)} == set(LOADED)


@pytest.mark.parametrize("key", sorted(LOADED))
def test_an_absent_key_loads_as_its_declared_default(key):
    setting = declared(key)
    loaded = DEVELOPMENT.load(without(example_path(setting)))
    assert LOADED[key](loaded) == setting.default


def test_an_absent_section_loads_as_its_keys_defaults_and_the_derived_ones():
    values = without("deploy_gate")
    remove(values, f"services.{SERVICE}.autoscaling")
    settings = DEVELOPMENT.load(values)
    assert settings.deploy_gate.enabled is declared("deploy_gate.enabled").default
    assert settings.deploy_gate.timeout_seconds == declared("deploy_gate.timeout_seconds").default
    # autoscaling's min and max are derived from desired_count, as declared
    api = settings.service(SERVICE)
    assert (api.autoscaling.min_count, api.autoscaling.max_count) == (api.desired_count, 2 * api.desired_count)
    assert api.autoscaling.cpu_target_percent == declared("services.<service>.autoscaling.cpu_target_percent").default


def redeclare(monkeypatch, key: str, **changes: Any) -> Setting:
    """Swap one declaration for a changed copy, for the loader and the docs alike."""
    config_key = f"{NAMESPACE}:{key}"
    changed = dataclasses.replace(declarations_module.DECLARED[config_key], **changes)
    monkeypatch.setattr(
        declarations_module, "DECLARED", MappingProxyType({**declarations_module.DECLARED, config_key: changed})
    )
    return changed


def test_a_default_changed_in_its_declaration_changes_the_loader_and_the_docs(monkeypatch):
    # GIVEN the deploy gate's timeout declared with another default
    redeclare(monkeypatch, "deploy_gate.timeout_seconds", default=1200)
    # WHEN a stack leaves it out THEN the loader gives the new default, and the docs say so
    assert DEVELOPMENT.load(without("deploy_gate.timeout_seconds")).deploy_gate.timeout_seconds == 1200
    assert "| `hokusai:deploy_gate.timeout_seconds` | whole number | `1200` | 60..3600 |" in render()


def test_a_range_changed_in_its_declaration_changes_the_loader_and_the_docs(monkeypatch):
    # GIVEN the deploy gate's timeout declared with a lower ceiling than the development stack's 900
    redeclare(monkeypatch, "deploy_gate.timeout_seconds", high=600)
    assert problems(DEVELOPMENT, DEVELOPMENT.fresh())[f"{NAMESPACE}:deploy_gate.timeout_seconds"] == [
        ("900 is out of range", "use a whole number from 60 to 600")
    ]
    assert "| `900` | 60..600 |" in render()


def test_the_model_defaults_are_the_declared_ones():
    from core.contract import DEFAULT_PORTS
    from core.settings import DeployGateSettings, LoadBalancerSettings

    assert LoadBalancerSettings().ssl_policy == declared("load_balancer.ssl_policy").default
    # A dependency's port is derived from the ports the contract knows: the docs name each of them.
    assert all(
        f"{name} {port}" in declared("dependencies.<dependency>.port").default.says
        for name, port in DEFAULT_PORTS.items()
    )
    assert DeployGateSettings() == DeployGateSettings(
        enabled=declared("deploy_gate.enabled").default,
        timeout_seconds=declared("deploy_gate.timeout_seconds").default,
    )
    assert Settings.__dataclass_fields__["log_retention_days"].default == declared("log_retention_days").default


# --------------------------------------------------------------------------- #
# Guards: each refuses a bad value with a clear error ...
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class Guard:
    """A declared guard, a value it must refuse, where, and the error it gives."""

    setting: Setting
    name: str
    value: Any
    what: str  # the start of the expected "what is wrong"
    at: str = ""  # below the setting's own key: "[0]" for a list item, ".name" for an entry
    # The declaration without this guard, or None when the guard is its kind.
    weakened: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return example_path(self.setting) + self.at

    def __str__(self) -> str:
        return f"{self.setting.key}:{self.name}"


_NOT_A_NAME = "aws:Not A Name!"
# What each mapping says of an entry it cannot take by that name.
_NAME_REFUSALS = {
    "tags": "is not a tag key AWS accepts",
    "dependencies.<dependency>.extra_consumers": f"label {_NOT_A_NAME!r} cannot be used in a resource name",
    "services.<service>.environment": "is not a valid environment variable name",
    "services.<service>.secrets": "is not a valid environment variable name",
}


# A text each pattern must refuse ("not valid!" unless the key's values may hold it: a JSON key
# may have spaces and punctuation, but no ':', which separates it from the version in valueFrom).
_BAD_TEXT = {"services.<service>.secrets.<VAR>.json_key": "database:password"}


# Non-numeric text (and a fraction) where a whole number belongs: each must be refused, not
# truncated to the number it starts with.
NOT_WHOLE_NUMBERS = (
    ("digits then text", "12abc"),
    ("decimal text", "1.5"),
    ("exponent text", "1e3"),
    ("empty text", ""),
    ("hex text", "0x10"),
    ("fraction", 1.5),
)


def _kind(value: Any) -> str:
    return f"the text {value!r}" if isinstance(value, str) else f"the number {value!r}"


def _text_refusal(setting: Setting, value: object) -> str:
    return setting.refused.format(value=value) if setting.refused else f"{value!r} is not {setting.shape}"


def guards() -> Iterator[Guard]:
    for s in hokusai_settings():
        kind = s.kind
        if kind is Kind.WHOLE_NUMBER:
            low, high = s.number_range
            yield Guard(s, "text", "lots", "must be a whole number, got the text 'lots'")
            # Text that starts like a number, or is one that is not whole: a lax reader
            # (the first digits, int(float(...))) would take them (see NOT_WHOLE_NUMBERS).
            for name, value in NOT_WHOLE_NUMBERS:
                yield Guard(s, name, value, f"must be a whole number, got {_kind(value)}")
            # Without allowed values the range is the declared one, widened here.
            wider = {"allowed": (), "low": low, "high": high + 10}
            yield Guard(s, "above", high + 1, f"{high + 1} is out of range", weakened=wider)
            if s.allowed:
                between = next(n for n in range(low, high) if n not in s.allowed)
                yield Guard(
                    s,
                    "not allowed",
                    between,
                    _text_refusal(s, between),
                    weakened={"allowed": (), "low": low, "high": high},
                )
        elif kind is Kind.BOOLEAN:
            yield Guard(s, "text", "maybe", "must be true or false, got the text 'maybe'")
        elif kind is Kind.TEXT:
            yield Guard(s, "number", 5, "must be text, got the number 5")
            bad = _BAD_TEXT.get(s.key, "not valid!")
            yield Guard(s, "pattern", bad, _text_refusal(s, bad), weakened={"pattern": None})
        elif kind is Kind.ARN:
            yield Guard(
                s, "other ARN", "arn:aws:s3:::bucket", f"'arn:aws:s3:::bucket' is not the ARN of {s.arn_shape.what}"
            )
        elif kind in (Kind.TEXT_LIST, Kind.ARN_LIST, Kind.SECTION_LIST):
            yield Guard(s, "mapping", {"a": "b"}, "must be a list, got a mapping")
            if kind is Kind.TEXT_LIST:
                yield Guard(
                    s, "item", ["not valid!"], _text_refusal(s, "not valid!"), at="[0]", weakened={"pattern": None}
                )
            if kind is Kind.ARN_LIST:
                yield Guard(
                    s, "item", ["arn:aws:s3:::b"], f"'arn:aws:s3:::b' is not the ARN of {s.arn_shape.what}", at="[0]"
                )
        elif kind in (Kind.SECTION, Kind.TEXT_MAPPING, Kind.SECTION_MAPPING):
            yield Guard(s, "list", ["x"], "must be a mapping, got a list")
            if s.names is not None:
                yield Guard(
                    s,
                    "entry name",
                    {_NOT_A_NAME: "x"},
                    _NAME_REFUSALS[s.key],
                    at=f".{_NOT_A_NAME}",
                    weakened={"names": None},
                )


GUARDS = list(guards())


def refusal(guard: Guard) -> tuple[str, str] | None:
    """(what, fix) of the guard's error when the loader is given its value, or None."""
    sample = sample_with(guard.setting)
    found = problems(sample, put(sample.fresh(), example_path(guard.setting), guard.value))
    return next((p for p in found.get(f"{NAMESPACE}:{guard.path}", []) if p[0].startswith(guard.what)), None)


def test_every_setting_has_its_guards():
    assert {g.setting.key for g in GUARDS} == {s.key for s in hokusai_settings()}


@pytest.mark.parametrize("guard", GUARDS, ids=str)
def test_a_guard_refuses_a_bad_value_naming_the_key_what_is_wrong_and_the_fix(guard):
    found = refusal(guard)
    assert found is not None, f"{guard.path} took {guard.value!r} without the error {guard.what!r}"
    assert found[1].strip(), "no fix"


# --------------------------------------------------------------------------- #
# ... and is the declaration's: weakened there, the bad value gets through
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("guard", [g for g in GUARDS if g.weakened is not None], ids=str)
def test_a_guard_weakened_in_its_declaration_no_longer_refuses(monkeypatch, guard):
    # GIVEN the declaration without the guard (no pattern, no allowed set, a wider range)
    redeclare(monkeypatch, guard.setting.key, **guard.weakened)
    # THEN the error the guard gave is gone, so the test above would fail
    assert refusal(guard) is None


def lax_integer(original):
    """Reader.integer weakened the way readers often are: text becomes the number it starts with."""

    def integer(self, value, path, **kwargs):
        if isinstance(value, str) and (digits := re.match(r"\s*(-?\d+)", value)):
            value = int(digits.group(1))
        elif isinstance(value, float):
            value = int(value)
        return original(self, value, path, **kwargs)

    return integer


def test_a_lax_number_reader_lets_the_non_numbers_through_so_the_guards_above_would_fail(monkeypatch):
    # GIVEN the reader weakened to take the leading digits of text (and to truncate fractions)
    from core.settings.reader import Reader

    numeric = [g for g in GUARDS if g.setting.kind is Kind.WHOLE_NUMBER and g.name in dict(NOT_WHOLE_NUMBERS)]
    assert {g.setting.key for g in numeric} == {s.key for s in hokusai_settings() if s.kind is Kind.WHOLE_NUMBER}
    monkeypatch.setattr(Reader, "integer", lax_integer(Reader.integer))
    # THEN each number that starts with digits, for every numeric setting, is no longer refused
    slipped = {(g.setting.key, g.name) for g in numeric if refusal(g) is None}
    expected = {
        (g.setting.key, g.name)
        for g in numeric
        if g.name in ("digits then text", "decimal text", "exponent text", "hex text", "fraction")
    }
    assert slipped == expected


def test_every_fix_in_the_declarations_can_be_written_out():
    for setting in all_declared():
        setting.fix_at(example_path(setting))  # no unknown {placeholder}
        if setting.refused:
            setting.refused.format(value="x")


# --------------------------------------------------------------------------- #
# Required and optional
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("setting", [s for s in hokusai_settings() if s.required], ids=lambda s: s.key)
def test_a_required_setting_left_out_is_named(setting):
    sample = sample_with(setting)
    path = example_path(setting)
    found = problems(sample, remove(sample.fresh(), path))
    key = f"{NAMESPACE}:{path}"
    assert any(k == key or k.startswith((f"{key}.", f"{key}[")) for k in found), found


@pytest.mark.parametrize(
    "setting",
    [s for s in hokusai_settings() if not s.required and s.kind is not Kind.SECTION],
    ids=lambda s: s.key,
)
def test_an_optional_setting_left_out_is_never_called_required(setting):
    # Some are needed in context (public subnets for a created ALB; existing or
    # create for a secret): that is a check of its own, never "is required".
    sample = sample_with(setting)
    path = example_path(setting)
    found = problems(sample, remove(sample.fresh(), path)).get(f"{NAMESPACE}:{path}", [])
    assert not any(what.startswith("is required") for what, _ in found), found


# --------------------------------------------------------------------------- #
# Modes are enums whose values stay the words of the config
# --------------------------------------------------------------------------- #


def test_secret_modes_are_their_config_keys():
    assert [m.value for m in SecretMode] == ["existing", "create"]
    modes = {source.env_var: source.mode for source in EVERYTHING.load().secret_sources}
    assert modes[CREATED_SECRET] is SecretMode.CREATE and modes[ADOPTED_SECRET] is SecretMode.EXISTING
    assert {m.value for m in SecretMode} <= {
        s.name for s in hokusai_settings() if s.parent == "services.<service>.secrets.<VAR>"
    }


def test_derived_settings_name_their_source_as_an_enum():
    derived = [s.derived_from for c in CONTRACTS.values() for s in c.settings if s.derived_from]
    assert derived and all(isinstance(d, DerivedFrom) for d in derived)
    assert {d.value for d in DerivedFrom} == {
        "environment",
        "container_port",
        "discovery_ttl",
        "dependency_check_timeout",
    }
