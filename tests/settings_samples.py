"""Stack configs that between them set every declared setting, and where each one sits.

For the tests that hold the declarations (core/settings/declarations.py) to
what the loader does and what docs/SETTINGS.md says: a declared key is found
in a sample by `example_path`, which picks the stack's names for its
placeholders (`services.<service>.cpu` -> `services.api.cpu`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

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


def _everything() -> Sample:
    """The development stack creating its ALB, with every optional setting set."""
    values = with_new_load_balancer(with_mlflow(copy.deepcopy(DEV_VALUES)))
    values["hokusai:load_balancer"]["ssl_policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    values["hokusai:dependencies"]["redis"]["port"] = 6380
    values["hokusai:dependencies"]["redis"]["extra_consumers"] = {"data-pipeline-ecs": "sg-0a1b2c3d4e5f60799"}
    values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    values["hokusai:secrets_kms_key_arn"] = (
        "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    )
    api = values["hokusai:services"]["api"]
    api["task_role_policy_arns"] = ["arn:aws:iam::123456789012:policy/hokusai-api-models-read"]
    api["secrets"]["API_SECRET_KEY"] = {"create": "hokusai/development/api/secret-key", "value_from": "apiSecretKey"}
    # What ECS takes from a secret: a JSON key and a version by stage, or a version by id.
    api["secrets"]["DB_PASSWORD"].update(json_key="database_password", version_stage="AWSCURRENT")
    api["secrets"]["REDIS_AUTH_TOKEN"]["version_id"] = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"
    values["hokusai:apiSecretKey"] = "[secret]"
    return Sample("everything", values, secret_keys=("hokusai:apiSecretKey",))


DEVELOPMENT = Sample("development", copy.deepcopy(DEV_VALUES))
EVERYTHING = _everything()
# The development stack adopts its listener; EVERYTHING creates the ALB. Between them, every key.
SAMPLES = (DEVELOPMENT, EVERYTHING)

# The names a sample gives each placeholder: the api service, a secret (API_SECRET_KEY, which
# EVERYTHING creates, for the keys only a created secret has; REDIS_AUTH_TOKEN, read by version
# id, for that key), and a dependency (the one that declares the key in the samples).
_CHOSEN = {"<service>": "api", "<VAR>": "DB_PASSWORD", "<dependency>": "redis"}
_CREATED_SECRET_KEYS = (".create", ".value_from")
_CHOSEN_FOR_KEY = {
    "services.<service>.secrets.<VAR>.version_id": {"<VAR>": "REDIS_AUTH_TOKEN"},
    "dependencies.<dependency>.database": {"<dependency>": "postgres"},
    "dependencies.<dependency>.user": {"<dependency>": "postgres"},
    "dependencies.<dependency>.url": {"<dependency>": "auth"},
}


def hokusai_settings() -> tuple[Setting, ...]:
    return tuple(s for s in all_declared() if s.namespace == NAMESPACE)


def example_path(setting: Setting, route: int = 1) -> str:
    """Where the samples set `setting`: its key with the samples' names chosen."""
    chosen = dict(_CHOSEN)
    if setting.key.endswith(_CREATED_SECRET_KEYS):
        chosen["<VAR>"] = "API_SECRET_KEY"
    chosen.update(_CHOSEN_FOR_KEY.get(setting.key, {}))
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
