"""The Azure Functions entry: one app, the HTTP API plus the queue and timer triggers.

Importing this module builds no client and reads no setting (both happen on first use),
so a configuration mistake shows as a clear error in the failing function instead of a
host that indexes nothing.
"""

from __future__ import annotations

import azure.functions as func

from functions import blobs, queues, timers
from shared.api.app import create_app

app = func.AsgiFunctionApp(app=create_app(), http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(queues.bp)
app.register_functions(timers.bp)
app.register_functions(blobs.bp)
