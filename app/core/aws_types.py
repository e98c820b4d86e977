"""AWS's own input constraints as pydantic types, so bad input is a 422 before any AWS call.

Patterns are checked by pydantic-core's Rust regex engine, which knows the Unicode classes
(``\\p{L}`` letters, ``\\p{Z}`` separators, ``\\p{N}`` numbers) that AWS's tag-key pattern uses.
"""

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints


def _not_aws_reserved(key: str) -> str:
    if key.lower().startswith("aws:"):
        raise ValueError("tag keys may not start with 'aws:' (reserved by AWS)")
    return key


def _not_blank(text: str) -> str:
    # AWS's patterns allow keys and names of spaces only; nobody can tell such keys apart.
    if not text.strip():
        raise ValueError("must contain a character other than spaces")
    return text


AwsTagKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"),
    AfterValidator(_not_aws_reserved),
    AfterValidator(_not_blank),
    Field(description="1-128 letters, digits, spaces or `_ . : / = + - @` (not only spaces); "
          "not `aws:...`."),
]
# Any text but NUL, which PostgreSQL text cannot hold (the driver fails the whole statement).
WITHOUT_NUL = r"^[^\x00]*$"
AwsTagValue = Annotated[
    str,
    StringConstraints(max_length=256, pattern=WITHOUT_NUL),
    Field(description="0-256 characters."),
]
# Names as vCenter shows them: any visible text, no control characters, not only spaces.
_VISIBLE_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"
VmwareCategory = Annotated[str, StringConstraints(min_length=1, max_length=80,
                                                  pattern=_VISIBLE_TEXT),
                           AfterValidator(_not_blank)]
VmwareTagName = Annotated[str, StringConstraints(min_length=1, max_length=80,
                                                 pattern=_VISIBLE_TEXT),
                          AfterValidator(_not_blank)]
IamRoleArn = Annotated[
    str,
    StringConstraints(min_length=20, max_length=2048,
                      pattern=r"^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]+:role/\S+$"),
    Field(description="arn:aws:iam::<account>:role/<name>"),
]
KmsKeyArn = Annotated[
    str,
    StringConstraints(
        min_length=50, max_length=500,
        pattern=r"^(arn:(aws|aws-cn|aws-us-gov):kms:[a-zA-Z0-9-]+:[0-9]+:(key|alias)/\S+|alias/\S+)$",
    ),
]
GatewayName = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                               pattern=r"^[a-zA-Z0-9-]*$")]
# A host name or IP address: no spaces or control characters (AWS's own pattern is `.+`).
HypervisorHost = Annotated[str, StringConstraints(min_length=3, max_length=128,
                                                  pattern=r"^[^\x00-\x20\x7f-\x9f]+$")]
# Printable ASCII without '/' and '\\', at least one non-space (botocore's Username pattern).
_USERNAME_CHAR, _USERNAME_VISIBLE = r"[ -\.0-\[\]-~]", r"[!-\.0-\[\]-~]"
HypervisorUsername = Annotated[str, StringConstraints(
    min_length=1, max_length=100,
    pattern=f"^{_USERNAME_CHAR}*{_USERNAME_VISIBLE}{_USERNAME_CHAR}*$")]
HypervisorPassword = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                                      pattern=r"^[ -~]+$")]

# The resource part of a hypervisor ARN (botocore: `[a-zA-Z-0-9]+`), e.g. hype-12345.
HypervisorId = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                pattern=r"^[A-Za-z0-9-]+$")]

MAX_TAGS_PER_RESOURCE = 50
MAX_TAG_MAPPINGS_PER_HYPERVISOR = 10
# Where a new resource is created: a VMBACKUP_AWS_TARGETS alias (checked against the configured
# ones by the service, which names the field when it is unknown).
TargetAlias = Annotated[str, StringConstraints(min_length=1, max_length=40), Field(
    description="The AWS target (a configured account/region alias) to create it in; "
    "default: the first configured target.")]
