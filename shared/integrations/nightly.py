"""The nightly integration jobs. Registered and scheduled now so operations can see them;
they say plainly that they are not configured until their issues land."""

from __future__ import annotations

import logging

from shared.observability import log_event

log = logging.getLogger(__name__)


def run_catalog_sync() -> str:
    log_event(log, "catalog sync not configured: the Salesforce integration is not built yet", logging.WARNING)
    return "not configured"


def run_finance_export() -> str:
    log_event(log, "finance export not configured: the SAP posting export is not built yet", logging.WARNING)
    return "not configured"
