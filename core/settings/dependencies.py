"""`dependencies`: what the services reach, each declared once, and the settings derived from it.

A dependency is declared under `dependencies.<name>`, or it is another service of the
same stack, which gives its Cloud Map name, container port and security group. Every
dependency a service's contract names must resolve, with every attribute the service
reads; those settings are derived here and cannot be set by hand, so the address a
service dials and the security-group rule that admits it come from one declaration.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core import naming
from core.contract import DEFAULT_PORTS, HTTPS_PORT, DependencyAttribute, ServiceContract, dependency_names
from core.settings.declarations import declared
from core.settings.fields import NAMESPACE
from core.settings.model import Dependency
from core.settings.reader import MISSING, Reader

_SCHEME_PORTS = {"http": 80, "https": HTTPS_PORT}
# What another service of the stack offers as a dependency: where Cloud Map finds it.
_SERVICE_ATTRIBUTES = (DependencyAttribute.HOST, DependencyAttribute.PORT, DependencyAttribute.URL)


@dataclass(frozen=True)
class DeclaredDependency:
    """`dependencies.<name>` as the stack writes it, checked."""

    name: str
    security_group_id: str | None
    # Declared, else the dependency's usual port, else the url's; None when nothing says.
    port: int | None
    attributes: tuple[tuple[str, str], ...]
    extra_consumers: tuple[tuple[str, str], ...]


def read_dependencies(reader: Reader, raw: Any) -> dict[str, DeclaredDependency | None] | None:
    """Every declared dependency by name; None for one that could not be read (its problems
    are recorded), so it is not reported again as missing."""
    values = reader.read(declared("dependencies"), raw, "dependencies")
    if values is None:
        return None
    known = dependency_names()
    found: dict[str, DeclaredDependency | None] = {}
    for name, body in values.items():
        path = f"dependencies.{name}"
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            reader.problem(
                path,
                "is not a dependency any service's contract names",
                (f"did you mean '{close[0]}'? " if close else "")
                + f"declare one of: {', '.join(known)}, or add it to a contract's dependencies in core/contract.py",
            )
            continue
        found[name] = _read_one(reader, name, body, path)
    return found


def _read_one(reader: Reader, name: str, raw: Any, path: str) -> DeclaredDependency | None:
    section = reader.section("dependencies.<dependency>", raw, path)
    if section is None:
        return None
    before = len(reader.problems)
    group = section.read("security_group_id")
    texts = {
        attribute: section.read(attribute.value)
        for attribute in (
            DependencyAttribute.HOST,
            DependencyAttribute.DATABASE,
            DependencyAttribute.USER,
            DependencyAttribute.URL,
        )
    }
    tls = section.read("tls")
    url = texts[DependencyAttribute.URL]
    url_port = _url_port(url) if url else None
    # Declared, else the usual one: the declaration's default is derived, so it is given here.
    # Any value the stack writes is read (and an empty text refused, as for every whole number);
    # only an absent key takes the usual port.
    port = (
        section.read("port", default=None)
        if section.raw("port") not in (MISSING, None)
        else DEFAULT_PORTS.get(name, url_port)
    )
    consumers = _extra_consumers(reader, section.raw("extra_consumers"), f"{path}.extra_consumers")
    if len(reader.problems) != before or consumers is None:
        return None

    if url_port is not None and port is not None and port != url_port:
        reader.problem(
            f"{path}.port",
            f"is {port}, but the url {url} is on port {url_port}",
            "make them agree: the rules open the port, the services dial the url",
        )
        return None
    if group is None and consumers:
        reader.problem(
            f"{path}.extra_consumers",
            "admits consumers into no security group: the dependency declares no security_group_id",
            f"set {NAMESPACE}:{path}.security_group_id, or remove extra_consumers",
        )
        return None
    if group is not None and port is None:
        reader.problem(
            f"{path}.port",
            "must be set with security_group_id: the rules open it",
            f"pulumi config set --path '{NAMESPACE}:{path}.port' <port the dependency listens on>",
        )
        return None
    if group is None and port is not None and port != HTTPS_PORT:
        # The services' egress opens HTTPS to anywhere and each dependency's port to its group
        # only: without a group, nothing would let the connection out.
        reader.problem(
            f"{path}.security_group_id",
            f"is not set, but {name} listens on {port}: without its security group the services reach "
            f"nothing but HTTPS ({HTTPS_PORT}), the one port their egress opens to any address",
            f"pulumi config set --path '{NAMESPACE}:{path}.security_group_id' <sg-... of {name}> "
            "(the program writes the rules on it), or reach it over https on 443",
        )
        return None
    attributes = {attribute.value: value for attribute, value in texts.items() if value is not None}
    attributes[DependencyAttribute.TLS.value] = "true" if tls else "false"
    effective_port = port if port is not None else HTTPS_PORT
    attributes[DependencyAttribute.PORT.value] = str(effective_port)
    return DeclaredDependency(
        name=name,
        security_group_id=group,
        port=effective_port,
        attributes=tuple(sorted(attributes.items())),
        extra_consumers=consumers,
    )


def _url_port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or _SCHEME_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range: the pattern lets five digits through
        return None


def _extra_consumers(reader: Reader, raw: Any, path: str) -> tuple[tuple[str, str], ...] | None:
    setting = declared("dependencies.<dependency>.extra_consumers")
    values = reader.read(setting, raw, path)
    if values is None:
        return None
    consumers: list[tuple[str, str]] = []
    for label, group in values.items():
        where = f"{path}.{label}"
        if not setting.accepts_name(label):
            reader.problem(where, f"label {label!r} cannot be used in a resource name", f"use {setting.names_shape}")
            continue
        group_id = reader.text(group, where, pattern=setting.pattern, shape=setting.shape)
        if group_id:
            consumers.append((label, group_id))
    return tuple(sorted(consumers))


# --------------------------------------------------------------------------- #
# Resolution: each dependency the stack's services name, and what each service reads of it
# --------------------------------------------------------------------------- #


def resolve_dependencies(
    reader: Reader,
    declared_dependencies: Mapping[str, DeclaredDependency | None],
    services: Mapping[str, ServiceContract],
    stack: str,
) -> dict[str, Dependency]:
    """Every dependency the stack's `services` (key -> contract) reach or the stack declares,
    by name; a problem for each one a service needs that the stack lacks, or lacks an attribute of."""
    needed = {name for contract in services.values() for name in contract.dependency_names}
    resolved: dict[str, Dependency] = {}
    for name in sorted(needed | set(declared_dependencies)):
        consumers = tuple(sorted(key for key, contract in services.items() if name in contract.dependency_names))
        dependency = _resolve_one(reader, name, declared_dependencies, services, consumers, stack)
        if dependency is not None and _offers_what_is_read(reader, dependency, services):
            resolved[name] = dependency
    return resolved


def _resolve_one(
    reader: Reader,
    name: str,
    declared_dependencies: Mapping[str, DeclaredDependency | None],
    services: Mapping[str, ServiceContract],
    consumers: tuple[str, ...],
    stack: str,
) -> Dependency | None:
    path = f"dependencies.{name}"
    if name in services:
        if name in declared_dependencies:
            reader.problem(
                path,
                f"is a service of this stack (services.{name}): its address, port and security group come from it",
                f"remove {NAMESPACE}:{path}",
            )
            return None
        host = naming.discovery_hostname(name, stack)
        port = services[name].container_port
        attributes = {
            DependencyAttribute.HOST.value: host,
            DependencyAttribute.PORT.value: str(port),
            DependencyAttribute.URL.value: f"http://{host}:{port}",
        }
        return Dependency(
            name=name,
            port=port,
            attributes=tuple(sorted(attributes.items())),
            service=name,
            consumers=tuple(c for c in consumers if c != name),
        )
    if name not in declared_dependencies:
        for consumer in consumers:
            requirement = next(d for d in services[consumer].dependencies if d.dependency == name)
            attribute_names = sorted({attribute.value for _, attribute in requirement.settings})
            reads = ", ".join(f"{env_var} ({attribute.value})" for env_var, attribute in requirement.settings)
            if attribute_names:
                first, *others = attribute_names
                what = f"; the {consumer} service reads {reads}"
                fix = (
                    f"declare it once under {NAMESPACE}:{path}: pulumi config set --path '{NAMESPACE}:{path}.{first}' "
                    f"<value>" + (f" (also: {', '.join(others)})" if others else "") + ", and its security_group_id "
                    "unless it is reached over HTTPS (443)"
                )
            else:
                # Nothing read (its address is inside a secret): the declaration gives the rule that admits it.
                what = f"; its security group must admit the {consumer} service"
                fix = (
                    f"declare it once under {NAMESPACE}:{path}: pulumi config set --path "
                    f"'{NAMESPACE}:{path}.security_group_id' <sg-...>, and its port"
                )
            reader.problem(
                path,
                f"the {consumer} service reaches {name} ({requirement.purpose}), but the stack does not declare "
                f"it and runs no service {name}{what}",
                fix,
            )
        return None
    found = declared_dependencies[name]
    if found is None:
        return None  # declared, but refused: its problems are recorded
    for label, _group in found.extra_consumers:
        if label in consumers:
            reader.problem(
                f"{path}.extra_consumers.{label}",
                f"is named like the service {label}, whose own rule it would replace",
                "give the extra consumer another label (the service's rule comes from its contract)",
            )
            return None
    return Dependency(
        name=name,
        port=found.port or HTTPS_PORT,
        attributes=found.attributes,
        security_group_id=found.security_group_id,
        consumers=consumers,
        extra_consumers=found.extra_consumers,
    )


def _offers_what_is_read(reader: Reader, dependency: Dependency, services: Mapping[str, ServiceContract]) -> bool:
    ok = True
    path = f"dependencies.{dependency.name}"
    for consumer in dependency.consumers:
        requirement = next(d for d in services[consumer].dependencies if d.dependency == dependency.name)
        for attribute in sorted({a for _, a in requirement.settings}):
            if dependency.attribute(attribute.value) is not None:
                continue
            readers = ", ".join(env for env, a in requirement.settings if a is attribute)
            ok = False
            if dependency.service is not None:
                reader.problem(
                    path,
                    f"is the service services.{dependency.service}, which offers "
                    f"{', '.join(a.value for a in _SERVICE_ATTRIBUTES)}; the {consumer} service reads its "
                    f"{attribute.value} as {readers}",
                    f"change the {consumer} contract in core/contract.py, or run {dependency.name} outside this "
                    f"stack and declare it under {NAMESPACE}:{path}",
                )
            else:
                reader.problem(
                    f"{path}.{attribute.value}",
                    f"is not set, but the {consumer} service reads it as {readers} ({requirement.purpose})",
                    f"pulumi config set --path '{NAMESPACE}:{path}.{attribute.value}' <value>",
                )
    return ok


def derived_settings(contract: ServiceContract, dependencies: Mapping[str, Dependency]) -> dict[str, str]:
    """The plain settings `contract`'s service gets from its dependencies (env var -> value);
    a dependency that did not resolve gives none (its problem is recorded)."""
    values: dict[str, str] = {}
    for requirement in contract.dependencies:
        dependency = dependencies.get(requirement.dependency)
        if dependency is None:
            continue
        for env_var, attribute in requirement.settings:
            value = dependency.attribute(attribute.value)
            if value is not None:
                values[env_var] = value
    return values
