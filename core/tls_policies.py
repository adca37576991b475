"""The ELB security policies an HTTPS listener may use: TLS 1.2 and later only.

From "Security policies for your Application Load Balancer" (Elastic Load Balancing user
guide, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html):
the predefined policies whose lowest protocol is TLS 1.2 or TLS 1.3 (every name below was
checked against that table as of 2026-09: a misspelt name would refuse a good listener, not
admit a bad one). Everything else
(ELBSecurityPolicy-2016-08, the API's default, and every policy that still takes TLS 1.0
or 1.1) is refused unless `load_balancer.exceptions.tls_policy_not_allowed` says why. A
policy AWS publishes later is added here once reviewed, not taken on trust.

Pure data: no Pulumi, no boto3.
"""

from __future__ import annotations

# The program's default (the console's default for years, TLS 1.3 with 1.2 fallback).
RECOMMENDED = "ELBSecurityPolicy-TLS13-1-2-2021-06"

ALLOWED_TLS_POLICIES: frozenset[str] = frozenset(
    {
        # TLS 1.3 with TLS 1.2 fallback, and TLS 1.3 only
        RECOMMENDED,
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        # ... with post-quantum key exchange (2025-09)
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        # FIPS
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        # FIPS with post-quantum key exchange (2025-09)
        "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
        # FIPS, RFC 9151 (CNSA suite) and its interoperability variants (2023-07)
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07",
        "ELBSecurityPolicy-TLS13-1-3-RFC9151-FIPS-2023-07",
        # TLS 1.2 only, forward secrecy
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
        # TLS 1.2 only
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    }
)


def is_allowed(policy: str | None) -> bool:
    return policy in ALLOWED_TLS_POLICIES


def refusal(policy: str | None) -> tuple[str, str]:
    """(what is wrong, the fix) of a policy not on the list."""
    return (
        f"TLS policy {policy or '(none)'} is not on the allow-list of TLS 1.2+ policies (core/tls_policies.py): "
        "clients could negotiate TLS 1.0 or 1.1",
        f"use {RECOMMENDED} (or another policy of core/tls_policies.py), or declare "
        "load_balancer.exceptions.tls_policy_not_allowed with the reason",
    )
