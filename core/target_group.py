"""The target groups' health checks and draining, and what the application's own checks must fit in.

The ALB default (healthy after 5 checks 30 s apart, 300 s deregistration delay) makes every
deploy wait minutes per task. API requests finish in well under a second (p95 < 1 s), so:
 - deregistration delay 30 s still drains every in-flight request
   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay
 - 2 healthy checks 10 s apart put a new task in service in ~20 s;
   3 failures (30 s) take a broken one out without flapping on one slow check
   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

DEREGISTRATION_DELAY_SECONDS = 30
HEALTH_CHECK_INTERVAL_SECONDS = 10
# The live target group's timeout (core/live_estate.py: target_groups.api.health_check_timeout).
HEALTH_CHECK_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3

# How long the API's /health may wait on one dependency: HEALTH_CHECK_TIMEOUT (Redis, and
# MLflow's connection) and DATABASE_CONNECT_TIMEOUT (PostgreSQL), well inside the target
# group's timeout. The application's defaults (10 s each, src/api/utils/config.py) exceed it:
# one slow dependency makes every check time out and the ALB takes healthy tasks out of
# service, as the incident's Redis timeouts did (core/live_estate.py, differences:
# "Dependency timeouts of the API's health check").
# (tests/test_target_group.py holds it below the timeout.)
DEPENDENCY_CHECK_TIMEOUT_SECONDS = 2
