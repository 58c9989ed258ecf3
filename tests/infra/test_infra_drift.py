"""The infrastructure says what the code needs: every queue, container and setting the code
names is declared in infra/main.bicep, and nothing is declared that the code does not use.

No Bicep compiler runs here, so the template is read as text (tests/infra/bicep_text.py).
Each detector takes the template text and returns its problems as sentences; the mutation
tests at the end feed it broken copies to prove each one can fail.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest
from pydantic import SecretStr, TypeAdapter, ValidationError

from functions.queues import CONNECTION
from shared.config import ENV_PREFIX, Settings, SettingsError, load_settings
from shared.resources import BLOB_CONTAINERS, DOCUMENT_CONTAINERS, MAX_DELIVERY_COUNT, QUEUES, DocumentContainer
from tests.infra.bicep_text import BicepText, Resource, top_level_objects

ROOT = Path(__file__).resolve().parents[2]
MAIN_BICEP = ROOT / "infra" / "main.bicep"
ROLES_BICEP = ROOT / "infra" / "modules" / "app-roles.bicep"

SETTING_NAMES = tuple(f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields)

# App settings the Functions platform reads rather than our code, each for a stated reason.
PLATFORM_SETTINGS = {
    "FUNCTIONS_EXTENSION_VERSION": "the Functions runtime major version",
    "FUNCTIONS_WORKER_RUNTIME": "the language worker",
    "AzureWebJobsStorage__accountName": "the host's own storage, through the managed identity",
    f"{CONNECTION}__fullyQualifiedNamespace": "the queue triggers' Service Bus, through the managed identity",
    "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "a container app: the image holds the code, no /home share",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "where the host sends telemetry",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "telemetry sent with the managed identity (local auth is off)",
}

# What a new deployment must run: the Azure backends, never the embedded ones.
PRODUCTION_CHOICES = {
    "GRIDLEDGER_DOCUMENT_STORE": "cosmos",
    "GRIDLEDGER_BLOB_STORE": "azure",
    "GRIDLEDGER_BUS": "servicebus",
    "GRIDLEDGER_MAILER": "smtp",
}

KEY_VAULT_SETTINGS = (
    "GRIDLEDGER_PAYMENT_WEBHOOK_SECRETS",
    "GRIDLEDGER_CALL_CENTRE_WEBHOOK_SECRETS",
    "GRIDLEDGER_SMTP_PASSWORD",
    "GRIDLEDGER_STRIPE_WEBHOOK_SECRET",
)

# The settings local.settings.json adds for Core Tools and the local emulators.
LOCAL_PLATFORM_SETTINGS = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", CONNECTION}

FUNCTIONS_PYTHON_IMAGE = "mcr.microsoft.com/azure-functions/python:4-python3.11"
WEASYPRINT_SYSTEM_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libfontconfig1")

ROLE_IDS = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # the blob trigger's poison queue
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Cosmos DB Built-in Data Contributor": "00000000-0000-0000-0000-000000000002",
}


# --- reading the template ------------------------------------------------------------------


def declared_names(bicep: BicepText, resource: Resource) -> list[str]:
    """Names a resource declares: its loop's array items, or its one literal name."""
    if resource.loop_source is None:
        name = bicep.literal(resource.property("name"))
        return [] if name is None else [name]
    items = bicep.string_array(resource.loop_source)
    if items and resource.property("name") == resource.loop_item:
        return items
    return [item["name"] for item in bicep.object_array(resource.loop_source) if "name" in item]


def function_app(bicep: BicepText) -> Resource | None:
    sites = [site for site in bicep.resources("Microsoft.Web/sites") if "functionapp" in (site.property("kind") or "")]
    return sites[0] if len(sites) == 1 else None


def app_settings(bicep: BicepText) -> list[tuple[str, str]]:
    """(name, value expression) for each entry of the Function App's siteConfig.appSettings."""
    site = function_app(bicep)
    array = None if site is None else BicepText(site.body).block_after(r"(?<![\w.])appSettings:\s*\[")
    settings = []
    for item in top_level_objects(array or "[]"):
        name = re.search(r"(?<![\w.])name:[ \t]*'([^']+)'", item)
        value = re.search(r"(?<![\w.])value:[ \t]*(.+?)[ \t]*$", item, re.M)
        settings.append((name.group(1) if name else "<unnamed>", value.group(1) if value else ""))
    return settings


def field_type(field: str) -> object:
    """A Settings field's type with its constraints (ge, le), for validating one value."""
    info = Settings.model_fields[field]
    return typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation


# --- the detectors ------------------------------------------------------------------------


def queue_problems(text: str, *, queues: tuple[str, ...] = QUEUES, max_delivery: int = MAX_DELIVERY_COUNT) -> list[str]:
    bicep = BicepText(text)
    problems, declared = [], []
    for resource in bicep.resources("Microsoft.ServiceBus/namespaces/queues"):
        names = declared_names(bicep, resource)
        declared += names
        expected = {
            "maxDeliveryCount": str(max_delivery),
            "deadLetteringOnMessageExpiration": "true",
            "requiresDuplicateDetection": "true",
        }
        for key, value in expected.items():
            if resource.property(key) != value:
                problems.append(f"queues {names}: {key} is {resource.property(key)}, the code expects {value}")
        for key in ("duplicateDetectionHistoryTimeWindow", "lockDuration"):
            if resource.property(key) is None:
                problems.append(f"queues {names}: no {key}")
    problems += _set_problems("queue", expected=queues, declared=declared)
    return problems


def container_problems(
    text: str, *, containers: tuple[DocumentContainer, ...] = DOCUMENT_CONTAINERS, database: str | None = None
) -> list[str]:
    bicep = BicepText(text)
    database = database or Settings.model_fields["cosmos_database"].default
    problems, declared, names = [], {}, []
    databases = bicep.resources("Microsoft.DocumentDB/databaseAccounts/sqlDatabases")
    if [bicep.literal(db.property("name")) for db in databases] != [database]:
        problems.append(f"the Cosmos DB account should declare the one SQL database {database!r}")
    for resource in bicep.resources("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"):
        if resource.loop_source is not None:
            # [for c in list: {... paths: [c.partitionKeyPath] ...}]: the paths are in the list
            key_field = re.search(rf"paths:\s*\[\s*{resource.loop_item}\.(\w+)\s*\]", resource.body)
            for item in bicep.object_array(resource.loop_source):
                names.append(item.get("name", "<unnamed>"))
                declared[names[-1]] = item.get(key_field.group(1)) if key_field else None
        else:
            paths = re.search(r"paths:\s*\[\s*('[^']*')\s*\]", resource.body)
            for name in declared_names(bicep, resource):
                names.append(name)
                declared[name] = bicep.literal(paths.group(1)) if paths else None
    for container in containers:
        path = declared.get(container.name)
        if container.name in declared and path != f"/{container.partition_key}":
            problems.append(
                f"container {container.name!r}: partition key {path}, the code uses /{container.partition_key}"
            )
    problems += _set_problems("container", expected=[c.name for c in containers], declared=names)
    return problems


def blob_problems(text: str, *, containers: tuple[str, ...] = BLOB_CONTAINERS) -> list[str]:
    bicep = BicepText(text)
    problems, declared = [], []
    for resource in bicep.resources("Microsoft.Storage/storageAccounts/blobServices/containers"):
        declared += declared_names(bicep, resource)
        if resource.property("publicAccess") != "'None'":
            problems.append(f"blob containers {declared_names(bicep, resource)} must not allow public access")
    problems += _set_problems("blob container", expected=containers, declared=declared)
    return problems


def setting_problems(text: str, *, settings: tuple[str, ...] = SETTING_NAMES) -> list[str]:
    names = [name for name, _ in app_settings(BicepText(text))]
    expected = (*settings, *PLATFORM_SETTINGS)
    return _set_problems("app setting", expected=expected, declared=names, user="the code or the platform")


def function_app_problems(text: str) -> list[str]:
    bicep = BicepText(text)
    site = function_app(bicep)
    if site is None:
        return ["no single Microsoft.Web/sites resource of kind functionapp"]
    problems = []
    if "container" not in (site.property("kind") or "") or "linux" not in (site.property("kind") or ""):
        problems.append(f"the function app kind is {site.property('kind')}, not a Linux container app")
    if not (site.property("linuxFxVersion") or "").startswith("'DOCKER|"):
        problems.append(f"linuxFxVersion is {site.property('linuxFxVersion')}, not our DOCKER image")
    identity = re.search(r"(?<![\w.])identity:\s*\{[^}]*type:\s*'([^']*)'", site.body)
    if identity is None or identity.group(1) != "SystemAssigned":
        problems.append("the function app has no system-assigned identity")
    return problems


def _set_problems(
    kind: str, *, expected: typing.Iterable[str], declared: list[str], user: str = "the code"
) -> list[str]:
    expected = list(expected)
    problems = [f"{kind} {name!r} is used by the code but not declared" for name in expected if name not in declared]
    problems += [f"{kind} {name!r} is declared but not used by {user}" for name in declared if name not in expected]
    problems += [f"{kind} {name!r} is declared twice" for name in sorted(set(declared)) if declared.count(name) > 1]
    return problems


# --- the template against the code ----------------------------------------------------------


@pytest.fixture(scope="module")
def main_text() -> str:
    return MAIN_BICEP.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def main(main_text: str) -> BicepText:
    return BicepText(main_text)


def test_every_queue_is_declared_with_the_codes_delivery_count_and_dead_lettering(main_text):
    assert queue_problems(main_text) == []


def test_every_document_container_is_declared_with_its_partition_key(main_text):
    assert container_problems(main_text) == []


def test_every_blob_container_is_declared_private(main_text):
    assert blob_problems(main_text) == []


def test_the_app_settings_are_exactly_the_settings_the_code_and_platform_read(main_text):
    assert setting_problems(main_text) == []


def test_the_function_app_runs_our_container_with_a_system_assigned_identity(main_text):
    assert function_app_problems(main_text) == []


def test_the_triggers_and_the_host_connect_with_the_identity(main):
    settings = dict(app_settings(main))
    assert f"{CONNECTION}__fullyQualifiedNamespace" in settings
    assert "AzureWebJobsStorage__accountName" in settings
    assert not {CONNECTION, "AzureWebJobsStorage"} & set(settings)  # no connection strings
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "'python'"
    assert settings["FUNCTIONS_EXTENSION_VERSION"] == "'~4'"


def test_production_uses_the_azure_backends(main):
    settings = dict(app_settings(main))
    assert {name: main.literal(settings[name]) for name in PRODUCTION_CHOICES} == PRODUCTION_CHOICES


def test_secrets_come_from_key_vault_and_keys_are_left_to_the_identity(main):
    settings = dict(app_settings(main))
    secrets = {secret.symbol: secret for secret in main.resources("Microsoft.KeyVault/vaults/secrets")}
    secure_params = {param.name for param in main.params() if param.secure}
    for name in KEY_VAULT_SETTINGS:
        reference = main.variable(settings[name]) or settings[name]
        secret = re.fullmatch(r"'@Microsoft\.KeyVault\(SecretUri=\$\{(\w+)\.properties\.secretUri\}\)'", reference)
        assert secret is not None and secret.group(1) in secrets, name
        assert secrets[secret.group(1)].property("value") in secure_params, name  # never a literal in the template
    # any other secret-bearing setting stays empty: the identity replaces it
    secretish = [n for n in SETTING_NAMES if re.search(r"KEY|SECRET|PASSWORD|CONNECTION_STRING", n)]
    assert {n: main.literal(settings[n]) for n in secretish if n not in KEY_VAULT_SETTINGS} == {
        n: "" for n in secretish if n not in KEY_VAULT_SETTINGS
    }


def test_every_literal_setting_value_is_valid_for_its_field(main):
    checked = 0
    for name, expression in app_settings(main):
        value = main.literal(expression)
        field = name.removeprefix(ENV_PREFIX).lower()
        if not name.startswith(ENV_PREFIX) or value in (None, "") or field not in Settings.model_fields:
            continue
        TypeAdapter(field_type(field)).validate_python(value)
        checked += 1
    assert checked >= len(PRODUCTION_CHOICES)  # the loop did look at the settings


def test_the_cosmos_database_is_the_one_the_settings_name(main):
    settings = dict(app_settings(main))
    assert main.literal(settings["GRIDLEDGER_COSMOS_DATABASE"]) == Settings.model_fields["cosmos_database"].default


def test_every_parameter_says_whether_it_is_required_and_secrets_have_no_default():
    for path in (MAIN_BICEP, ROLES_BICEP):
        params = BicepText(path.read_text(encoding="utf-8")).params()
        assert params, path
        for param in params:
            where = f"{path.name}: param {param.name}"
            assert param.description and re.match(r"(Required|Optional)\. ", param.description), where
            assert param.description.startswith("Required") == (param.default is None), where
            assert not (param.secure and param.default is not None), where


def test_the_identity_gets_each_role_it_needs_named_by_scope_principal_and_role(main):
    roles = BicepText(ROLES_BICEP.read_text(encoding="utf-8"))
    module = re.search(r"module\s+\w+\s+'modules/app-roles\.bicep'", main.code)
    assert module is not None
    assert re.search(r"principalId:\s*functionApp\.identity\.principalId", main.code)
    for role, role_id in ROLE_IDS.items():
        assert role_id in roles.code, role
    assignments = roles.resources("Microsoft.Authorization/roleAssignments") + roles.resources(
        "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"
    )
    assert len(assignments) == len(ROLE_IDS) + 1  # plus Monitoring Metrics Publisher for telemetry
    for assignment in assignments:
        name = re.fullmatch(r"guid\((\w+)\.id, principalId, [\w.]+\)", assignment.property("name") or "")
        assert name is not None, assignment.symbol
        scope = assignment.property("scope")
        assert scope in (name.group(1), f"{name.group(1)}.id"), assignment.symbol


def test_the_storage_cosmos_and_service_bus_refuse_keys(main):
    storage = main.resources("Microsoft.Storage/storageAccounts")[0]
    assert storage.property("allowSharedKeyAccess") == "false"
    assert storage.property("allowBlobPublicAccess") == "false"
    assert storage.property("minimumTlsVersion") == "'TLS1_2'"
    cosmos = main.resources("Microsoft.DocumentDB/databaseAccounts")[0]
    assert cosmos.property("disableLocalAuth") == "true"
    assert cosmos.property("defaultConsistencyLevel") == "'Session'"
    service_bus = main.resources("Microsoft.ServiceBus/namespaces")[0]
    assert service_bus.property("disableLocalAuth") == "true"
    assert main.resources("Microsoft.KeyVault/vaults")[0].property("enableRbacAuthorization") == "true"


# --- the detectors can fail ----------------------------------------------------------------


def _without_line(text: str, line: str) -> str:
    assert text.count(line + "\n") == 1, f"the template no longer has exactly one {line!r}"
    return text.replace(line + "\n", "")


def _replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the template no longer has exactly one {old!r}"
    return text.replace(old, new)


def test_a_queue_missing_from_the_template_is_reported(main_text):
    broken = _without_line(main_text, "  'stock-event'")
    assert queue_problems(broken) == ["queue 'stock-event' is used by the code but not declared"]


def test_a_queue_added_to_the_code_but_not_the_template_is_reported(main_text):
    assert queue_problems(main_text, queues=(*QUEUES, "refund-requested")) == [
        "queue 'refund-requested' is used by the code but not declared"
    ]


def test_a_container_added_to_the_code_but_not_the_template_is_reported(main_text):
    added = DocumentContainer("refunds", "accountId")
    assert container_problems(main_text, containers=(*DOCUMENT_CONTAINERS, added)) == [
        "container 'refunds' is used by the code but not declared"
    ]


def test_a_setting_added_to_the_code_but_not_the_template_is_reported(main_text):
    assert setting_problems(main_text, settings=(*SETTING_NAMES, "GRIDLEDGER_REFUND_LIMIT")) == [
        "app setting 'GRIDLEDGER_REFUND_LIMIT' is used by the code but not declared"
    ]


@pytest.mark.parametrize(
    ("detector", "old", "new", "expected"),
    [
        (queue_problems, "maxDeliveryCount: 5", "maxDeliveryCount: 10", "maxDeliveryCount is 10"),
        (queue_problems, "deadLetteringOnMessageExpiration: true", "", "deadLetteringOnMessageExpiration is None"),
        (queue_problems, "requiresDuplicateDetection: true", "requiresDuplicateDetection: false", "is false"),
        (queue_problems, "lockDuration: 'PT1M'", "", "no lockDuration"),
        (
            queue_problems,
            "  'invoice-render'\n",
            "  'invoice-render'\n  'legacy-queue'\n",
            "'legacy-queue' is declared",
        ),
        (container_problems, "'/warehouseId'", "'/id'", "'stock-events': partition key /id"),
        (container_problems, "name: 'numbering'", "name: 'number-series'", "'numbering' is used"),
        (container_problems, "var cosmosDatabaseName = 'gridledger'", "var cosmosDatabaseName = 'gl'", "database"),
        (blob_problems, "  'readings-inbox'\n", "", "'readings-inbox' is used by the code but not declared"),
        (blob_problems, "publicAccess: 'None'", "publicAccess: 'Blob'", "must not allow public access"),
        (setting_problems, "'GRIDLEDGER_LOG_LEVEL'", "'GRIDLEDGER_LOGLEVEL'", "'GRIDLEDGER_LOGLEVEL' is declared"),
        (setting_problems, "'GRIDLEDGER_LOG_LEVEL'", "'GRIDLEDGER_LOGLEVEL'", "'GRIDLEDGER_LOG_LEVEL' is used"),
        (setting_problems, "'AzureWebJobsStorage__accountName'", "'AzureWebJobsStorage'", "'AzureWebJobsStorage'"),
        (function_app_problems, "'DOCKER|${", "'PYTHON|3.11${", "not our DOCKER image"),
        (function_app_problems, "type: 'SystemAssigned'", "type: 'None'", "no system-assigned identity"),
        (function_app_problems, "kind: 'functionapp,linux,container'", "kind: 'functionapp,linux'", "not a Linux"),
    ],
)
def test_each_detector_reports_a_broken_template(main_text, detector, old, new, expected):
    problems = detector(_replaced(main_text, old, new))
    assert any(expected in problem for problem in problems), problems


def test_a_commented_out_queue_counts_as_missing(main_text):
    broken = _replaced(main_text, "  'payment-received'\n", "  // 'payment-received'\n")
    assert queue_problems(broken) == ["queue 'payment-received' is used by the code but not declared"]


# --- local.settings.example.json ----------------------------------------------------------


@pytest.fixture(scope="module")
def local_values() -> dict[str, str]:
    document = json.loads((ROOT / "local.settings.example.json").read_text(encoding="utf-8"))
    assert document["IsEncrypted"] is False
    return document["Values"]


def test_the_local_example_lists_every_setting_and_nothing_else(local_values):
    assert set(local_values) == set(SETTING_NAMES) | LOCAL_PLATFORM_SETTINGS
    assert all(isinstance(value, str) for value in local_values.values())  # Core Tools wants strings
    assert local_values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert local_values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert local_values[CONNECTION].startswith("Endpoint=sb://")


def test_the_local_example_loads_as_the_embedded_defaults(local_values, monkeypatch):
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    defaults = load_settings()
    for name, value in local_values.items():
        monkeypatch.setenv(name, value)
    loaded = load_settings()

    def plain(value: object) -> object:
        value = value.get_secret_value() if isinstance(value, SecretStr) else value
        return "" if value is None else value

    paths = {"sqlite_path": "sqlite_file", "blob_root": "blob_folder", "mail_folder": "mail_dir"}
    for field in Settings.model_fields:
        if field in paths:
            assert getattr(loaded, paths[field]) == getattr(defaults, paths[field]), field
        else:
            assert plain(getattr(loaded, field)) == plain(getattr(defaults, field)), field


def test_a_broken_local_value_would_fail_to_load(local_values, monkeypatch):
    for name, value in local_values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GRIDLEDGER_BUS", "servicebus")  # as if the example chose Service Bus without a namespace
    with pytest.raises(SettingsError, match="GRIDLEDGER_SERVICEBUS_CONNECTION_STRING"):
        load_settings()


# --- the image ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)  # continuation lines into one instruction
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_builds_on_the_python_311_functions_image(dockerfile):
    assert [line for line in dockerfile if line.upper().startswith("FROM ")] == [f"FROM {FUNCTIONS_PYTHON_IMAGE}"]


def test_the_image_installs_what_weasyprint_needs(dockerfile):
    installs = " ".join(line for line in dockerfile if "apt-get install" in line).split()
    assert [package for package in WEASYPRINT_SYSTEM_PACKAGES if package not in installs] == []
    assert any(font.startswith("fonts-dejavu") for font in installs)  # the invoice stylesheet's font


def test_the_image_holds_the_app_and_its_pinned_requirements(dockerfile):
    assert any(re.search(r"pip install .*-r \S*requirements\.txt", line) for line in dockerfile)
    copied = " ".join(line for line in dockerfile if line.startswith("COPY "))
    for part in ("host.json", "function_app.py", "functions", "shared"):
        assert re.search(rf"(?<![\w/.]){re.escape(part)}(?![\w.])", copied), part
    assert "ENV AzureWebJobsScriptRoot=/home/site/wwwroot" in " ".join(dockerfile)


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", "node_modules", "var", "tests", ".git", "local.settings.json"} <= ignored


def test_the_validation_helper_rejects_a_bad_literal():
    # the literal-value check above relies on this raising for a wrong backend name
    with pytest.raises(ValidationError):
        TypeAdapter(field_type("bus")).validate_python("ServiceBus")
    with pytest.raises(ValidationError):
        TypeAdapter(field_type("smtp_port")).validate_python("70000")
