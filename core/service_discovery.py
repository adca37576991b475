"""How each service registers in Cloud Map (`<service>.<stack>.local`), in one place.

The values are the live estate's (core/live_estate.py, `cloud_map`: this repository's
service-discovery.tf), so importing the live Cloud Map services changes nothing: every
one of them is a property the provider cannot update in place, or a record the callers
already resolve (core/replacement.py, aws:servicediscovery/service:Service).

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

# An A record per task (awsvpc gives each task its own address).
RECORD_TYPE = "A"
# Short TTL: callers stop resolving a stopped task within seconds. The API's own DNS cache
# is told the same (DNS_CACHE_TTL, core/contract.py), or it would keep a stopped MLflow
# task's address for its default 300 s.
RECORD_TTL_SECONDS = 10
# Every healthy task's address in one answer.
ROUTING_POLICY = "MULTIVALUE"
# ECS reports each task's health to Cloud Map (a custom health check). The block is
# replace-only: without it an import of the live service would plan a replacement, and a
# replaced Cloud Map service drops every registered task until ECS registers them again.
# AWS now always uses 1 (the field is deprecated) and the live service was created with 1.
FAILURE_THRESHOLD = 1
