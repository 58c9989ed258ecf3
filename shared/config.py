"""One settings object, read from the environment (Function App settings in Azure,
``local.settings.json`` under Core Tools, the shell locally).

Read lazily through ``load_settings()``, never at import: a settings error at import time
would stop the Functions host indexing every function. A missing or malformed setting
fails with a message naming the environment variable to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "GRIDLEDGER_"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Where the embedded defaults keep their files (SQLite database, blobs, mail).
    data_dir: Path = Path("var")

    document_store: Literal["sqlite", "cosmos"] = "sqlite"
    sqlite_path: Path | None = None  # default: <data_dir>/gridledger.sqlite3
    cosmos_endpoint: str | None = None
    cosmos_key: SecretStr | None = None  # absent: managed identity (DefaultAzureCredential)
    cosmos_database: str = "gridledger"
    cosmos_verify_tls: bool = True  # False only for the local test server's self-signed cert

    blob_store: Literal["local", "azure"] = "local"
    blob_root: Path | None = None  # default: <data_dir>/blobs
    blob_connection_string: SecretStr | None = None
    blob_account_url: str | None = None  # with managed identity instead of a connection string

    bus: Literal["inprocess", "servicebus"] = "inprocess"
    servicebus_connection_string: SecretStr | None = None
    servicebus_namespace: str | None = None  # fully qualified, with managed identity

    mailer: Literal["folder", "smtp"] = "folder"
    mail_folder: Path | None = None  # default: <data_dir>/mail
    mail_from: str = "billing@gridledger.local"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True

    # Comma-separated so a secret can rotate: sign with the new one, accept both meanwhile.
    payment_webhook_secrets: SecretStr = SecretStr("whsec_local_development_only")
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # The generic gateway is configured to match what the utility's gateway sends: which
    # header carries "t=<unix>,v1=<hex>" and which HMAC it computes over "<t>.<raw body>".
    payment_webhook_signature_header: str = Field(
        default="GridLedger-Signature", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$"
    )
    payment_webhook_algorithm: Literal["sha256", "sha512"] = "sha256"
    # The call centre's service-request webhook, signed the same way. No default: unset
    # refuses every call (503) rather than trusting a well-known development value.
    call_centre_webhook_secrets: SecretStr | None = None
    # Stripe's endpoint signing secret(s), comma-separated while one rotates. Read from the
    # name Stripe's own guides use as well as the prefixed one (and the field's own name, for
    # load_settings(stripe_webhook_secret=...)). No default: an unset secret
    # refuses every Stripe webhook (503) rather than trusting a well-known development value.
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STRIPE_WEBHOOK_SECRET", "GRIDLEDGER_STRIPE_WEBHOOK_SECRET", "stripe_webhook_secret"
        ),
    )

    max_request_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(default=1000, ge=1)

    # Where customers pay, printed on every invoice: the BPAY biller code (Australia) and the
    # retailer's bank account (NRB/IBAN in Poland, kontonummer in Norway; a Polish or
    # Norwegian invoice cannot be rendered without it).
    # (Empty means unset, as for the other optional settings.)
    bpay_biller_code: str | None = Field(default=None, pattern=r"^([0-9]{4,10})?$")
    payment_bank_account: str | None = Field(default=None, pattern=r"^([0-9A-Z .-]{4,40})?$")

    legal_entity: str = "GridLedger Energy Pty Ltd"
    legal_entity_abn: str = "51 824 753 556"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _chosen_backends_are_configured(self) -> Settings:
        def need(value: object, name: str, why: str) -> None:
            if value in (None, ""):
                raise ValueError(f"{ENV_PREFIX}{name.upper()} is required when {why}")

        if self.document_store == "cosmos":
            need(self.cosmos_endpoint, "cosmos_endpoint", "GRIDLEDGER_DOCUMENT_STORE=cosmos")
        if self.blob_store == "azure" and not (self.blob_connection_string or self.blob_account_url):
            need(None, "blob_connection_string", "GRIDLEDGER_BLOB_STORE=azure (or set GRIDLEDGER_BLOB_ACCOUNT_URL)")
        if self.bus == "servicebus" and not (self.servicebus_connection_string or self.servicebus_namespace):
            need(
                None,
                "servicebus_connection_string",
                "GRIDLEDGER_BUS=servicebus (or set GRIDLEDGER_SERVICEBUS_NAMESPACE)",
            )
        if self.mailer == "smtp":
            need(self.smtp_host, "smtp_host", "GRIDLEDGER_MAILER=smtp")
        return self

    @property
    def sqlite_file(self) -> Path:
        return self.sqlite_path or self.data_dir / "gridledger.sqlite3"

    @property
    def blob_folder(self) -> Path:
        return self.blob_root or self.data_dir / "blobs"

    @property
    def mail_dir(self) -> Path:
        return self.mail_folder or self.data_dir / "mail"

    @property
    def webhook_secrets(self) -> list[str]:
        return [s.strip() for s in self.payment_webhook_secrets.get_secret_value().split(",") if s.strip()]

    @property
    def call_centre_secrets(self) -> list[str]:
        value = self.call_centre_webhook_secrets.get_secret_value() if self.call_centre_webhook_secrets else ""
        return [s.strip() for s in value.split(",") if s.strip()]

    @property
    def stripe_webhook_secrets(self) -> list[str]:
        value = self.stripe_webhook_secret.get_secret_value() if self.stripe_webhook_secret else ""
        return [s.strip() for s in value.split(",") if s.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's error into one naming the environment variables."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(part) for part in error["loc"] if part != "__root__"]
            name = f"{ENV_PREFIX}{loc[0].upper()}" if loc else "settings"
            message = error["msg"].removeprefix("Value error, ")
            secret = any(word in name for word in ("KEY", "SECRET", "PASSWORD", "CONNECTION"))
            shown = "***" if secret else repr(error.get("input"))
            problems.append(message if not loc else f"{name}: {message} (got {shown})")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
