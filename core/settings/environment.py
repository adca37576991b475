"""`services.<service>.environment`: plain settings, never credentials; the derived ones set by the program."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import service_discovery, target_group
from core.contract import DerivedFrom, ServiceContract
from core.s3_uri import SHAPE as S3_URI_SHAPE
from core.s3_uri import S3Location, parse_s3_uri
from core.secret_values import credential_in
from core.settings.declarations import declared
from core.settings.fields import NAMESPACE, Setting
from core.settings.reader import Reader, kind_of


def read_environment(
    reader: Reader,
    contract: ServiceContract,
    raw: Any,
    path: str,
    stack: str,
    from_dependencies: Mapping[str, str],
) -> tuple[tuple[str, str], ...] | None:
    """The service's plain settings: the stack's, the ones the program derives from the stack,
    and `from_dependencies` (env var -> value, core/settings/dependencies.py)."""
    setting = declared("services.<service>.environment")
    values = reader.read(setting, raw, path)
    if values is None:
        return None
    derived = derived_values(contract, stack)
    result: dict[str, str] = {}
    ok = True
    for name, value in values.items():
        where = f"{path}.{name}"
        if not valid_env_name(reader, setting, name, where):
            ok = False
            continue
        not_provided = next((entry for entry in contract.not_provided if entry.env_var == name), None)
        if not_provided is not None:
            # A reviewed decision (core/contract.py), e.g. REDIS_URL: taken as given, it would turn
            # Redis authentication off. A stack cannot quietly undo it.
            reader.problem(
                where,
                f"is deliberately not provided to the {contract.key} service: {not_provided.reason}",
                "remove it (its not_provided entry in core/contract.py says why)",
            )
            ok = False
            continue
        if contract.must_be_secret(name):
            # A contract secret may not look like one (MLflow's BACKEND_STORE_URI holds a password).
            what = (
                f"is a secret of the {contract.key} service"
                if name in contract.secret_names
                else "looks like a credential"
            )
            reader.problem(
                where,
                f"{what} but is configured as a plain setting, which anyone "
                "who can describe the task definition can read",
                f"move it to {NAMESPACE}:{path.rsplit('.', 1)[0]}.secrets.{name} (a Secrets Manager secret)",
            )
            ok = False
            continue
        from_dependency = contract.dependency_setting(name)
        if from_dependency is not None:
            dependency, attribute = from_dependency
            reader.problem(
                where,
                f"is derived from dependency {dependency.dependency}: {attribute.value}, so it cannot be set by hand",
                f"remove it; declare {NAMESPACE}:dependencies.{dependency.dependency}.{attribute.value} instead "
                f"(or run {dependency.dependency} as a service of this stack)",
            )
            ok = False
            continue
        requirement = next((s for s in contract.settings if s.env_var == name), None)
        if requirement is not None and requirement.derived_from:
            reader.problem(
                where, f"is set by the program from the stack's {requirement.derived_from}", "remove it from the config"
            )
            ok = False
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            reader.problem(where, f"must be text, got {kind_of(value)}", "quote the value")
            ok = False
            continue
        credential = credential_in(value)
        if credential is not None:
            reader.problem(
                where,
                f"looks like {credential}, in plain text: anyone who may describe the task definition reads it",
                f"remove it here and supply it as a secret ({NAMESPACE}:{path.rsplit('.', 1)[0]}.secrets.{name}); "
                "if it is no credential, change how it is written",
            )
            ok = False
            continue
        result[name] = value
    result.update(from_dependencies)
    for requirement in contract.settings:
        if requirement.derived_from:
            result[requirement.env_var] = derived[requirement.derived_from]
        elif requirement.env_var not in values:
            reader.problem(
                f"{path}.{requirement.env_var}",
                f"is required by the {contract.key} service ({requirement.purpose}) but not set",
                f"pulumi config set --path '{NAMESPACE}:{path}.{requirement.env_var}' <value>",
            )
            ok = False
    return tuple(sorted(result.items())) if ok else None


def derived_values(contract: ServiceContract, stack: str) -> dict[DerivedFrom, str]:
    """What each derived setting is (core/contract.py: DerivedFrom), as the container gets it."""
    return {
        DerivedFrom.ENVIRONMENT: stack,
        DerivedFrom.CONTAINER_PORT: str(contract.container_port),
        DerivedFrom.DISCOVERY_TTL: str(service_discovery.RECORD_TTL_SECONDS),
        DerivedFrom.DEPENDENCY_CHECK_TIMEOUT: str(target_group.DEPENDENCY_CHECK_TIMEOUT_SECONDS),
    }


def read_s3_locations(
    reader: Reader, contract: ServiceContract, environment: tuple[tuple[str, str], ...], path: str
) -> tuple[S3Location, ...] | None:
    """The S3 locations the contract lets the task role reach, from the settings that name them."""
    values = dict(environment)
    locations: list[S3Location] = []
    for access in contract.s3_access:
        value = values.get(access.env_var)
        if value is None:
            continue  # a required setting that is missing: read_environment said so
        location = parse_s3_uri(value)
        if location is None:
            reader.problem(
                f"{path}.{access.env_var}",
                f"{value!r} is not {S3_URI_SHAPE}; the task role's S3 access ({access.purpose}) is built from it",
                f"set it to the location, e.g. s3://<bucket>/{contract.key}",
            )
            return None
        locations.append(location)
    return tuple(locations)


def valid_env_name(reader: Reader, mapping: Setting, name: str, where: str) -> bool:
    """Whether `name`, an entry of `mapping` (environment or secrets), can name a variable."""
    if mapping.accepts_name(name):
        return True
    reader.problem(where, "is not a valid environment variable name", f"use {mapping.names_shape}")
    return False
