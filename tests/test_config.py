"""Settings fail at start with a message naming the variable to fix."""

from __future__ import annotations

import pytest

from shared.config import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"GRIDLEDGER_{name.upper()}", raising=False)


def test_the_embedded_defaults_need_no_setting_at_all():
    settings = load_settings()
    assert (settings.document_store, settings.blob_store, settings.bus, settings.mailer) == (
        "sqlite", "local", "inprocess", "folder",
    )  # fmt: skip


def test_choosing_cosmos_without_an_endpoint_names_the_missing_setting(monkeypatch):
    monkeypatch.setenv("GRIDLEDGER_DOCUMENT_STORE", "cosmos")
    with pytest.raises(SettingsError, match="GRIDLEDGER_COSMOS_ENDPOINT is required"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("GRIDLEDGER_DOCUMENT_STORE", "mongodb", "GRIDLEDGER_DOCUMENT_STORE: Input should be 'sqlite' or 'cosmos'"),
        ("GRIDLEDGER_SMTP_PORT", "twenty-five", "GRIDLEDGER_SMTP_PORT: Input should be a valid integer"),
        ("GRIDLEDGER_MAX_REQUEST_BYTES", "10", "GRIDLEDGER_MAX_REQUEST_BYTES"),
        ("GRIDLEDGER_BUS", "kafka", "GRIDLEDGER_BUS"),
    ],
)
def test_a_malformed_setting_is_named(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings()


def test_the_other_backends_each_name_what_they_need(monkeypatch):
    monkeypatch.setenv("GRIDLEDGER_BLOB_STORE", "azure")
    with pytest.raises(SettingsError, match="GRIDLEDGER_BLOB_CONNECTION_STRING"):
        load_settings()
    monkeypatch.setenv("GRIDLEDGER_BLOB_ACCOUNT_URL", "https://acct.blob.core.windows.net")
    monkeypatch.setenv("GRIDLEDGER_MAILER", "smtp")
    with pytest.raises(SettingsError, match="GRIDLEDGER_SMTP_HOST"):
        load_settings()


def test_a_secret_is_never_echoed_in_the_error(monkeypatch):
    monkeypatch.setenv("GRIDLEDGER_WEBHOOK_TOLERANCE_SECONDS", "0")
    monkeypatch.setenv("GRIDLEDGER_PAYMENT_WEBHOOK_SECRETS", "whsec_do_not_print")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "whsec_do_not_print" not in str(caught.value)


def test_webhook_secrets_rotate_as_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("GRIDLEDGER_PAYMENT_WEBHOOK_SECRETS", "whsec_new, whsec_old")
    assert load_settings().webhook_secrets == ["whsec_new", "whsec_old"]
