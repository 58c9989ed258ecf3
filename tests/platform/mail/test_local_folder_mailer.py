"""The mail folder: one readable .eml per message key, however often a message is redelivered."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from shared.platform.mail import Attachment, MailError, OutgoingMail
from shared.platform.mail.local_folder import LocalFolderMailer
from shared.platform.mail.message import InvalidMail

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
SENT_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def invoice_mail(**changes: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "to": "Ada Customer <ada@example.com>",
        "subject": "Your bill INV-2026-000001 from GridLedger Energy",
        "text": "Dear Ada,\n\nYour electricity bill is attached.\nAmount due: $123.45\n",
        "sender": "billing@gridledger.local",
        "message_key": "invoice-INV-2026-000001",
        "html": "<p>Dear Ada, your bill is attached.</p>",
        "attachments": (Attachment("INV-2026-000001.pdf", "application/pdf", PDF),),
    }
    return OutgoingMail(**{**fields, **changes})  # type: ignore[arg-type]


def read_eml(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def mailer(folder: Path) -> LocalFolderMailer:
    return LocalFolderMailer(folder, clock=lambda: SENT_AT)


def test_a_mail_becomes_one_eml_file_named_for_its_key(mailer: LocalFolderMailer, folder: Path) -> None:
    mailer.send(invoice_mail())

    assert [p.name for p in folder.iterdir()] == ["invoice-INV-2026-000001.eml"]
    msg = read_eml(folder / "invoice-INV-2026-000001.eml")
    assert msg["From"] == "billing@gridledger.local"
    assert msg["To"] == "Ada Customer <ada@example.com>"
    assert msg["Subject"] == "Your bill INV-2026-000001 from GridLedger Energy"
    assert msg["Message-ID"] == "<invoice-INV-2026-000001@gridledger.local>"
    assert msg["Date"].datetime == SENT_AT


def test_the_text_html_and_attachment_round_trip_intact(mailer: LocalFolderMailer, folder: Path) -> None:
    mailer.send(invoice_mail())

    msg = read_eml(folder / "invoice-INV-2026-000001.eml")
    body = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert (
        body is not None
        and body.get_content() == "Dear Ada,\n\nYour electricity bill is attached.\nAmount due: $123.45\n"
    )
    assert html is not None and "your bill is attached" in html.get_content()
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "INV-2026-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_sending_the_same_key_again_writes_no_second_file_and_keeps_the_first(
    folder: Path, mailer: LocalFolderMailer
) -> None:
    mailer.send(invoice_mail())
    first = (folder / "invoice-INV-2026-000001.eml").read_bytes()

    later = LocalFolderMailer(folder, clock=lambda: datetime(2026, 11, 3, tzinfo=UTC))
    later.send(invoice_mail(subject="A redelivered copy"))

    assert [p.name for p in folder.iterdir()] == ["invoice-INV-2026-000001.eml"]
    assert (folder / "invoice-INV-2026-000001.eml").read_bytes() == first


def test_concurrent_redeliveries_leave_one_complete_file(mailer: LocalFolderMailer, folder: Path) -> None:
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def deliver(i: int) -> None:
        start.wait()
        try:
            mailer.send(invoice_mail(subject=f"copy {i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == []
    assert [p.name for p in folder.iterdir()] == ["invoice-INV-2026-000001.eml"]
    (attachment,) = list(read_eml(folder / "invoice-INV-2026-000001.eml").iter_attachments())
    assert attachment.get_content() == PDF


def test_different_keys_are_different_files(mailer: LocalFolderMailer, folder: Path) -> None:
    mailer.send(invoice_mail())
    mailer.send(invoice_mail(message_key="invoice-INV-2026-000002"))
    assert sorted(p.name for p in folder.iterdir()) == ["invoice-INV-2026-000001.eml", "invoice-INV-2026-000002.eml"]


@pytest.mark.parametrize(
    "key", ["", "../escape", "a/b", "a\\b", ".hidden", "-flag", "key.", "with space", "x" * 201, "é", "a\nb"]
)
def test_a_key_that_is_not_a_safe_file_name_is_refused_and_nothing_is_written(
    mailer: LocalFolderMailer, tmp_path: Path, key: str
) -> None:
    with pytest.raises(InvalidMail, match="message key"):
        mailer.send(invoice_mail(message_key=key))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Bill\r\nBcc: everyone@example.com"},
        {"to": "ada@example.com\r\nBcc: everyone@example.com"},
        {"to": "ada@example.com, eve@example.com"},
        {"to": "not-an-address"},
        {"sender": ""},
        {"attachments": (Attachment("x.pdf", "pdf", b"x"),)},
    ],
)
def test_a_malformed_mail_is_refused_before_anything_is_written(
    mailer: LocalFolderMailer, folder: Path, changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidMail):
        mailer.send(invoice_mail(**changes))
    assert not folder.exists() or list(folder.iterdir()) == []


def test_an_unwritable_folder_is_a_mail_error_naming_it(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the mail folder should be")
    with pytest.raises(MailError, match="not-a-folder"):
        LocalFolderMailer(blocked).send(invoice_mail())
