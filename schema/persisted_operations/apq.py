"""Apollo's automatic persisted queries over HTTP (GET and POST).

A request may name its document by hash, `extensions.persistedQuery = {version: 1,
sha256Hash}`, without the document: the service answers PERSISTED_QUERY_NOT_FOUND (message
`PersistedQueryNotFound`, which Apollo's link and other clients look for) when it does not
know the hash, and the client sends the hash with the document, which is then registered
for every process. A document whose hash is not the one named is refused.
"""

from __future__ import annotations

import re
from dataclasses import replace

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData

from schema.persisted_operations.operation_store import OperationStore, sha256_of
from schema.persisted_operations.settings import PersistedMode
from schema.strawberry_hooks.documents import parse

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


async def resolve_persisted(
    data: GraphQLRequestData,
    store: OperationStore,
    mode: PersistedMode,
    *,
    may_register: bool,
) -> GraphQLRequestData | GraphQLError:
    """The request with its document, or the error refusing it. `may_register`: whether
    this caller's document may be stored (an identified caller's: an anonymous one could
    otherwise fill the table)."""
    extensions = data.extensions or {}
    if "persistedQuery" not in extensions:
        return data
    if mode is PersistedMode.OFF:
        return _error("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
    persisted = extensions["persistedQuery"]
    sha256 = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(sha256, str)
        or not _SHA256.fullmatch(sha256)
    ):
        return GraphQLError(
            "extensions.persistedQuery must be {version: 1, sha256Hash: <64 lower-case hex>}",
            extensions={"code": "BAD_USER_INPUT", "field": "extensions.persistedQuery"},
        )
    if data.query is None:
        stored = await store.find(sha256)
        if stored is None:
            return _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        # in `only` mode the trusted check (trusted_only.py) still refuses it if need be
        return replace(data, query=stored.document)
    if sha256_of(data.query) != sha256:
        return _error(
            "provided sha256Hash does not match the document", "PERSISTED_QUERY_HASH_MISMATCH"
        )
    if mode is PersistedMode.AUTOMATIC and may_register and _parses(data.query):
        await store.register(data.query, trusted=False)
    return data


def _parses(document: str) -> bool:
    """Only documents that parse are kept; one that does not fails as usual when it runs."""
    try:
        parse(document)
    except GraphQLError:
        return False
    return True
