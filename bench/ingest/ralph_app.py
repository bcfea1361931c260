"""Ralph's LRS application (PyPI ralph-malph) for bench/ingest, with its file-system backend appending.

Ralph 5.1.0's file-system LRS backend writes every POST with the data backend's default operation type, `create`,
which refuses to write to a file that exists: the first POST creates the backend's one file and every later POST
fails with 500. An LRS must append, so the benchmark sets that backend's default operation type to `append` (the
data backend's own append mode) and changes nothing else: validation, the id check against the stored statements
and the write are Ralph's.

    uvicorn --app-dir bench/ingest ralph_app:app
"""

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402  (after the setting: ralph.api creates its backend client when imported)

__all__ = ["app"]
