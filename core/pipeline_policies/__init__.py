"""The pipeline's IAM policies for one stack, generated from its settings. Pure.

- `deployer`: what the deploy role (`AWS_DEPLOY_ROLE_ARN`) may do: `pulumi preview`,
  `up` and `refresh` of the stack, the deploy gate, `make verify` (deployer.py);
- `readonly`: what the read-only role (`AWS_READONLY_ROLE_ARN`) may read for
  `pulumi preview` and the drift checks (readonly.py); verify's own reads stay in
  docs/verify-policy.json;
- `task-role-boundary`: the permissions boundary of every role the stack creates,
  the most its tasks may ever do (boundary.py).

Each is a list of customer-managed policies named `hokusai-<stack>-<role>[-<n>]`,
each within IAM's size limit (packing.py). They depend on the stack (account, region,
names, secrets, listener, dependency groups: scope.py), so they are generated per
stack into docs/policies/ (files.py: `python -m core.pipeline_policies`), and a test
fails when a committed file no longer matches its stack file.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.pipeline_policies.boundary import boundary_statements
from core.pipeline_policies.deployer import deployer_statements
from core.pipeline_policies.packing import pack
from core.pipeline_policies.readonly import readonly_statements
from core.pipeline_policies.scope import StackScope, StateBackend
from core.pipeline_policies.statements import Document, document
from core.settings import Settings

__all__ = ["ROLES", "ManagedPolicy", "StackScope", "StateBackend", "pipeline_policies", "policies_for"]

DEPLOYER, READONLY, BOUNDARY = "deployer", "readonly", "task-role-boundary"
ROLES = (DEPLOYER, READONLY, BOUNDARY)


@dataclass(frozen=True)
class ManagedPolicy:
    name: str  # the customer-managed policy's name in IAM, and its file's (docs/policies/<name>.json)
    role: str  # one of ROLES
    document: Document


def policies_for(settings: Settings, role: str, backend: StateBackend | None = None) -> tuple[ManagedPolicy, ...]:
    """The managed policies of one role of the stack, in the order to attach them."""
    scope = StackScope(settings, backend or StateBackend())
    if role == BOUNDARY:
        # One policy: a role has one permissions boundary.
        return (ManagedPolicy(scope.policy_name(BOUNDARY), BOUNDARY, document(boundary_statements(scope))),)
    if role == DEPLOYER:
        parts = pack(deployer_statements(scope))
    elif role == READONLY:
        parts = pack(readonly_statements(scope))
    else:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return tuple(ManagedPolicy(scope.policy_name(role, n), role, part) for n, part in enumerate(parts, 1))


def pipeline_policies(settings: Settings, backend: StateBackend | None = None) -> tuple[ManagedPolicy, ...]:
    return tuple(policy for role in ROLES for policy in policies_for(settings, role, backend))
