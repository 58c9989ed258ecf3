"""The bill run report an operator reads after a run, and the retry of its failed accounts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing import billing
from shared.resources import ACCOUNTS, INVOICES
from tests.invoicing.test_bill_runs import issued, load_month_data

AS_OF = "2026-11-02T09:00:00+00:00"


@pytest.fixture
def utility(platform):
    seed_sample_utility(platform.documents)
    load_month_data(platform, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    return platform


def start_run(api, **body) -> dict:
    response = api.post("/v1/bill-runs", json={"asOf": AS_OF, **body})
    assert response.status_code == 202, response.text
    return response.json()


def test_a_run_still_on_the_bus_is_reported_pending(utility, api):
    run = start_run(api)
    report = api.get(run["reportUrl"]).json()
    assert report["requested"] == 5 and report["counts"]["requested"] == 5
    assert report["complete"] is False and len(report["pending"]) == 5


def test_a_finished_run_reports_every_account_and_totals_that_match_the_invoices(utility, api):
    run = start_run(api)
    utility.bus.drain()
    report = api.get(run["reportUrl"]).json()
    assert report["complete"] and report["counts"]["billed"] == 5
    assert report["failed"] == [] and report["skipped"] == []

    # The totals, recomputed here from the issued invoices and the accounts' tariffs.
    accounts = {a["accountId"]: a for a in utility.documents.container(ACCOUNTS.name).query()}
    by_tariff: dict[str, Decimal] = defaultdict(Decimal)
    by_branch: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in issued(utility):
        account = accounts[invoice["accountId"]]
        by_tariff[account["tariffId"]] += Decimal(invoice["total"]["amount"])
        by_branch[account["branch"]] += Decimal(invoice["total"]["amount"])
    assert {row["tariffId"]: Decimal(row["total"]) for row in report["totals"]["byTariff"]} == by_tariff
    assert {row["branch"]: Decimal(row["total"]) for row in report["totals"]["byBranch"]} == by_branch
    assert len(by_tariff) == 2 and sum(row["invoices"] for row in report["totals"]["byBranch"]) == 5


def test_an_operator_run_for_one_branch_or_list_names_itself(utility, api):
    run = start_run(api, accountIds=["ACC-100002", "ACC-100004"], runId="ops-rerun-2026-11")
    assert run["runId"] == "ops-rerun-2026-11"
    assert [b["accountId"] for b in run["billsRequested"]] == ["ACC-100002", "ACC-100004"]
    utility.bus.drain()
    assert api.get("/v1/bill-runs/ops-rerun-2026-11").json()["counts"]["billed"] == 2
    nobody = start_run(api, branch="no-such-branch", runId="empty-run")
    assert nobody["billsRequested"] == []


def test_a_failing_account_is_reported_with_its_error_dead_lettered_and_retried(utility, api, monkeypatch):
    real_draft = billing.BillingService._draft

    def tariff_store_down_for_one(self, account, *args, **kwargs):
        if account.account_id == "ACC-100003":
            raise ConnectionError("tariff store timed out")
        return real_draft(self, account, *args, **kwargs)

    monkeypatch.setattr(billing.BillingService, "_draft", tariff_store_down_for_one)
    run = start_run(api)
    utility.bus.drain()
    report = api.get(run["reportUrl"]).json()
    assert report["counts"]["billed"] == 4 and report["counts"]["failed"] == 1
    [failed] = report["failed"]
    assert failed["accountId"] == "ACC-100003" and failed["reason"] == "ConnectionError: tariff store timed out"
    assert [d.message_id for d in utility.bus.dead_letters()] == ["bill:ACC-100003:2026-10-01:2026-11-01"]

    monkeypatch.undo()
    retry = api.post(f"/v1/bill-runs/{run['runId']}/retry-failed").json()
    assert retry["retried"] == ["ACC-100003"]
    utility.bus.drain()
    report = api.get(run["reportUrl"]).json()
    assert report["counts"]["billed"] == 5 and report["failed"] == [] and report["complete"]
    numbers = sorted(d["number"] for d in issued(utility))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 6)]  # no gap left by the failure
    # Retrying again finds nothing to do and bills nothing twice.
    assert api.post(f"/v1/bill-runs/{run['runId']}/retry-failed").json()["retried"] == []
    utility.bus.drain()
    assert len(utility.documents.container(INVOICES.name).query()) == 5


def test_an_unknown_run_is_a_404_and_a_bad_run_id_a_422(utility, api):
    assert api.get("/v1/bill-runs/nope").status_code == 404
    assert api.post("/v1/bill-runs/nope/retry-failed").status_code == 404
    bad = api.post("/v1/bill-runs", json={"runId": "../x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "runId"
