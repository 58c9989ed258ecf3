"""The Functions entry registers every trigger the platform needs, and nothing at import
reads settings or opens connections."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from shared.resources import QUEUES


def registered():
    sys.modules.pop("function_app", None)
    module = importlib.import_module("function_app")
    functions = {}
    for fn in module.app.get_functions():
        trigger = fn.get_trigger()
        functions[fn.get_function_name()] = json.loads(fn.get_function_json())["bindings"][0] | {
            "trigger_type": trigger.get_binding_name()
        }
    return functions


def test_function_app_registers_http_queue_and_timer_triggers():
    functions = registered()
    http = [f for f in functions.values() if f["trigger_type"] == "httpTrigger"]
    assert len(http) == 1 and http[0]["route"] == "/{*route}"  # FastAPI owns every path
    assert set(http[0]["methods"]) >= {"GET", "POST"}

    queue_triggers = {name: f["queueName"] for name, f in functions.items() if f["trigger_type"] == "serviceBusTrigger"}
    assert queue_triggers == {
        "reading_received": "reading-received",
        "bill_requested": "bill-requested",
        "invoice_render": "invoice-render",
        "payment_received": "payment-received",
        "stock_event": "stock-event",
    }
    assert set(queue_triggers.values()) == set(QUEUES)
    assert {f["connection"] for f in functions.values() if f["trigger_type"] == "serviceBusTrigger"} == {
        "ServiceBusConnection"
    }

    blobs = {name: (f["path"], f["connection"]) for name, f in functions.items() if f["trigger_type"] == "blobTrigger"}
    # Only drop/ is watched: the import's own writes to processed/ and rejected/ must not re-trigger it.
    assert blobs == {"readings_inbox_drop": ("readings-inbox/drop/{name}", "AzureWebJobsStorage")}

    timers = {name: f["schedule"] for name, f in functions.items() if f["trigger_type"] == "timerTrigger"}
    assert timers == {
        "bill_cycle_kickoff": "0 30 15 * * *",
        "catalog_sync_nightly": "0 0 16 * * *",
        "finance_export_nightly": "0 30 16 * * *",
        "dunning_daily": "0 0 17 * * *",
        "rebill_daily": "0 0 15 * * *",
    }


def test_importing_the_app_reads_no_settings(monkeypatch):
    # A malformed setting must not stop the host indexing functions: it fails on first use.
    monkeypatch.setenv("GRIDLEDGER_DOCUMENT_STORE", "mongodb")
    import shared.runtime

    shared.runtime.use_platform(None)
    assert len(registered()) == 12


def test_host_json_hands_every_path_to_fastapi_and_uses_the_v4_bundle():
    host = json.loads(Path("host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""
    assert host["extensionBundle"]["version"] == "[4.*, 5.0.0)"
