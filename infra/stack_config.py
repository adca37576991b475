"""Reads the stack's configuration from Pulumi, once, and validates it.

This is the only module that touches `pulumi.Config`. The validation itself is
pure (core/settings/); this file only gathers the raw values and turns a
SettingsError into a `pulumi.RunError`, which the Pulumi CLI prints as a plain
message (no Python traceback) before any resource is registered.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from core.aws_provider import AwsProvider, AwsProviderError, read_aws_provider
from core.settings import NAMESPACE, Settings, SettingsError, load_settings


def _all_config() -> dict[str, Any]:
    """Every `project:key` config value of the stack.

    `pulumi.Config` can only fetch keys it is asked for, but rejecting unknown
    (misspelt) keys needs the whole set. The language host passes it as the
    PULUMI_CONFIG environment variable; tests and the offline render set it
    with `pulumi.runtime.set_all_config`. Both are read here.
    """
    merged = dict(runtime_config.get_config_env() or {})
    merged.update(runtime_config.CONFIG.get())
    return merged


def _secret_keys() -> set[str]:
    keys = set(runtime_config.get_config_secret_keys_env())
    keys.update(k for k in _all_config() if pulumi.runtime.is_config_secret(k))
    return keys


def _decode(value: Any) -> Any:
    """Structured config arrives JSON-encoded; plain values arrive as text."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
    return value


def raw_settings() -> tuple[dict[str, Any], Any, set[str]]:
    """The `hokusai:` values (namespace stripped), aws:region, and the secret keys."""
    prefix = f"{NAMESPACE}:"
    everything = _all_config()
    secret_keys = {k[len(prefix) :] for k in _secret_keys() if k.startswith(prefix)}
    raw = {
        key[len(prefix) :]: (None if key[len(prefix) :] in secret_keys else _decode(value))
        for key, value in everything.items()
        if key.startswith(prefix)
    }
    return raw, everything.get("aws:region"), secret_keys


def read_settings() -> Settings:
    raw, region, secret_keys = raw_settings()
    try:
        return load_settings(raw, stack=pulumi.get_stack(), region=region, secret_config_keys=secret_keys)
    except SettingsError as error:
        raise pulumi.RunError(str(error)) from None


def secret_values(settings: Settings) -> dict[str, pulumi.Output[str]]:
    """The encrypted config values that declared secrets take their value from,
    as secret Outputs (Pulumi keeps them encrypted in state and masks them in diffs)."""
    config = pulumi.Config(NAMESPACE)
    keys = sorted({s.value_from for s in settings.secret_sources if s.value_from})
    return {key: config.require_secret(key) for key in keys}


def aws_provider(settings: Settings) -> AwsProvider:
    """How the stack's AWS provider authenticates (its `aws:` config), for the deploy gate.

    Stops the program with a plain message when that config is malformed, or names
    a credential source the gate cannot copy while the gate is on.
    """
    everything = _all_config()
    config = {key: _decode(value) for key, value in everything.items() if key.startswith("aws:")}
    try:
        provider = read_aws_provider(config, _secret_keys())
    except AwsProviderError as error:
        raise pulumi.RunError(str(error)) from None
    refusal = provider.refusal()
    if settings.deploy_gate.enabled and refusal:
        raise pulumi.RunError(refusal)
    return provider
