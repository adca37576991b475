"""Stack configs that between them set every declared setting, and where each one sits.

For the tests that hold the declarations (core/settings/declarations.py) to
what the loader does and what docs/SETTINGS.md says: a declared key is found
in a sample by `example_path`, which picks the stack's names for its
placeholders (`services.<service>.cpu` -> `services.<the development stack's first service>.cpu`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from core.contract import CONTRACTS, DEFAULT_PORTS
from core.settings import Settings, SettingsError
from core.settings.declarations import all_declared
from core.settings.fields import NAMESPACE, Kind, Setting
from tests.helpers import DEV_VALUES, load, with_mlflow, with_new_load_balancer


@dataclass(frozen=True)
class Sample:
    name: str
    values: dict[str, Any]  # `hokusai:...` keys, as in Pulumi.<stack>.yaml
    secret_keys: tuple[str, ...] = ()

    def fresh(self) -> dict[str, Any]:
        return copy.deepcopy(self.values)

    def load(self, values: dict[str, Any] | None = None) -> Settings:
        return load(self.values if values is None else values, secret_keys=self.secret_keys)


# The names the samples give each placeholder: the development stack's first service,
# one of its secrets it adopts (<VAR>), and one the EVERYTHING sample has the program
# create instead, for the keys that only apply to those (.create, .value_from).
SERVICE = next(iter(DEV_VALUES["hokusai:services"]))
_SECRETS = list(DEV_VALUES["hokusai:services"][SERVICE]["secrets"])
_OTHER_SERVICES = [s for key, s in DEV_VALUES["hokusai:services"].items() if key != SERVICE]
# Created: preferably one no other service shares, so no other service has to declare it the same way.
CREATED_SECRET = next(
    (v for v in reversed(_SECRETS) if not any(v in s["secrets"] for s in _OTHER_SERVICES)), _SECRETS[-1]
)
ADOPTED_SECRET = next(v for v in _SECRETS if v != CREATED_SECRET)
# Read by version id, which excludes version_stage (set on ADOPTED_SECRET): a third secret.
_OTHER_SECRETS = [v for v in _SECRETS if v not in (CREATED_SECRET, ADOPTED_SECRET)]
assert _OTHER_SECRETS, f"the samples need a third secret of the {SERVICE} service, to read one by version id"
VERSIONED_SECRET = _OTHER_SECRETS[0]
# The dependency the samples give a new port and extra consumers: one with a security group
# (extra consumers are admitted into it) and no url (whose port the declared one must match),
# that no service of the samples replaces (with_mlflow runs the mlflow dependency as a service).
DEPENDENCY = next(
    name
    for name, body in DEV_VALUES["hokusai:dependencies"].items()
    if "security_group_id" in body and "url" not in body and name not in CONTRACTS
)


def _everything() -> Sample:
    """The development stack creating its ALB, with every optional setting set."""
    values = with_new_load_balancer(with_mlflow(copy.deepcopy(DEV_VALUES)))
    account = values["hokusai:account_id"]
    values["hokusai:load_balancer"]["ssl_policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    values["hokusai:load_balancer"]["exceptions"] = {"tls_policy_not_allowed": "a sample reason"}
    dependency = values["hokusai:dependencies"][DEPENDENCY]
    dependency["port"] = int(dependency.get("port") or DEFAULT_PORTS[DEPENDENCY]) + 1
    dependency["extra_consumers"] = {"data-pipeline-ecs": "sg-0a1b2c3d4e5f60799"}
    values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    values["hokusai:secrets_kms_key_arn"] = f"arn:aws:kms:us-east-1:{account}:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    values["hokusai:observability_kms_key_arn"] = (
        f"arn:aws:kms:us-east-1:{account}:key/1b2c3d4e-5f60-4718-9293-a4b5c6d7e8f9"
    )
    service = values["hokusai:services"][SERVICE]
    service["user"] = "1001:1001"
    service["task_role_policy_arns"] = [f"arn:aws:iam::{account}:policy/hokusai-{SERVICE}-models-read"]
    name = CONTRACTS[SERVICE].secret(CREATED_SECRET).secret_name_for("development")
    for other in values["hokusai:services"].values():
        if CREATED_SECRET in other["secrets"]:
            other["secrets"][CREATED_SECRET] = {"create": name, "value_from": "createdSecret"}
    # What ECS takes from a secret: a JSON key and a version by stage, or a version by id.
    service["secrets"][ADOPTED_SECRET].update(json_key="sample_json_key", version_stage="AWSCURRENT")
    service["secrets"][VERSIONED_SECRET]["version_id"] = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"
    values["hokusai:createdSecret"] = "[secret]"
    return Sample("everything", values, secret_keys=("hokusai:createdSecret",))


def _development() -> Sample:
    """The development stack, its service's second route matching hosts and paths both, so it
    still matches something without either (the defaults of hosts and paths are checked on it)."""
    values = copy.deepcopy(DEV_VALUES)
    routes = values["hokusai:services"][SERVICE]["routes"]
    assert len(routes) > 1, f"the samples need a second route of the {SERVICE} service"
    routes[1].setdefault("hosts", [f"{SERVICE}.hokus.ai"])
    routes[1].setdefault("paths", [f"/{SERVICE}/*"])
    return Sample("development", values)


DEVELOPMENT = _development()
EVERYTHING = _everything()
# The development stack adopts its listener; EVERYTHING creates the ALB. Between them, every key.
SAMPLES = (DEVELOPMENT, EVERYTHING)

# The names a sample gives each placeholder: the service and secrets chosen above (CREATED_SECRET
# for the keys only a created secret has, VERSIONED_SECRET for version_id), and a dependency
# (DEPENDENCY, else the first that declares the key in the samples: example_dependency).
_CHOSEN = {"<service>": SERVICE, "<VAR>": ADOPTED_SECRET}
_CREATED_SECRET_KEYS = (".create", ".value_from")
_VERSIONED_SECRET_KEYS = (".version_id",)
_DEPENDENCY_KEY = "dependencies.<dependency>"


def example_dependency(key: str) -> str:
    """The dependency the samples set `dependencies.<dependency>[.<attribute>]` on: DEPENDENCY when
    it declares that attribute in a sample (or for the section itself), else the first that does."""
    attribute = key.removeprefix(_DEPENDENCY_KEY).removeprefix(".").split(".")[0]
    if not attribute:
        return DEPENDENCY
    for sample in SAMPLES:
        declared = sample.values.get(f"{NAMESPACE}:dependencies") or {}
        if attribute in (declared.get(DEPENDENCY) or {}):
            return DEPENDENCY
    for sample in SAMPLES:
        for name, body in (sample.values.get(f"{NAMESPACE}:dependencies") or {}).items():
            if attribute in (body or {}):
                return name
    return DEPENDENCY


def hokusai_settings() -> tuple[Setting, ...]:
    return tuple(s for s in all_declared() if s.namespace == NAMESPACE)


def example_path(setting: Setting, route: int = 1) -> str:
    """Where the samples set `setting`: its key with the samples' names chosen."""
    chosen = dict(_CHOSEN)
    if setting.key.endswith(_CREATED_SECRET_KEYS):
        chosen["<VAR>"] = CREATED_SECRET
    if setting.key.endswith(_VERSIONED_SECRET_KEYS):
        chosen["<VAR>"] = VERSIONED_SECRET
    if setting.key.startswith(_DEPENDENCY_KEY):
        chosen["<dependency>"] = example_dependency(setting.key)
    segments = [chosen.get(segment, segment) for segment in setting.key.split(".")]
    return ".".join(segments).replace("[]", f"[{route}]")


def steps(path: str) -> list[str | int]:
    """`services.api.routes[1].hosts` -> ["services", "api", "routes", 1, "hosts"]."""
    found: list[str | int] = []
    for segment in path.split("."):
        name, *indexes = re.split(r"\[(\d+)\]", segment)
        found.append(name)
        found += [int(i) for i in indexes if i != ""]
    return found


def _parent_and_last(values: dict[str, Any], path: str) -> tuple[Any, str | int]:
    first, *rest = steps(path)
    node: Any = values
    key: str | int = f"{NAMESPACE}:{first}"
    for step in rest:
        node = node[key]
        key = step
    return node, key


def has(values: dict[str, Any], path: str) -> bool:
    try:
        parent, last = _parent_and_last(values, path)
        parent[last]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def put(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    parent, last = _parent_and_last(values, path)
    parent[last] = value
    return values


def remove(values: dict[str, Any], path: str) -> dict[str, Any]:
    parent, last = _parent_and_last(values, path)
    del parent[last]
    return values


def sample_with(setting: Setting) -> Sample:
    """The first sample that sets `setting`."""
    path = example_path(setting)
    return next(s for s in SAMPLES if has(s.values, path))


def problems(sample: Sample, values: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """config key -> [(what, fix), ...] of every problem the loader reports; {} when the stack loads."""
    found: dict[str, list[tuple[str, str]]] = {}
    try:
        sample.load(values)
    except SettingsError as error:
        for problem in error.problems:
            found.setdefault(problem.key, []).append((problem.what, problem.fix))
    return found


def declared_key_of(path: str) -> Setting | None:
    """The declaration a concrete key (`services.api.routes[0].hosts`) is an instance of."""
    for setting in hokusai_settings():
        pattern = re.escape(setting.key).replace(re.escape("[]"), r"\[\d+\]")
        pattern = re.sub(r"<[^.>]+>", r"[^.]+", pattern.replace("\\<", "<").replace("\\>", ">"))
        if re.fullmatch(pattern, path):
            return setting
    return None


SECTIONS = frozenset({Kind.SECTION, Kind.SECTION_MAPPING, Kind.SECTION_LIST})
