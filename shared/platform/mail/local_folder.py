"""Mail as .eml files in a folder: the embedded default, and what a developer opens to see a bill.

One file per message key, created with a hard link from a staged file: the link fails when
the file is already there, so a redelivered message never writes a second copy, and a reader
never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from shared.platform.mail import MailError, OutgoingMail
from shared.platform.mail.message import build_message, safe_message_key


class LocalFolderMailer:
    def __init__(self, folder: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._folder = Path(folder)
        self._clock = clock

    def path_for(self, message_key: str) -> Path:
        return self._folder / f"{safe_message_key(message_key)}.eml"

    def send(self, mail: OutgoingMail) -> None:
        target = self.path_for(mail.message_key)
        if target.exists():
            return  # sent before: a redelivery
        content = build_message(mail, date=self._clock()).as_bytes()
        # Hidden and suffixed so a glob for *.eml never picks up a file being written.
        staged = self._folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            with open(staged, "xb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(staged, target)
            except FileExistsError:
                pass  # a concurrent delivery of the same message won
        except OSError as exc:
            raise MailError(f"could not write mail {mail.message_key!r} to {self._folder}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                staged.unlink()
