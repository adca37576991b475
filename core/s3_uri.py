"""An `s3://bucket[/prefix]` location, as a plain setting names it (MLflow's DEFAULT_ARTIFACT_ROOT).

The contract lets a service's task role reach the location one of its settings names
(core/contract.py: S3Access); this reads the setting's value into the bucket and the
prefix the grant is built from (core/documents.py: s3_prefix_policy).

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# General purpose bucket names: 3-63 lower-case letters, digits, dots and hyphens, starting and
# ending with a letter or digit. https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
# A key prefix without wildcards (they would widen the grant) or empty segments.
_PREFIX = r"[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*"
_URI = re.compile(rf"s3://(?P<bucket>{_BUCKET})(/(?P<prefix>{_PREFIX}))?/?")

SHAPE = "an s3://bucket/prefix URI (a bucket name, then an optional key prefix without wildcards)"


@dataclass(frozen=True)
class S3Location:
    bucket: str
    # Without a leading or trailing '/'; empty for the whole bucket.
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_s3_uri(text: str) -> S3Location | None:
    """The bucket and prefix of `text`, or None when it is not an S3 location a grant can be built for."""
    match = _URI.fullmatch(text)
    if not match or ".." in match["bucket"]:
        return None
    return S3Location(bucket=match["bucket"], prefix=match["prefix"] or "")
