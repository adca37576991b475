"""Stack settings: typed, frozen, validated, with every problem reported at once.

`load_settings` turns the raw stack configuration (the `hokusai:` keys of
`Pulumi.<stack>.yaml`, already parsed into Python values) into `Settings`.
It never raises anything but `SettingsError`, whatever it is given, and that
error lists every problem with the config key, what is wrong and how to fix it,
so a bad stack stops at `pulumi preview` before a single resource is created.

One concern per module: model.py (the dataclasses), problems.py (the errors),
reader.py (bounded, type-checked readers), one module per section of the
config, and loader.py composing them. This package re-exports the public names,
so `from core.settings import X` is all a consumer needs.

Pure: no Pulumi, no boto3 (infra/stack_config.py reads the values from Pulumi).
"""

from core.settings.loader import LOG_RETENTION_DAYS, TOP_LEVEL_KEYS, load_settings
from core.settings.model import (
    Autoscaling,
    DeployGateSettings,
    LoadBalancerSettings,
    Network,
    RedisSettings,
    Route,
    SecretMode,
    SecretSource,
    ServiceSettings,
    Settings,
)
from core.settings.problems import Problem, SettingsError
from core.settings.reader import NAMESPACE
from core.settings.services import SERVICE_KEYS

__all__ = [
    "LOG_RETENTION_DAYS",
    "NAMESPACE",
    "SERVICE_KEYS",
    "TOP_LEVEL_KEYS",
    "Autoscaling",
    "DeployGateSettings",
    "LoadBalancerSettings",
    "Network",
    "Problem",
    "RedisSettings",
    "Route",
    "SecretMode",
    "SecretSource",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "load_settings",
]
