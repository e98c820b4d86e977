"""AWS STS on the wire (the query protocol botocore's sts model names): AssumeRole and
GetCallerIdentity, enough for a service that assumes a role per target account.

Requests are ``POST /`` with a form body (``Action=AssumeRole&Version=2011-06-15&...``);
answers are XML (``<AssumeRoleResponse>``, errors ``<ErrorResponse><Error><Code>``), which
botocore's query parser reads. Issued credentials expire on the wall clock, as botocore checks
them against it (not on the emulator's virtual clock).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from emulator.accounts import Accounts, Signer
from emulator.errors import AwsError
from emulator.world import World

SERVICE = "sts"
_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
Response = tuple[int, dict[str, str], bytes]


def is_sts_request(method: str, path: str, signer: Signer, content_type: str) -> bool:
    if signer.service == SERVICE:
        return True
    return (method == "POST" and path == "/"
            and content_type.startswith("application/x-www-form-urlencoded"))


def handle(accounts: Accounts, default: World, signer: Signer, body: bytes,
           request_id: str) -> Response:
    params = {key: values[-1] for key, values in parse_qs(body.decode("utf-8")).items()}
    action = params.get("Action", "")
    try:
        if action == "AssumeRole":
            result = _assume_role(accounts, default, signer, params)
        elif action == "GetCallerIdentity":
            result = _caller_identity(accounts, default, signer)
        else:
            raise AwsError("InvalidAction", f"Could not find operation {action}", 400)
    except AwsError as error:
        return render_error(error, request_id)
    xml = (f'<{action}Response xmlns="{_NAMESPACE}"><{action}Result>{result}</{action}Result>'
           f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
           f"</{action}Response>")
    return 200, _headers(request_id), xml.encode()


def render_error(error: AwsError, request_id: str) -> Response:
    kind = "Receiver" if error.status >= 500 else "Sender"
    xml = (f'<ErrorResponse xmlns="{_NAMESPACE}"><Error><Type>{kind}</Type>'
           f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
           f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return error.status, _headers(request_id), xml.encode()


def _headers(request_id: str) -> dict[str, str]:
    return {"content-type": "text/xml", "x-amzn-requestid": request_id}


def _caller(accounts: Accounts, default: World, signer: Signer) -> tuple[str, str, str]:
    """(account, ARN, user id) of whoever signed the request."""
    issued = accounts.credentials.get(signer.access_key_id or "")
    if issued is not None:
        return issued.account_id, issued.assumed_role_arn, \
            f"AROAEMU{issued.access_key_id[-8:]}:{issued.session_name}"
    return default.account_id, f"arn:aws:iam::{default.account_id}:user/emulator", \
        "AIDAEMULATOR0000000"


def _caller_identity(accounts: Accounts, default: World, signer: Signer) -> str:
    account_id, arn, user_id = _caller(accounts, default, signer)
    return (f"<Arn>{escape(arn)}</Arn><UserId>{escape(user_id)}</UserId>"
            f"<Account>{account_id}</Account>")


def _assume_role(accounts: Accounts, default: World, signer: Signer,
                 params: dict[str, str]) -> str:
    role_arn = params.get("RoleArn", "")
    session_name = params.get("RoleSessionName", "")
    external_id = params.get("ExternalId")
    found = _ROLE_ARN.fullmatch(role_arn)
    if found is None:
        raise _invalid(f"Value '{role_arn}' at 'roleArn' failed to satisfy constraint: "
                       "Member must be a valid IAM role ARN")
    if _SESSION_NAME.fullmatch(session_name) is None:
        raise _invalid(f"Value '{session_name}' at 'roleSessionName' failed to satisfy "
                       r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*")
    if external_id is not None and _EXTERNAL_ID.fullmatch(external_id) is None:
        raise _invalid("Value at 'externalId' failed to satisfy constraint: Member must have "
                       "length between 2 and 1224 and match [\\w+=,.@:/-]*")
    duration_text = params.get("DurationSeconds", "3600")
    duration = int(duration_text) if duration_text.isdigit() else 0
    if not 900 <= duration <= 43200:
        raise _invalid(f"Value '{duration_text}' at 'durationSeconds' failed to satisfy "
                       "constraint: Member must have value between 900 and 43200")
    caller_account, caller_arn, _ = _caller(accounts, default, signer)
    account_id = found.group(1)
    role = next((world.roles[role_arn] for world in accounts.worlds_of(account_id, default)
                 if role_arn in world.roles), None)
    # AWS answers an unknown role and a trust that does not match alike (nothing leaks).
    if role is None or not role.may_be_assumed_by(caller_account, external_id):
        raise AwsError("AccessDenied", f"User: {caller_arn} is not authorized to perform: "
                       f"sts:AssumeRole on resource: {role_arn}", 403)
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=duration)
    issued = accounts.issue(account_id=account_id, role_arn=role_arn,
                            session_name=session_name, expires_at=expires_at)
    return ("<Credentials>"
            f"<AccessKeyId>{issued.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{escape(issued.secret_access_key)}</SecretAccessKey>"
            f"<SessionToken>{escape(issued.session_token)}</SessionToken>"
            f"<Expiration>{expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>"
            "</Credentials><AssumedRoleUser>"
            f"<AssumedRoleId>AROAEMU{issued.access_key_id[-8:]}:{escape(session_name)}"
            f"</AssumedRoleId><Arn>{escape(issued.assumed_role_arn)}</Arn></AssumedRoleUser>")


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)
