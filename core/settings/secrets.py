"""`services.<service>.secrets`: where each container secret's value lives (existing or create)."""

from __future__ import annotations

from typing import Any

from core.contract import ServiceContract
from core.settings.declarations import declared
from core.settings.environment import valid_env_name
from core.settings.fields import NAMESPACE
from core.settings.model import SecretMode, SecretSource, ServiceSettings
from core.settings.reader import Reader, Section


def read_secrets(
    reader: Reader,
    contract: ServiceContract,
    raw: Any,
    path: str,
    stack: str,
    region: str | None,
    account: str | None,
    secret_config_keys: set[str],
) -> tuple[SecretSource, ...] | None:
    setting = declared("services.<service>.secrets")
    values = reader.read(setting, raw, path)
    if values is None:
        return None
    sources: list[SecretSource] = []
    ok = True
    for name, spec in values.items():
        where = f"{path}.{name}"
        if not valid_env_name(reader, setting, name, where):
            ok = False
            continue
        source = _secret_source(reader, name, spec, where, region, account, secret_config_keys)
        if source is None:
            ok = False
        else:
            sources.append(source)
    configured = {s.env_var for s in sources} | set(values)
    for requirement in contract.secrets:
        if requirement.env_var in configured:
            continue
        default = requirement.secret_name_for(stack)
        where = f"{NAMESPACE}:{path}.{requirement.env_var}"
        json_key = (
            f" && pulumi config set --path '{where}.json_key' {requirement.default_json_key}"
            if requirement.default_json_key
            else ""
        )
        reader.problem(
            f"{path}.{requirement.env_var}",
            f"the {contract.key} service requires the secret {requirement.env_var} but the stack does not "
            f"configure it; without it {requirement.breaks}",
            f"pulumi config set --path '{where}.existing' {default}{json_key}  "
            f"(or '.create' to have the program declare the secret)",
        )
        ok = False
    return tuple(sorted(sources, key=lambda s: s.env_var)) if ok else None


def _secret_source(
    reader: Reader,
    env_var: str,
    raw: Any,
    path: str,
    region: str | None,
    account: str | None,
    secret_config_keys: set[str],
) -> SecretSource | None:
    source = reader.section("services.<service>.secrets.<VAR>", raw, path)
    if source is None:
        return None
    # A SecretMode's value is its config key.
    modes = [m for m in SecretMode if source.given(m.value)]
    if len(modes) != 1:
        reader.problem(
            path,
            "must say where the secret lives with exactly one of 'existing' or 'create'",
            "use existing: <name or ARN of a secret that exists> or create: <name of a secret the program declares>",
        )
        return None
    mode = modes[0]
    target = source.raw(mode.value)
    if mode is SecretMode.CREATE and isinstance(target, str) and target.startswith("arn:"):
        reader.problem(
            f"{path}.create",
            "is an ARN; a secret the program creates is named, not ARN'd",
            "give the secret's name, e.g. hokusai/<stack>/service/thing",
        )
        return None
    # existing: a name, or an ARN checked against the stack's region and account.
    target = source.read(mode.value, region=region, account=account)
    value_from = None
    if source.given("value_from"):
        if mode is not SecretMode.CREATE:
            reader.problem(
                f"{path}.value_from",
                "only applies to a secret the program creates",
                "remove it: an existing secret keeps the value it has",
            )
            return None
        value_from = source.read("value_from")
        if value_from is None:
            return None
        if value_from not in secret_config_keys:
            reader.problem(
                f"{path}.value_from",
                f"names {NAMESPACE}:{value_from}, which is not an encrypted config value",
                f"pulumi config set --secret {value_from} <value>  (never store secrets in plain config)",
            )
            return None
    selection = _selection(reader, source, path, mode, value_from)
    if target is None or selection is None:
        return None
    return SecretSource(env_var=env_var, mode=mode, name_or_arn=target, value_from=value_from, **selection)


def _selection(
    reader: Reader, source: Section, path: str, mode: SecretMode, value_from: str | None
) -> dict[str, str | None] | None:
    """What ECS takes from the secret: json_key, and version_stage or version_id (not both)."""
    selection = {name: source.read(name) for name in _SELECTORS}
    if any(source.given(name) and value is None for name, value in selection.items()):
        return None  # refused by its pattern: the reader said why
    if selection["version_stage"] and selection["version_id"]:
        reader.problem(
            path,
            "names both version_stage and version_id; ECS reads a secret version by one or the other",
            "keep version_stage (e.g. AWSCURRENT) or version_id, not both",
        )
        return None
    if mode is SecretMode.CREATE and selection["version_id"]:
        reader.problem(
            f"{path}.version_id",
            "names a version of a secret the program declares, whose version ids do not exist before it does",
            "remove version_id (the task reads AWSCURRENT), or adopt the secret with existing: and name its version",
        )
        return None
    if value_from and selection["json_key"]:
        reader.problem(
            f"{path}.json_key",
            f"reads a key of a JSON value, but value_from puts the whole of {NAMESPACE}:{value_from} in the secret",
            "remove json_key, or put a JSON value out of band (aws secretsmanager put-secret-value) without value_from",
        )
        return None
    return selection


# The keys of `services.<service>.secrets.<VAR>` that say what ECS takes from the secret (SecretSource).
_SELECTORS = ("json_key", "version_stage", "version_id")


def check_secrets_across_services(reader: Reader, services: list[ServiceSettings]) -> None:
    seen: dict[str, tuple[str, SecretSource]] = {}
    for service in services:
        for source in service.secrets:
            previous = seen.get(source.identity)
            if previous and (previous[1].mode, previous[1].value_from) != (source.mode, source.value_from):
                reader.problem(
                    f"services.{service.key}.secrets.{source.env_var}",
                    f"uses {source.identity} differently from services.{previous[0]}",
                    "declare a shared secret the same way (existing or create, same value_from) in every service",
                )
            seen.setdefault(source.identity, (service.key, source))
