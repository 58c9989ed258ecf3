"""The readings inbox's blob trigger: a meter-data file dropped under
``readings-inbox/drop/`` is queued for import exactly like an HTTP upload.

The trigger only names the blob; the handler reads it through the platform's blob store, so
the same code runs on the embedded defaults (``python -m shared.cli readings scan-inbox``).
A second firing for the same blob finds it gone and does nothing.
"""

from __future__ import annotations

import azure.functions as func

from shared.readings.inbox import DROP_PREFIX, accept_trigger_path
from shared.resources import BLOB_READINGS_INBOX
from shared.runtime import get_platform

# The host's own storage account holds the app's blob containers too (infra/main.bicep),
# reached with the Function App's managed identity through AzureWebJobsStorage__accountName.
CONNECTION = "AzureWebJobsStorage"
DROP_PATH = f"{BLOB_READINGS_INBOX}/{DROP_PREFIX}{{name}}"

bp = func.Blueprint()


@bp.function_name("readings_inbox_drop")
@bp.blob_trigger(arg_name="blob", path=DROP_PATH, connection=CONNECTION)
def readings_inbox_drop(blob: func.InputStream) -> None:
    accept_trigger_path(get_platform(), blob.name or "")
