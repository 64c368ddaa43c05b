"""Persisted operations: Apollo's automatic persisted queries and trusted documents.

- `settings.py`: PERSISTED_OPERATIONS (`automatic`, `only`, `off`).
- `operation_store.py`: `OperationStore`, the `persisted_operations` table by hash, shared
  by every process, with the documents found kept in the process.
- `apq.py`: the protocol over HTTP (`extensions.persistedQuery`): a hash becomes its
  document, a new document is registered, or the request gets its error code.
- `trusted_only.py`: the schema extension that, in `only` mode, refuses any document that
  is not registered as trusted, over HTTP and websockets alike, after the identity check
  (imported by schema/extensions.py itself: it needs the Context, which needs the settings
  this face gives).
"""

from schema.persisted_operations.apq import resolve_persisted
from schema.persisted_operations.operation_store import OperationStore, sha256_of
from schema.persisted_operations.settings import PersistedMode

__all__ = [
    "OperationStore",
    "PersistedMode",
    "resolve_persisted",
    "sha256_of",
]
