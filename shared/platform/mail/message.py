"""One OutgoingMail -> one RFC 5322 message, the same bytes whichever mailer sends it."""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from shared.platform.mail import MailError, OutgoingMail

# A key becomes a file name and the left part of a Message-ID, so it must be safe as both.
_MESSAGE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class InvalidMail(MailError, ValueError):
    """The mail itself is wrong (a bad key, address or header); sending it again will not help."""


def safe_message_key(key: str) -> str:
    if not isinstance(key, str) or not _MESSAGE_KEY.match(key) or key.endswith("."):
        raise InvalidMail(
            f"message key {key!r} must be 1-200 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return key


def message_id(mail: OutgoingMail) -> str:
    """Stable per key, so a redelivered mail carries the id of the first and clients can drop it."""
    domain = _address(mail.sender, "sender").domain or "localhost"
    return f"<{safe_message_key(mail.message_key)}@{domain}>"


def build_message(mail: OutgoingMail, *, date: datetime) -> EmailMessage:
    if date.tzinfo is None:
        raise ValueError("the mail's date must be timezone-aware")
    msg = EmailMessage()
    try:
        msg["From"] = _address(mail.sender, "sender")
        msg["To"] = _address(mail.to, "recipient")
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = message_id(mail)
    except ValueError as exc:
        # The email package refuses line breaks in headers: the header-injection guard.
        raise InvalidMail(f"mail {mail.message_key!r} has an invalid header: {exc}") from None
    msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        if not _CONTENT_TYPE.match(attachment.content_type.lower()):
            raise InvalidMail(f"attachment {attachment.filename!r} has content type {attachment.content_type!r}")
        maintype, subtype = attachment.content_type.lower().split("/")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return msg


def _address(value: str, role: str) -> Address:
    """One address, with or without a display name ("Billing <billing@example.com>")."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise InvalidMail(f"the {role} {value!r} is not a single e-mail address")
    parsed = getaddresses([value])
    if len(parsed) != 1 or parsed[0][1].count("@") != 1:
        raise InvalidMail(f"the {role} {value!r} is not a single e-mail address")
    display_name, addr = parsed[0]
    username, domain = addr.split("@")
    if not username or not domain:
        raise InvalidMail(f"the {role} {value!r} is not a single e-mail address")
    try:
        return Address(display_name=display_name, username=username, domain=domain)
    except (ValueError, IndexError) as exc:
        raise InvalidMail(f"the {role} {value!r} is not a valid e-mail address: {exc}") from None
