"""Reads the stack's configuration from Pulumi, once, and validates it.

This is the only module that touches `pulumi.Config`. The validation itself is
pure (core/settings/); this file only gathers the raw values and turns a
SettingsError into a `pulumi.RunError`, which the Pulumi CLI prints as a plain
message (no Python traceback) before any resource is registered.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from core import bounded_json
from core.aws_provider import AwsProvider, AwsProviderError, read_aws_provider
from core.settings import NAMESPACE, Problem, Settings, SettingsError, load_settings

# One config value, JSON-encoded: far above any real one (a whole stack file is 256 KiB at most).
CONFIG_VALUE_LIMIT = 256 * 1024


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
    """Structured config arrives JSON-encoded; plain values arrive as text.

    Decoded within bounds (core/bounded_json.py): a value nested absurdly deep or with a
    number of thousands of digits is refused (JsonRefused), not handed to the settings.
    Text that only looks like JSON stays text, for the settings to refuse by its key."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return bounded_json.parse(stripped, max_bytes=CONFIG_VALUE_LIMIT)
            except bounded_json.NotJson:
                return value
    return value


def raw_settings() -> tuple[dict[str, Any], Any, set[str]]:
    """The `hokusai:` values (namespace stripped), aws:region, and the secret keys.

    SettingsError if a structured value is out of bounds (every such key at once)."""
    prefix = f"{NAMESPACE}:"
    everything = _all_config()
    secret_keys = {k[len(prefix) :] for k in _secret_keys() if k.startswith(prefix)}
    raw: dict[str, Any] = {}
    problems = []
    for key, value in everything.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if name in secret_keys:
            raw[name] = None
            continue
        try:
            raw[name] = _decode(value)
        except bounded_json.JsonRefused as error:
            problems.append(
                Problem(
                    key,
                    f"{error} (the value as Pulumi passes it, JSON)",
                    f"correct it in Pulumi.{pulumi.get_stack()}.yaml: settings nest a few levels deep "
                    f"and their whole numbers have at most {bounded_json.MAX_INT_DIGITS} digits",
                )
            )
    if problems:
        raise SettingsError(pulumi.get_stack(), problems)
    return raw, everything.get("aws:region"), secret_keys


def read_settings() -> Settings:
    try:
        raw, region, secret_keys = raw_settings()
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
    config = {}
    for key, value in everything.items():
        if key.startswith("aws:"):
            try:
                config[key] = _decode(value)
            except bounded_json.JsonRefused as error:
                raise pulumi.RunError(f"{key}: {error} (the value as Pulumi passes it, JSON)") from None
    try:
        provider = read_aws_provider(config, _secret_keys())
    except AwsProviderError as error:
        raise pulumi.RunError(str(error)) from None
    refusal = provider.refusal()
    if settings.deploy_gate.enabled and refusal:
        raise pulumi.RunError(refusal)
    return provider
