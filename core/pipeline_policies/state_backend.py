"""Reading (and for the deployer, writing) the stack's Pulumi state. Pure.

With an S3 backend (`pulumi login s3://<bucket>`) the CLI reads the stack's checkpoint
for every preview and refresh, and `pulumi up` writes it, its history and backups.
`pulumi up` and `pulumi refresh` (also `--preview-only`) hold a lock file while they run;
`pulumi preview` takes none (pkg/backend/diy/backend.go: Update, Refresh and Destroy call
Lock, Preview does not). The secrets provider's key decrypts the stack's data key, which
`pulumi stack init --secrets-provider awskms://...` wrapped once: neither role encrypts.

Only this stack's keys: another stack's state (and the secrets in it) stays out of reach.
"""

from __future__ import annotations

from core.pipeline_policies.scope import StackScope
from core.pipeline_policies.statements import Statement, allow


def state_statements(scope: StackScope, *, write: bool) -> list[Statement]:
    statements = [
        # Listing needs the bucket itself; it shows key names, never content.
        allow("ListTheStateBucket", "s3:ListBucket", scope.state_bucket),
        allow("ReadTheStacksState", "s3:GetObject", scope.state_objects("meta", "stack")),
        allow(
            "HoldTheStacksLockWhileUpOrRefreshRuns", ["s3:DeleteObject", "s3:PutObject"], scope.state_objects("locks")
        ),
        allow(
            "DecryptTheStacksDataKeyWithTheSecretsProvidersKey",
            "kms:Decrypt",
            scope.state_keys,
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": scope.backend.secrets_key_alias}},
        ),
    ]
    if write:
        statements.insert(
            3,
            allow(
                "WriteTheStacksStateHistoryAndBackups",
                ["s3:GetObject", "s3:PutObject"],
                scope.state_objects("stack", "history", "backups"),
            ),
        )
    return statements
