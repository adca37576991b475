"""The SNS topic every alarm notifies, with the on-call e-mail subscriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AlarmTopicArgs:
    topic_name: str
    # On-call addresses; each gets an e-mail subscription.
    emails: Sequence[str]
    tags: Mapping[str, str]
    # The customer-managed key the topic is encrypted with (None: unencrypted, as before). Its policy
    # must let cloudwatch.amazonaws.com use it, or alarms are dropped: the README, "Encryption keys".
    kms_key_arn: str | None = None


@dataclass(frozen=True)
class AlarmTopicResult:
    arn: pulumi.Output[str]
    # The stack's observability key, which the topic (and every log group) is encrypted with; None: none.
    kms_key_arn: str | None = None


class AlarmTopic(pulumi.ComponentResource):
    result: AlarmTopicResult

    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:observability:AlarmTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=args.topic_name,
            kms_master_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        # E-mail subscriptions stay "pending confirmation" until the recipient
        # clicks the link AWS sends; they are listed in config so they are reviewed.
        for index, address in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
        self.result = AlarmTopicResult(arn=topic.arn, kms_key_arn=args.kms_key_arn)
        self.register_outputs({"arn": self.result.arn})
