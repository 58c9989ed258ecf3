"""Blob storage on Azure Storage (or Azurite locally) through azure-storage-blob.

Retries are few and short on purpose: a message handler that cannot reach storage should fail
within seconds and let the bus redeliver, not hold its lock through the SDK's default minute
of back-off. Each put is a single Put Blob call (or a block list committed in one call), so
an interrupted upload never leaves a partial blob behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings, LinearRetry

from shared.platform.blobs import (
    Blob,
    BlobAlreadyExists,
    BlobInfo,
    BlobNotFound,
    BlobStorageUnavailable,
    BlobStoreError,
    safe_blob_name,
)
from shared.platform.blobs.local_folder import DEFAULT_CONTENT_TYPE, safe_container_name, safe_metadata

# Three attempts about half a second apart; with a 3 s connect timeout an unreachable account
# fails in about 10 s, a refused connection (stopped emulator) in about 1 s.
RETRY_TOTAL = 2
RETRY_BACKOFF_SECONDS = 0.5
CONNECTION_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 30


class AzureBlobStore:
    def __init__(
        self,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
    ) -> None:
        if bool(connection_string) == bool(account_url):
            raise ValueError("give exactly one of connection_string or account_url")
        options: dict[str, Any] = {
            "retry_policy": LinearRetry(
                backoff=RETRY_BACKOFF_SECONDS, random_jitter_range=0.2, retry_total=RETRY_TOTAL
            ),
            "connection_timeout": CONNECTION_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
        }
        if connection_string:
            try:
                self._service = BlobServiceClient.from_connection_string(connection_string, **options)
            except ValueError:
                # Not chained: the SDK's message could quote the string, and with it the account key.
                raise BlobStoreError("the blob storage connection string is malformed") from None
        else:
            assert account_url is not None
            self._service = BlobServiceClient(account_url, credential=credential or _managed_identity(), **options)
        self._endpoint = self._service.primary_endpoint

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
        client = self._container(container)
        blob = client.get_blob_client(safe_blob_name(name))
        checked = safe_metadata(metadata)

        def upload() -> None:
            # overwrite=False sends If-None-Match: *, so the server decides the single winner.
            blob.upload_blob(
                data,
                overwrite=overwrite,
                content_settings=ContentSettings(content_type=content_type),
                metadata=checked,
            )

        with self._errors(container, name):
            try:
                upload()
            except ResourceNotFoundError as exc:
                if exc.error_code != "ContainerNotFound":
                    raise
                # Containers are created on first use rather than at start-up, so a fresh
                # account (or emulator) needs no set-up step.
                try:
                    client.create_container()
                except ResourceExistsError:
                    pass  # created by a racing writer
                upload()

    def get(self, container: str, name: str) -> Blob:
        blob = self._container(container).get_blob_client(safe_blob_name(name))
        with self._errors(container, name):
            download = blob.download_blob()
            data = download.readall()
        props = download.properties
        return Blob(
            container=container,
            name=name,
            data=data,
            content_type=props.content_settings.content_type or DEFAULT_CONTENT_TYPE,
            metadata=dict(props.metadata or {}),
        )

    def exists(self, container: str, name: str) -> bool:
        blob = self._container(container).get_blob_client(safe_blob_name(name))
        with self._errors(container, name):
            return bool(blob.exists())

    def list(self, container: str, prefix: str = "") -> list[BlobInfo]:
        client = self._container(container)
        with self._errors(container, prefix + "*"):
            try:
                found = [
                    BlobInfo(
                        container=container,
                        name=props.name,
                        size=props.size,
                        content_type=props.content_settings.content_type or DEFAULT_CONTENT_TYPE,
                    )
                    for props in client.list_blobs(name_starts_with=prefix or None)
                ]
            except ResourceNotFoundError:
                return []  # the container is created by the first put
        return sorted(found, key=lambda info: info.name)

    def delete(self, container: str, name: str) -> None:
        blob = self._container(container).get_blob_client(safe_blob_name(name))
        with self._errors(container, name):
            try:
                blob.delete_blob(delete_snapshots="include")
            except ResourceNotFoundError:
                pass

    def close(self) -> None:
        self._service.close()

    def _container(self, container: str) -> ContainerClient:
        return self._service.get_container_client(safe_container_name(container))

    @contextmanager
    def _errors(self, container: str, name: str) -> Iterator[None]:
        """Turn the SDK's exceptions into the port's, naming the account endpoint (never the key)."""
        where = f"blob {container}/{name} at {self._endpoint}"
        try:
            yield
        except ResourceExistsError as exc:
            if exc.error_code in ("BlobAlreadyExists", "ConditionNotMet"):
                raise BlobAlreadyExists(container, name) from None
            raise BlobStoreError(f"{where}: {_code(exc)}") from None
        except ResourceNotFoundError:
            raise BlobNotFound(container, name) from None
        except ServiceRequestError as exc:
            raise BlobStorageUnavailable(
                f"blob storage at {self._endpoint} could not be reached after {RETRY_TOTAL + 1} attempts "
                f"({_reason(exc)}); nothing was written"
            ) from None
        except ServiceResponseError as exc:
            raise BlobStorageUnavailable(
                f"blob storage at {self._endpoint} dropped the connection for {where} after {RETRY_TOTAL + 1} "
                f"attempts ({_reason(exc)}); a write may or may not have been applied, a retry is safe"
            ) from None
        except ClientAuthenticationError as exc:
            raise self._refused(exc) from None
        except HttpResponseError as exc:
            if exc.status_code in (401, 403):
                raise self._refused(exc) from None
            if exc.status_code is not None and exc.status_code >= 500:
                raise BlobStorageUnavailable(
                    f"blob storage at {self._endpoint} answered {exc.status_code} {_code(exc)} for {where}"
                ) from None
            raise BlobStoreError(f"{where}: {exc.status_code} {_code(exc)}") from None

    def _refused(self, exc: HttpResponseError) -> BlobStoreError:
        return BlobStoreError(
            f"blob storage at {self._endpoint} refused our credentials ({_code(exc)}); check the connection "
            "string's account key, or the managed identity's Storage Blob Data role"
        )


def _code(exc: HttpResponseError) -> str:
    code = exc.error_code
    return str(getattr(code, "value", code) or exc.reason or type(exc).__name__)


def _reason(exc: Exception) -> str:
    # The first line only: the SDK appends request details that are noise in a log line.
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]


def _managed_identity() -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise BlobStoreError(
            "GRIDLEDGER_BLOB_ACCOUNT_URL without a connection string uses managed identity, which needs the "
            "azure-identity package: pip install azure-identity (or set GRIDLEDGER_BLOB_CONNECTION_STRING)"
        ) from None
    return DefaultAzureCredential()
