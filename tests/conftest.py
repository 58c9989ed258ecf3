"""Test-wide fixtures. The local servers (Azurite, the Cosmos DB REST server, an SMTP
server) are started by these plugins on first use and stopped when the session ends, so
`scripts/test` needs nothing installed by hand beyond what it installs itself."""

pytest_plugins = [
    "tests.support.cosmos_server",
    "tests.support.azurite",
    "tests.support.smtp_server",
]
