"""`network`: the existing VPC and the subnets the tasks (and a created ALB) run in."""

from __future__ import annotations

import re
from typing import Any

from core.settings.model import Network
from core.settings.reader import MISSING, Reader

_VPC = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")


def read_network(reader: Reader, raw: Any) -> Network | None:
    values = reader.mapping(raw, "network", allowed=("vpc_id", "private_subnet_ids", "public_subnet_ids"))
    if values is None:
        return None
    vpc = reader.text(
        values.get("vpc_id", MISSING),
        "network.vpc_id",
        pattern=_VPC,
        shape="a VPC id (vpc-...)",
        fix="set network.vpc_id to the id of the estate's VPC (vpc-...)",
    )

    def subnet(v: Any, p: str) -> str | None:
        return reader.text(v, p, pattern=_SUBNET, shape="a subnet id (subnet-...)")

    private = reader.list_of(
        values.get("private_subnet_ids", MISSING),
        "network.private_subnet_ids",
        subnet,
        required=True,
        fix="list the private subnets the tasks run in (subnet-...)",
    )
    public = reader.list_of(values.get("public_subnet_ids", MISSING), "network.public_subnet_ids", subnet)
    if private is not None and len(private) == 0:
        reader.problem("network.private_subnet_ids", "is empty", "list at least one private subnet (subnet-...)")
    for path, ids in (("network.private_subnet_ids", private), ("network.public_subnet_ids", public)):
        if ids and len(set(ids)) != len(ids):
            reader.problem(path, "lists a subnet twice", "list each subnet once")
    if vpc is None or private is None or public is None:
        return None
    return Network(vpc_id=vpc, private_subnet_ids=private, public_subnet_ids=public)
