"""``python -m shared.cli bill-run start|report|retry-failed``: what finance scripts call."""

from __future__ import annotations

import json
from datetime import date

import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing import billing
from shared.invoicing.bill_run_command import run_bill_run_report, run_bill_run_retry, run_bill_run_start
from tests.invoicing.test_bill_runs import issued, load_month_data

AS_OF = "2026-11-02T09:00:00+00:00"


@pytest.fixture
def utility(platform):
    seed_sample_utility(platform.documents)
    load_month_data(platform, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    return platform


def start(platform, **options):
    chosen = {"as_of": AS_OF, "branch": None, "billing_cycle": None, "account_ids": None, "run_id": None, "wait": True}
    return run_bill_run_start(platform, **(chosen | options))


def test_start_bills_what_is_due_and_answers_with_the_report(utility):
    report, status = start(utility, run_id="nov-run")
    assert status == 0
    assert (report["runId"], report["complete"], report["counts"]["billed"]) == ("nov-run", True, 5)
    assert sorted(r["invoiceNumber"] for r in report["billed"]) == [f"INV-2026-{n:06d}" for n in range(1, 6)]
    # The same run again bills nothing twice; the report still shows the run's bills.
    again, status = start(utility, run_id="nov-run")
    assert status == 0 and again["counts"]["billed"] == 5 and len(issued(utility)) == 5


def test_no_wait_leaves_the_bills_pending_and_report_says_so_with_exit_1(utility):
    report, status = start(utility, run_id="queued", wait=False, account_ids=["ACC-100001"])
    assert (status, report["counts"]["requested"], report["complete"]) == (1, 1, False)
    utility.bus.drain()
    report, status = run_bill_run_report(utility, "queued")
    assert (status, report["counts"]["billed"]) == (0, 1)


def test_a_failed_account_exits_1_and_retry_failed_bills_it_once(utility, monkeypatch):
    real_draft = billing.BillingService._draft

    def down_for_one(self, account, *args, **kwargs):
        if account.account_id == "ACC-100003":
            raise ConnectionError("tariff store timed out")
        return real_draft(self, account, *args, **kwargs)

    monkeypatch.setattr(billing.BillingService, "_draft", down_for_one)
    report, status = start(utility, run_id="flaky")
    assert status == 1 and [r["accountId"] for r in report["failed"]] == ["ACC-100003"]
    monkeypatch.undo()
    report, status = run_bill_run_retry(utility, "flaky", wait=True)
    assert (status, report["retried"], report["counts"]["billed"]) == (0, ["ACC-100003"], 5)
    assert len(issued(utility)) == 5


@pytest.mark.parametrize(
    ("options", "field"),
    [({"as_of": "yesterday"}, "as-of"), ({"as_of": "2026-11-02T09:00:00"}, "as-of")],
)
def test_bad_options_exit_2_naming_the_option(utility, options, field):
    report, status = start(utility, **options)
    assert (status, report["field"]) == (2, field)
    assert issued(utility) == []


def test_an_unknown_run_exits_2(utility):
    assert run_bill_run_report(utility, "nope")[1] == 2
    assert run_bill_run_retry(utility, "nope", wait=True)[1] == 2


def test_the_cli_prints_one_json_document(tmp_path, monkeypatch, capsys):
    from shared.cli import main

    monkeypatch.setenv("GRIDLEDGER_DATA_DIR", str(tmp_path / "var"))
    status = main(["bill-run", "report", "never-ran", "--json"])
    assert status == 2 and "never-ran" in json.loads(capsys.readouterr().out)["error"]
    status = main(["bill-run", "start", "--as-of", AS_OF, "--run-id", "empty", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and (report["runId"], report["requested"]) == ("empty", 0)
