"""N copies of the API service, for the benchmarks' "how does it grow per service".

The contract knows `api` and `mlflow` only. The benchmarks register api1..apiN,
the API's contract under other keys, by mutating core.contract.CONTRACTS in
place, in the benchmark's own process only. Each copy gets its own metric
namespace: the render's checks (rightly) refuse two services whose error
metrics, and so alarms, are one and the same.

Imports of the project happen inside the functions: bench/synth.py times its
imports and must control when they happen.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
from collections.abc import Iterable
from typing import Any


def register_aliases(count: int, holders: Iterable[str]) -> None:
    """Register api1..api<count>. `holders`: modules that import CONTRACTS by name,
    which must hold the very same dict or they would not see the aliases."""
    import core.contract

    contracts = core.contract.CONTRACTS
    assert isinstance(contracts, dict), "CONTRACTS is no longer a dict: the aliases cannot be added"
    for name in holders:
        module = importlib.import_module(name)
        assert module.CONTRACTS is contracts, f"{name} holds another CONTRACTS: it would miss the aliases"
    for i in range(1, count + 1):
        contracts[f"api{i}"] = dataclasses.replace(core.contract.API, key=f"api{i}", metric_namespace=f"Hokusai/API{i}")


def stack_config(base: dict[str, Any], count: int) -> dict[str, Any]:
    """The stack file's config with its `api` service copied to api1..apiN, each with its own
    listener-rule priority (they must be unique) and host."""
    values = copy.deepcopy(base)
    api = values["hokusai:services"]["api"]
    values["hokusai:services"] = {
        f"api{i}": {**copy.deepcopy(api), "routes": [{"priority": 1000 + i, "hosts": [f"api{i}.hokus.ai"]}]}
        for i in range(1, count + 1)
    }
    return values
