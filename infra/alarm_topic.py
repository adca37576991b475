"""The SNS topic every alarm notifies, with the on-call e-mail subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.settings import Settings


@dataclass
class AlarmTopicArgs:
    settings: Settings


class AlarmTopic(pulumi.ComponentResource):
    def __init__(self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:observability:AlarmTopic", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=naming.alarm_topic_name(settings.environment),
            tags=settings.resource_tags,
            opts=child,
        )
        # E-mail subscriptions stay "pending confirmation" until the recipient
        # clicks the link AWS sends; they are listed in config so they are reviewed.
        self.subscriptions = [
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
            for index, address in enumerate(settings.alarm_emails)
        ]
        self.arn = self.topic.arn
        self.register_outputs({"arn": self.arn})
