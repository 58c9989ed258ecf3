"""Timer triggers. Schedules are NCRONTAB in UTC (sec min hour day month weekday).

The daily bill-cycle kick-off runs at 15:30 UTC (after local midnight on Australia's east
coast all year), but any hour is safe: what is due comes from each account's billed-through
date and the service point's local date, never from when the timer last ran, so a late,
repeated or catch-up call bills each period once.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.collections.command import run_daily_dunning
from shared.integrations.nightly import run_catalog_sync, run_finance_export
from shared.invoicing.cycle_run import kick_off_bill_cycle
from shared.invoicing.rebill import run_rebills
from shared.observability import correlation, log_event
from shared.runtime import get_platform

log = logging.getLogger(__name__)

BILL_CYCLE_SCHEDULE = "0 30 15 * * *"
# Corrected meter data rebills before the day's bill cycle; any hour is safe (each period is
# credited and rebilled once, from the open rebill-needed markers, however often it runs).
REBILL_SCHEDULE = "0 0 15 * * *"
CATALOG_SYNC_SCHEDULE = "0 0 16 * * *"
FINANCE_EXPORT_SCHEDULE = "0 30 16 * * *"
# Dunning counts days overdue in each account's local date, so any hour after the bill cycle
# is safe; a repeated or late run takes at most one step per account (see dunning.py).
DUNNING_SCHEDULE = "0 0 17 * * *"

bp = func.Blueprint()


@bp.function_name("bill_cycle_kickoff")
@bp.timer_trigger(arg_name="timer", schedule=BILL_CYCLE_SCHEDULE, run_on_startup=False, use_monitor=True)
def bill_cycle_kickoff(timer: func.TimerRequest) -> None:
    with correlation(None):
        if timer.past_due:
            log_event(log, "bill-cycle timer is past due; catching up from billed-through dates")
        platform = get_platform()
        kick_off_bill_cycle(platform.documents, platform.bus, as_of=platform.clock())


@bp.function_name("catalog_sync_nightly")
@bp.timer_trigger(arg_name="timer", schedule=CATALOG_SYNC_SCHEDULE, run_on_startup=False, use_monitor=True)
def catalog_sync_nightly(timer: func.TimerRequest) -> None:
    with correlation(None):
        run_catalog_sync()


@bp.function_name("finance_export_nightly")
@bp.timer_trigger(arg_name="timer", schedule=FINANCE_EXPORT_SCHEDULE, run_on_startup=False, use_monitor=True)
def finance_export_nightly(timer: func.TimerRequest) -> None:
    with correlation(None):
        run_finance_export()


@bp.function_name("dunning_daily")
@bp.timer_trigger(arg_name="timer", schedule=DUNNING_SCHEDULE, run_on_startup=False, use_monitor=True)
def dunning_daily(timer: func.TimerRequest) -> None:
    with correlation(None):
        run_daily_dunning(get_platform())


@bp.function_name("rebill_daily")
@bp.timer_trigger(arg_name="timer", schedule=REBILL_SCHEDULE, run_on_startup=False, use_monitor=True)
def rebill_daily(timer: func.TimerRequest) -> None:
    with correlation(None):
        platform = get_platform()
        report, status = run_rebills(platform, as_of=platform.clock())
        if status:
            failed = [p for p in report["periods"] if p["outcome"] == "failed"]
            log_event(log, "rebill run had failed periods", logging.ERROR, failed=len(failed))
