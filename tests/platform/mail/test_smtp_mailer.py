"""SMTP against a real server on loopback: what arrives is what was sent, and an unreachable
server is a MailError that says where it tried (and never the password)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.platform.mail import Attachment, MailError
from shared.platform.mail.local_folder import LocalFolderMailer
from shared.platform.mail.smtp import SmtpMailer
from tests.platform.mail.test_local_folder_mailer import PDF, SENT_AT, invoice_mail, read_eml
from tests.support.processes import free_port
from tests.support.smtp_server import SmtpServer


@pytest.fixture
def server(smtp_server: SmtpServer) -> SmtpServer:
    smtp_server.clear()
    return smtp_server


def plain_mailer(server: SmtpServer) -> SmtpMailer:
    # The test server speaks no TLS; production keeps STARTTLS on.
    return SmtpMailer(server.host, server.port, starttls=False, clock=lambda: SENT_AT)


def test_an_invoice_arrives_with_its_pdf_intact(server: SmtpServer) -> None:
    plain_mailer(server).send(invoice_mail())

    (received,) = server.messages
    assert received.mail_from == "billing@gridledger.local"
    assert received.rcpt_tos == ("ada@example.com",)
    msg = received.message
    assert msg["Message-ID"] == "<invoice-INV-2026-000001@gridledger.local>"
    assert msg["Subject"] == "Your bill INV-2026-000001 from GridLedger Energy"
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "INV-2026-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_smtp_and_the_mail_folder_send_the_same_message(server: SmtpServer, tmp_path: Path) -> None:
    mail = invoice_mail(
        attachments=(Attachment("a.pdf", "application/pdf", PDF), Attachment("b.csv", "text/csv", b"1,2"))
    )
    plain_mailer(server).send(mail)
    LocalFolderMailer(tmp_path, clock=lambda: SENT_AT).send(mail)

    over_smtp = server.messages[0].message
    in_folder = read_eml(tmp_path / f"{mail.message_key}.eml")
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        assert over_smtp[header] == in_folder[header]
    assert [a.get_payload(decode=True) for a in over_smtp.iter_attachments()] == [PDF, b"1,2"]
    assert [a.get_payload(decode=True) for a in in_folder.iter_attachments()] == [PDF, b"1,2"]


def test_a_resent_mail_keeps_its_message_id_so_clients_can_fold_it(server: SmtpServer) -> None:
    mailer = plain_mailer(server)
    mailer.send(invoice_mail())
    SmtpMailer(server.host, server.port, starttls=False, clock=lambda: datetime(2026, 12, 1, tzinfo=UTC)).send(
        invoice_mail()
    )
    assert [m.message["Message-ID"] for m in server.messages] == ["<invoice-INV-2026-000001@gridledger.local>"] * 2


def test_a_server_that_is_down_is_a_mail_error_naming_host_and_port_but_not_the_password() -> None:
    port = free_port()  # nothing listens here
    mailer = SmtpMailer("127.0.0.1", port, username="billing", password="hunter2-secret", timeout=2)

    started = time.monotonic()
    with pytest.raises(MailError) as raised:
        mailer.send(invoice_mail())

    assert time.monotonic() - started < 5
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert "ConnectionRefused" in str(raised.value)
    assert "hunter2" not in str(raised.value) and "hunter2" not in repr(mailer)


def test_starttls_required_but_not_offered_is_refused_before_sending(server: SmtpServer) -> None:
    mailer = SmtpMailer(server.host, server.port, starttls=True)
    with pytest.raises(MailError, match=f"{server.host}:{server.port} does not offer STARTTLS"):
        mailer.send(invoice_mail())
    assert server.messages == []


def test_credentials_are_never_sent_over_a_plain_connection() -> None:
    with pytest.raises(MailError, match="without STARTTLS"):
        SmtpMailer("smtp.example.com", 587, username="billing", password="hunter2-secret", starttls=False)


def test_a_malformed_mail_is_refused_before_connecting() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), starttls=False)
    with pytest.raises(MailError, match="invalid header"):
        mailer.send(invoice_mail(subject="Bill\r\nBcc: everyone@example.com"))
