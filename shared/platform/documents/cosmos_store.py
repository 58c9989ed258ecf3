"""The Azure document store: Cosmos DB through the azure-cosmos SDK.

SDK failures become the store's own errors with one short message naming the endpoint,
so a caller (and an operator reading a log) never has to read SDK internals. Retries are
kept few and short: a Cosmos DB that is down surfaces within seconds as StorageUnavailable,
and the message bus, not a blocked worker, does the patient retrying.

Threads: one store serves the API's thread pool and the bus worker at once, but one SDK
client must not serve two threads at once. Microsoft's training material calls the Python
SDK thread-safe, yet azure-cosmos (4.17) keeps per-client mutable state that every request
writes without a lock: the retry utility stores each answer's throttle counts into
``client_connection.last_response_headers``, the map the previous request (maybe another
thread's) left there and may still be reading. The SDK's maintainers say that map "is not
thread safe" (Azure/azure-sdk-for-python#35791; #33496 attempted the fix), and threads
sharing a client here failed now and then with "OrderedDict mutated during iteration". So
every call borrows a client of its own from a ``ClientPool``: one client per thread in
flight, each reused by later calls, all closed with the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ClientAuthenticationError, ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, DatabaseProxy, PartitionKey
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from shared.platform.documents import (
    BatchFailed,
    BatchOperation,
    ConcurrencyConflict,
    Document,
    DocumentAlreadyExists,
    DocumentNotFound,
    DocumentStoreError,
    StorageUnavailable,
    StoreGuarantees,
)
from shared.platform.documents.validation import (
    FieldPath,
    checked_batch,
    checked_document,
    checked_key,
    checked_limit,
    checked_order,
    checked_partition,
    checked_start_after,
    checked_where,
)
from shared.resources import DOCUMENT_CONTAINERS, DocumentContainer

_SYSTEM_FIELDS = ("_rid", "_self", "_attachments", "_ts")
_RETRYABLE_STATUS = frozenset({408, 410, 429, 449, 503})
_OWNER_RESOURCE_NOT_FOUND = 1003  # 404 sub-status: the container or database, not the document


def _field(path: FieldPath) -> str:
    # Parts are checked identifiers, so quoting them into the text is safe; values never are.
    return "c" + "".join(f'["{part}"]' for part in path)


def _clean(item: Mapping[str, Any]) -> Document:
    return {key: value for key, value in item.items() if key not in _SYSTEM_FIELDS}


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    # urllib3 nests "Pool(...): Failed to establish a new connection: [Errno 111] Connection refused".
    return line.rsplit(": ", 1)[-1][:limit] if "Errno" in line else line[:limit]


class _Closable(Protocol):
    def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=_Closable)


class ClientPool(Generic[ClientT]):
    """Clients lent to one thread at a time and taken back for the next call.

    As many clients exist as calls were ever in flight at once (the thread pools that call
    bound that), each with its own connections; a client is made outside the lock, since
    making one asks the server for the account's regions."""

    def __init__(self, make: Callable[[], ClientT]) -> None:
        self._make = make
        self._idle: list[ClientT] = []
        self._lock = threading.Lock()
        self._closed = False

    def add(self, client: ClientT) -> None:
        """Take ``client`` (made by the caller, e.g. to fail early on bad settings) as idle."""
        self._give_back(client)

    @contextmanager
    def borrowed(self) -> Iterator[ClientT]:
        with self._lock:
            if self._closed:
                raise DocumentStoreError("the Cosmos DB store is closed; open a new one")
            client = self._idle.pop() if self._idle else None
        if client is None:
            client = self._make()
        try:
            yield client
        finally:
            self._give_back(client)

    def close(self) -> None:
        """Close the idle clients now, and each client still lent when it comes back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for client in idle:
            client.close()

    def _give_back(self, client: ClientT) -> None:
        with self._lock:
            keep = not self._closed
            if keep:
                self._idle.append(client)
        if not keep:
            client.close()


class CosmosContainer:
    def __init__(self, store: CosmosDocumentStore, definition: DocumentContainer) -> None:
        self.name = definition.name
        self.partition_key = definition.partition_key
        self._store = store

    def get(self, doc_id: str, partition: str) -> Document:
        document = self.find(doc_id, partition)
        if document is None:
            raise DocumentNotFound(self.name, doc_id, partition)
        return document

    def find(self, doc_id: str, partition: str) -> Document | None:
        checked_key(doc_id, partition, self.name)
        with self._translated(doc_id, partition), self._store.proxy(self.name) as proxy:
            try:
                return _clean(proxy.read_item(doc_id, partition_key=partition))
            except CosmosHttpResponseError as exc:
                if exc.status_code == 404 and exc.sub_status != _OWNER_RESOURCE_NOT_FOUND:
                    return None
                if exc.status_code != 500:
                    raise
            # The local test server answers 500 instead of 404 when the document is absent.
            # A query inside the partition settles it, and is right on any server.
            found = self._select(proxy, {"id": doc_id}, partition=partition, order_by=None, limit=1)
            return found[0] if found else None

    def create(self, document: Mapping[str, Any]) -> Document:
        body = checked_document(document, self.name, self.partition_key)
        with (
            self._translated(body["id"], body[self.partition_key], absent_is_document=False),
            self._store.proxy(self.name) as proxy,
        ):
            return _clean(proxy.create_item(body))

    def replace(self, document: Mapping[str, Any], *, etag: str | None) -> Document:
        body = checked_document(document, self.name, self.partition_key)
        condition = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag is not None else {}
        with self._translated(body["id"], body[self.partition_key]), self._store.proxy(self.name) as proxy:
            return _clean(proxy.replace_item(body["id"], body, **condition))

    def upsert(self, document: Mapping[str, Any]) -> Document:
        body = checked_document(document, self.name, self.partition_key)
        with (
            self._translated(body["id"], body[self.partition_key], absent_is_document=False),
            self._store.proxy(self.name) as proxy,
        ):
            return _clean(proxy.upsert_item(body))

    def delete(self, doc_id: str, partition: str, *, etag: str | None = None) -> None:
        checked_key(doc_id, partition, self.name)
        condition = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag is not None else {}
        with self._translated(doc_id, partition), self._store.proxy(self.name) as proxy:
            proxy.delete_item(doc_id, partition_key=partition, **condition)

    def query(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        partition: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        start_after: str | int | None = None,
    ) -> list[Document]:
        if partition is not None:
            checked_partition(partition, self.name)
        with self._translated(None, partition), self._store.proxy(self.name) as proxy:
            return self._select(
                proxy, where, partition=partition, order_by=order_by, limit=limit, start_after=start_after
            )

    def _select(
        self,
        proxy: ContainerProxy,
        where: Mapping[str, Any] | None,
        *,
        partition: str | None,
        order_by: str | None,
        limit: int | None,
        start_after: str | int | None = None,
    ) -> list[Document]:
        """Every page is read here, while the caller still holds the proxy's client."""
        conditions, parameters = [], []
        for index, (path, value) in enumerate(checked_where(where)):
            conditions.append(f"{_field(path)} = @p{index}")
            parameters.append({"name": f"@p{index}", "value": value})
        scope: dict[str, Any] = {"enable_cross_partition_query": True}
        if partition is not None:
            # Real Cosmos DB scopes by the partition_key argument; the local server refuses a
            # scoped query whose text does not filter on the key. Saying both costs nothing.
            conditions.append(f"{_field((self.partition_key,))} = @partition")
            parameters.append({"name": "@partition", "value": partition})
            scope = {"partition_key": partition}
        top = ""
        if checked_limit(limit) is not None:
            top = "TOP @limit "
            parameters.append({"name": "@limit", "value": limit})
        order = checked_order(order_by)
        after = checked_start_after(start_after, order)
        if after is not None and order is not None:
            after_path, after_descending = order
            conditions.append(f"{_field(after_path)} {'<' if after_descending else '>'} @after")
            parameters.append({"name": "@after", "value": after})
        sql = f"SELECT {top}* FROM c"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        if order is not None:
            path, descending = order
            sql += f" ORDER BY {_field(path)} {'DESC' if descending else 'ASC'}"
        items = proxy.query_items(sql, parameters=parameters, **scope)
        return [_clean(item) for item in items]

    def batch(self, partition: str, operations: Sequence[BatchOperation]) -> list[Document]:
        checked_partition(partition, self.name)
        cleaned = checked_batch(operations, partition, self.name, self.partition_key)
        if not cleaned:
            return []  # Cosmos DB refuses an empty batch; nothing to do is not an error
        with self._translated(None, partition), self._store.proxy(self.name) as proxy:
            try:
                results = proxy.execute_item_batch([self._sdk_operation(op) for op in cleaned], partition_key=partition)
            except CosmosBatchOperationError as exc:
                op = cleaned[exc.error_index]
                doc_id = op.doc_id if op.document is None else op.document["id"]
                cause = self._store.error_for_status(exc.status_code, self.name, doc_id, partition, exc, True)
                raise BatchFailed(self.name, exc.error_index, cause) from None
        documents = []
        for op, result in zip(cleaned, results, strict=True):
            body = result.get("resourceBody")
            documents.append(_clean(body) if body else {"id": op.doc_id, self.partition_key: partition})
        return documents

    @staticmethod
    def _sdk_operation(op: BatchOperation) -> tuple[Any, ...]:
        condition = {"if_match_etag": op.etag} if op.etag is not None else {}
        if op.kind == "delete":
            return ("delete", (op.doc_id,), condition)
        assert op.document is not None
        if op.kind == "replace":
            return ("replace", (op.document["id"], op.document), condition)
        return (op.kind, (op.document,))

    @contextmanager
    def _translated(
        self, doc_id: str | None, partition: str | None, *, absent_is_document: bool = True
    ) -> Iterator[None]:
        # A 404 on create or upsert cannot mean "no such document": the container is gone.
        with self._store.translated(self.name, doc_id, partition, absent_is_document=absent_is_document):
            yield


class CosmosDocumentStore:
    """Containers are created (when ``create_if_missing``) on first use, not at start-up:
    a cold start of one function should not wait on fourteen container checks.

    Safe to share between threads: each call runs on a client no other thread is using
    (see the module's note and ``ClientPool``).

    ``endpoint_discovery=False`` suits a single-endpoint server (the local test server):
    there is no other region to fail over to, and the SDK's regional retry would add half
    a second to each of that server's 500 answers for a missing document."""

    def __init__(
        self,
        endpoint: str,
        key: str | None,
        database: str,
        *,
        verify_tls: bool = True,
        containers: Sequence[DocumentContainer] = DOCUMENT_CONTAINERS,
        create_if_missing: bool = True,
        guarantees: StoreGuarantees | None = None,
        timeout_seconds: float = 5.0,
        endpoint_discovery: bool = True,
    ) -> None:
        self.endpoint = endpoint
        # Real Cosmos DB batches are atomic; a test server that is not declares so here.
        self.guarantees = guarantees or StoreGuarantees(atomic_batch=True)
        self._definitions = {c.name: c for c in containers}
        self._database_name = database
        self._create_if_missing = create_if_missing
        self._containers: dict[str, CosmosContainer] = {}
        self._database_ready = False
        self._lock = threading.Lock()
        credential: Any = key if key else _managed_identity()

        def make_client() -> CosmosClient:
            return CosmosClient(
                endpoint,
                credential,  # one credential for all clients: DefaultAzureCredential caches its token
                connection_verify=verify_tls,
                # Per attempt, connecting and reading; one retry on a refused connection,
                # none on a read that timed out (the write may have landed; the caller decides).
                connection_timeout=timeout_seconds,
                retry_total=2,
                retry_connect=1,
                retry_read=0,
                retry_backoff_max=2,
                # Throttling (429) is not an outage: keep the SDK's patient defaults for it.
                retry_throttle_total=9,
                retry_throttle_backoff_max=30,
                enable_endpoint_discovery=endpoint_discovery,
            )

        self._clients: ClientPool[CosmosClient] = ClientPool(make_client)
        # The first client now, so bad settings or an unreachable server fail here, not later.
        with self.translated(None, None, None):
            self._clients.add(make_client())

    def container(self, name: str) -> CosmosContainer:
        with self._lock:
            if name in self._containers:
                return self._containers[name]
            try:
                definition = self._definitions[name]
            except KeyError:
                raise ValueError(f"unknown document container {name!r}; known: {sorted(self._definitions)}") from None
            if self._create_if_missing:
                with self.translated(name, None, None), self._clients.borrowed() as client:
                    self._create_container(client, definition)
            self._containers[name] = CosmosContainer(self, definition)
            return self._containers[name]

    @contextmanager
    def proxy(self, container: str) -> Iterator[ContainerProxy]:
        """``container`` on a client lent to this thread alone until the block ends.
        (Proxies are plain handles; what they cache lives in their client.)"""
        with self._clients.borrowed() as client:
            yield client.get_database_client(self._database_name).get_container_client(container)

    def close(self) -> None:
        self._clients.close()

    def _create_container(self, client: CosmosClient, definition: DocumentContainer) -> None:
        if not self._database_ready:
            client.create_database_if_not_exists(self._database_name)
            self._database_ready = True
        database: DatabaseProxy = client.get_database_client(self._database_name)
        database.create_container_if_not_exists(definition.name, PartitionKey(path=f"/{definition.partition_key}"))

    @contextmanager
    def translated(
        self, container: str | None, doc_id: str | None, partition: str | None, *, absent_is_document: bool = True
    ) -> Iterator[None]:
        """Raise the store's own error for whatever the SDK raised inside."""
        try:
            yield
        except CosmosHttpResponseError as exc:
            absent = absent_is_document and exc.sub_status != _OWNER_RESOURCE_NOT_FOUND
            raise self.error_for_status(exc.status_code, container, doc_id, partition, exc, absent) from None
        except ClientAuthenticationError as exc:
            raise DocumentStoreError(
                f"Cosmos DB at {self.endpoint}: could not obtain a token ({_first_line(exc)}); "
                "check the managed identity or set GRIDLEDGER_COSMOS_KEY"
            ) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise StorageUnavailable(
                f"Cosmos DB at {self.endpoint} is unreachable ({_first_line(exc)}); "
                "nothing was confirmed written, retry later"
            ) from None
        except AzureError as exc:  # client-side timeouts and other transport failures
            raise StorageUnavailable(f"Cosmos DB at {self.endpoint} failed: {_first_line(exc)}; retry later") from None

    def error_for_status(
        self,
        status: int | None,
        container: str | None,
        doc_id: str | None,
        partition: str | None,
        exc: BaseException,
        absent_is_document: bool,
    ) -> DocumentStoreError:
        where = f"Cosmos DB at {self.endpoint}, database {self._database_name!r}, container {container!r}"
        if doc_id is not None and partition is not None and container is not None:
            if status == 404 and absent_is_document:
                return DocumentNotFound(container, doc_id, partition)
            if status == 409:
                return DocumentAlreadyExists(container, doc_id, partition)
            if status == 412:
                return ConcurrencyConflict(container, doc_id, partition)
        if status == 404:
            return DocumentStoreError(
                f"{where}: the database or container does not exist (a local test server loses them on restart)"
            )
        if status in (401, 403):
            return DocumentStoreError(f"{where}: access refused (HTTP {status}); check the key or the role assignment")
        if status in _RETRYABLE_STATUS:
            return StorageUnavailable(f"{where}: unavailable (HTTP {status}); retry later")
        return DocumentStoreError(f"{where}: HTTP {status}: {_first_line(exc)}")


def _managed_identity() -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise DocumentStoreError(
            "no Cosmos DB key is set (GRIDLEDGER_COSMOS_KEY), so managed identity is needed, "
            "but the azure-identity package is not installed"
        ) from None
    return DefaultAzureCredential()
