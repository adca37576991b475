"""Stack settings: typed, frozen, validated, with every problem reported at once.

`load_settings` turns the raw stack configuration (the `hokusai:` keys of
`Pulumi.<stack>.yaml`, already parsed into Python values) into `Settings`.
It never raises anything but `SettingsError`, whatever it is given, and that
error lists every problem with the config key, what is wrong and how to fix it,
so a bad stack stops at `pulumi preview` before a single resource is created.

One concern per module: model.py (the dataclasses), problems.py (the errors),
fields.py (what a declared setting is), declarations.py (every setting, once:
key, kind, default, bounds, description), reader.py (bounded, type-checked
readers, driven by the declarations), one module per section of the config,
loader.py composing them, and docs.py (docs/SETTINGS.md, generated from the
declarations). This package re-exports the public names, so
`from core.settings import X` is all a consumer needs.

Pure: no Pulumi, no boto3 (infra/stack_config.py reads the values from Pulumi).
"""

from core.settings.declarations import LOG_RETENTION_DAYS, SERVICE_KEYS, TOP_LEVEL_KEYS
from core.settings.fields import NAMESPACE
from core.settings.loader import load_settings
from core.settings.model import (
    Autoscaling,
    Dependency,
    DeployGateSettings,
    LoadBalancerSettings,
    Network,
    Route,
    SecretMode,
    SecretSource,
    ServiceSettings,
    Settings,
)
from core.settings.problems import Problem, SettingsError

__all__ = [
    "LOG_RETENTION_DAYS",
    "NAMESPACE",
    "SERVICE_KEYS",
    "TOP_LEVEL_KEYS",
    "Autoscaling",
    "Dependency",
    "DeployGateSettings",
    "LoadBalancerSettings",
    "Network",
    "Problem",
    "Route",
    "SecretMode",
    "SecretSource",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "load_settings",
]
