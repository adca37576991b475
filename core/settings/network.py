"""`network`: the existing VPC and the subnets the tasks (and a created ALB) run in."""

from __future__ import annotations

from typing import Any

from core.settings.model import Network
from core.settings.reader import Reader


def read_network(reader: Reader, raw: Any) -> Network | None:
    network = reader.section("network", raw, "network")
    if network is None:
        return None
    vpc = network.read("vpc_id")
    private = network.read("private_subnet_ids")
    public = network.read("public_subnet_ids")
    if private is not None and len(private) == 0:
        reader.problem("network.private_subnet_ids", "is empty", "list at least one private subnet (subnet-...)")
    for path, ids in (("network.private_subnet_ids", private), ("network.public_subnet_ids", public)):
        if ids and len(set(ids)) != len(ids):
            reader.problem(path, "lists a subnet twice", "list each subnet once")
    if vpc is None or private is None or public is None:
        return None
    return Network(vpc_id=vpc, private_subnet_ids=private, public_subnet_ids=public)
