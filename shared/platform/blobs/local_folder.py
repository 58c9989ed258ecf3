"""Blob storage in a local folder: the embedded default, laid out so a person can open the files.

    <root>/<container>/<name>                         the blob's bytes, as a plain file
    <root>/.meta/<container>/<name>                   its content type and metadata, as JSON
    <root>/.staging/                                  files being written, never listed
    <root>/.locks/<container>.lock                    serialises writers of one container

Every write lands in ``.staging`` first and is moved into place with one atomic rename (or,
for put-if-absent, one hard link, which fails when the name is taken), so a reader never sees
half a blob and a crash leaves at most an orphan in ``.staging``. The data file is the commit
point: the sidecar is written just before it, so a crash between the two during an overwrite
can leave the new content type beside the old bytes (never partial bytes). Writers hold the
container's lock, readers share it, so no reader sees data and sidecar from different puts.

The naming rules are Azure's, so a name that works here works in production too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from shared.platform.blobs import (
    Blob,
    BlobAlreadyExists,
    BlobInfo,
    BlobNotFound,
    BlobStoreError,
    InvalidBlobName,
    safe_blob_name,
)

try:
    import fcntl
except ImportError:  # Windows: writers are serialised within this process only
    fcntl = None  # type: ignore[assignment]

DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Azure: 3-63 characters, lowercase letters, digits and single hyphens, starting and ending alphanumeric.
_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
# Azure metadata names are C# identifiers; values travel as HTTP headers, so printable ASCII only.
_METADATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METADATA_VALUE = re.compile(r"^[\x20-\x7e]*$")

_META, _STAGING, _LOCKS = ".meta", ".staging", ".locks"
_process_locks: dict[Path, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def safe_container_name(container: str) -> str:
    """Return ``container`` if Azure would accept it as a container name, else raise InvalidBlobName."""
    if not isinstance(container, str) or not _CONTAINER_NAME.match(container):
        raise InvalidBlobName(
            f"container name {container!r} must be 3-63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit"
        )
    return container


def safe_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Metadata Azure would store unchanged; refusing here keeps local and Azure behaviour the same."""
    checked: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not _METADATA_KEY.match(key):
            raise ValueError(f"blob metadata name {key!r} must be an identifier (letters, digits, underscore)")
        if not isinstance(value, str) or not _METADATA_VALUE.match(value):
            raise ValueError(f"blob metadata {key!r} must be a printable ASCII string, got {value!r}")
        checked[key] = value
    return checked


class LocalFolderBlobStore:
    def __init__(self, root: Path) -> None:
        # Nothing is created here: building the platform must not touch the disk.
        self._root = Path(root).absolute()

    def put(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> None:
        target = self._data_path(container, name)
        sidecar = self._sidecar_path(container, name)
        meta = json.dumps({"contentType": content_type, "metadata": safe_metadata(metadata)}).encode()
        with self._locked(container, exclusive=True):
            if target.is_dir():
                raise InvalidBlobName(
                    f"blob name {name!r} is a folder of other blobs in local storage; choose another name"
                )
            if not overwrite and target.exists():
                raise BlobAlreadyExists(container, name)
            self._make_parents(name, target, sidecar)
            meta_tmp, data_tmp = self._stage(meta), self._stage(data)
            try:
                os.replace(meta_tmp, sidecar)
                if overwrite:
                    os.replace(data_tmp, target)
                else:
                    try:
                        # link() refuses an existing name: the atomic put-if-absent even without the lock.
                        os.link(data_tmp, target)
                    except FileExistsError:
                        raise BlobAlreadyExists(container, name) from None
            finally:
                for leftover in (meta_tmp, data_tmp):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()

    def get(self, container: str, name: str) -> Blob:
        path = self._data_path(container, name)
        with self._locked(container, exclusive=False):
            try:
                data = path.read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise BlobNotFound(container, name) from None
            content_type, metadata = self._read_sidecar(container, name)
        return Blob(container=container, name=name, data=data, content_type=content_type, metadata=metadata)

    def exists(self, container: str, name: str) -> bool:
        return self._data_path(container, name).is_file()

    def list(self, container: str, prefix: str = "") -> list[BlobInfo]:
        folder = self._root / safe_container_name(container)
        with self._locked(container, exclusive=False):
            found = self._walk(container, folder, prefix)
        return sorted(found, key=lambda info: info.name)

    def _walk(self, container: str, folder: Path, prefix: str) -> list[BlobInfo]:
        found: list[BlobInfo] = []
        for dirpath, _dirs, files in os.walk(folder):
            relative = Path(dirpath).relative_to(folder).as_posix()
            for file in files:
                name = file if relative == "." else f"{relative}/{file}"
                if not name.startswith(prefix):
                    continue
                size = (Path(dirpath) / file).stat().st_size
                content_type, _ = self._read_sidecar(container, name)
                found.append(BlobInfo(container=container, name=name, size=size, content_type=content_type))
        return found

    def delete(self, container: str, name: str) -> None:
        target = self._data_path(container, name)
        sidecar = self._sidecar_path(container, name)
        with self._locked(container, exclusive=True):
            for path in (target, sidecar):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    path.unlink()
            # Empty folders left behind would block a later blob named like the folder.
            self._prune(target.parent, self._root / container)
            self._prune(sidecar.parent, self._root / _META / container)

    def close(self) -> None:
        pass

    # -- paths ---------------------------------------------------------------------------------

    def _data_path(self, container: str, name: str) -> Path:
        return self._inside(self._root / safe_container_name(container), safe_blob_name(name), name)

    def _sidecar_path(self, container: str, name: str) -> Path:
        base = self._root / _META / safe_container_name(container)
        # The same relative path as the data file, so both trees clash (or not) on the same names.
        return self._inside(base, safe_blob_name(name), name)

    def _inside(self, base: Path, relative: str, name: str) -> Path:
        # safe_blob_name already refuses '..' and absolute names; resolving also catches a
        # symlink planted inside the store that points elsewhere.
        path = base / relative
        if not path.resolve().is_relative_to(base.resolve()):
            raise InvalidBlobName(f"blob name {name!r} resolves outside its container")
        return path

    @staticmethod
    def _make_parents(name: str, *paths: Path) -> None:
        try:
            for path in paths:
                path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidBlobName(
                f"blob name {name!r} needs a folder where local storage already holds a blob; choose another name"
            ) from None

    def _stage(self, content: bytes) -> Path:
        staging = self._root / _STAGING
        staging.mkdir(parents=True, exist_ok=True)
        path = staging / uuid.uuid4().hex
        with open(path, "xb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        return path

    @staticmethod
    def _prune(folder: Path, stop: Path) -> None:
        while folder != stop and folder.is_relative_to(stop):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty, or already gone
            folder = folder.parent

    def _read_sidecar(self, container: str, name: str) -> tuple[str, dict[str, str]]:
        try:
            meta = json.loads(self._sidecar_path(container, name).read_bytes())
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return DEFAULT_CONTENT_TYPE, {}  # a file dropped into the folder by hand
        except ValueError as exc:
            raise BlobStoreError(f"blob {container}/{name} has an unreadable metadata file: {exc}") from exc
        return str(meta.get("contentType") or DEFAULT_CONTENT_TYPE), dict(meta.get("metadata") or {})

    @contextlib.contextmanager
    def _locked(self, container: str, *, exclusive: bool) -> Iterator[None]:
        """One writer per container at a time, across threads and (where flock exists) processes,
        and no reader meanwhile, so a blob's data and sidecar always come from the same put."""
        locks = self._root / _LOCKS
        locks.mkdir(parents=True, exist_ok=True)
        lock_file = locks / f"{safe_container_name(container)}.lock"
        if fcntl is None:
            with _process_lock(lock_file):
                yield
            return
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _process_lock(path: Path) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())
