"""Mail over SMTP (a relay, or Azure Communication Services' SMTP endpoint).

A connection per send: invoices go out one per bus message, and a pooled connection would
only go stale between them. SMTP has no idempotency of its own; the stable Message-ID lets
mail clients fold a redelivered copy, and the caller records that a mail was sent.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime

from shared.platform.mail import MailError, OutgoingMail
from shared.platform.mail.message import build_message


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if username and not starttls:
            # Credentials over a plain connection would be readable by anyone on the path.
            raise MailError(f"refusing to send SMTP credentials to {host}:{port} without STARTTLS")
        self._host, self._port = host, port
        self._username, self._password = username, password
        self._starttls = starttls
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"SmtpMailer({self._host}:{self._port}, user={self._username!r}, starttls={self._starttls})"

    def send(self, mail: OutgoingMail) -> None:
        msg = build_message(mail, date=self._clock())
        where = f"SMTP server {self._host}:{self._port}"
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.ehlo()
                if self._starttls:
                    if not smtp.has_extn("starttls"):
                        raise MailError(
                            f"{where} does not offer STARTTLS; turn GRIDLEDGER_SMTP_STARTTLS off only for "
                            "a local test server"
                        )
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self._username:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"{where} refused the login for {self._username!r}: {exc.smtp_code}") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"{where} refused mail {mail.message_key!r}: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"{where} refused the recipient of mail {mail.message_key!r}: {exc.recipients}") from None
        except (smtplib.SMTPException, OSError) as exc:
            # Covers refused connections, time-outs, unknown hosts and TLS failures.
            raise MailError(f"{where} could not take mail {mail.message_key!r}: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise MailError(f"{where} refused recipients of mail {mail.message_key!r}: {refused}")


def _text(error: bytes | str) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)
