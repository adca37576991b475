"""core/fargate.py's table of CPU/memory pairs, pinned to what AWS documents.

The expected pairs are derived here from the documentation's own table, written
as AWS words it, not from core.fargate: a table widened into a range (or a row
lost) there is a size the settings loader would accept and `pulumi up` would
fail on, half-way through a deploy.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
"""

from __future__ import annotations

import re

import pytest

from core import fargate
from core.settings import SettingsError
from tests.helpers import load

# "CPU value" -> "Memory value" for Linux tasks, as the page words them.
AWS_DOCUMENTED = {
    "256 (.25 vCPU)": "512 MiB, 1 GB, 2 GB",
    "512 (.5 vCPU)": "1 GB, 2 GB, 3 GB, 4 GB",
    "1024 (1 vCPU)": "2 GB, 3 GB, 4 GB, 5 GB, 6 GB, 7 GB, 8 GB",
    "2048 (2 vCPU)": "Between 4 GB and 16 GB in 1-GB increments",
    "4096 (4 vCPU)": "Between 8 GB and 30 GB in 1-GB increments",
    "8192 (8 vCPU)": "Between 16 GB and 60 GB in 4-GB increments",
    "16384 (16 vCPU)": "Between 32 GB and 120 GB in 8-GB increments",
}


def mib(amount: str, unit: str) -> int:
    return int(float(amount) * (1024 if unit == "GB" else 1))


def documented_memory(words: str) -> tuple[int, ...]:
    """MiB values from one row of the page: a list ("1 GB, 2 GB") or a range with its increment."""
    between = re.fullmatch(r"Between (\d+) GB and (\d+) GB in (\d+)-GB increments", words)
    if between:
        low, high, step = (int(g) * 1024 for g in between.groups())
        return tuple(range(low, high + 1, step))
    amounts = [re.fullmatch(r"([\d.]+) (MiB|GB)", item.strip()) for item in words.split(",")]
    assert all(amounts), f"cannot read {words!r}"
    return tuple(mib(*amount.groups()) for amount in amounts if amount)


def documented_pairs() -> set[tuple[int, int]]:
    return {
        (int(cpu.split()[0]), memory) for cpu, words in AWS_DOCUMENTED.items() for memory in documented_memory(words)
    }


def table_pairs(table=None) -> set[tuple[int, int]]:
    table = fargate.VALID_SIZES if table is None else table
    return {(cpu, memory) for cpu, allowed in table.items() for memory in allowed}


def differences(table=None) -> dict[str, list[tuple[int, int]]]:
    """Pairs the table accepts that AWS does not document, and documented pairs it lacks."""
    table, documented = table_pairs(table), documented_pairs()
    return {
        "accepted but not documented": sorted(table - documented)[:10],
        "documented but refused": sorted(documented - table)[:10],
    }


NONE: dict[str, list[tuple[int, int]]] = {"accepted but not documented": [], "documented but refused": []}


def test_the_parser_reads_the_documentations_words():
    assert documented_memory("512 MiB, 1 GB, 2 GB") == (512, 1024, 2048)
    assert documented_memory("Between 16 GB and 60 GB in 4-GB increments") == tuple(range(16384, 61441, 4096))
    assert len(documented_pairs()) == sum(len(documented_memory(w)) for w in AWS_DOCUMENTED.values())


def test_the_table_is_exactly_the_documented_pairs():
    assert differences() == NONE


def test_is_valid_size_answers_from_the_table():
    for cpu, memory in documented_pairs():
        assert fargate.is_valid_size(cpu, memory)
        assert not fargate.is_valid_size(cpu, memory + 1)
    assert not fargate.is_valid_size(300, 1024)


@pytest.mark.parametrize(
    "weaken,noticed",
    [
        # 512 CPU turned into a range: any memory from 1024 to 4096 MiB.
        (lambda t: t.update({512: tuple(range(1024, 4097))}), "accepted but not documented"),
        # 8192 CPU in 1-GB steps instead of 4-GB ones.
        (lambda t: t.update({8192: tuple(range(16384, 61441, 1024))}), "accepted but not documented"),
        # 256 CPU up to 4 GB.
        (lambda t: t.update({256: (*t[256], 3072, 4096)}), "accepted but not documented"),
        # A size removed: the loader would refuse what AWS runs.
        (lambda t: t.pop(16384), "documented but refused"),
        # The top of a range cut off.
        (lambda t: t.update({4096: t[4096][:-1]}), "documented but refused"),
    ],
    ids=["512-range", "8192-steps", "256-wider", "16384-gone", "4096-shorter"],
)
def test_a_weakened_table_is_noticed(monkeypatch, weaken, noticed):
    # GIVEN the table changed in core.fargate (where the loader reads it)
    table = dict(fargate.VALID_SIZES)
    weaken(table)
    monkeypatch.setattr(fargate, "VALID_SIZES", table)
    # THEN the comparison with the documentation names what changed, so the test above fails
    found = differences()
    assert found[noticed], found


def test_the_loader_follows_the_table_so_only_the_pin_catches_a_widened_one(monkeypatch, dev_values):
    service = next(iter(dev_values["hokusai:services"].values()))
    service["cpu"], service["memory"] = 512, 1025
    with pytest.raises(SettingsError, match="with cpu 512, memory must be 1024..4096 in steps of 1024"):
        load(dev_values)
    monkeypatch.setitem(fargate.VALID_SIZES, 512, tuple(range(1024, 4097)))
    assert load(dev_values).services[0].memory == 1025
    assert differences()["accepted but not documented"]
