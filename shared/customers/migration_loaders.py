"""The loaders of one migration run, in the order their files load."""

from __future__ import annotations

from typing import Any

from shared.customers.migration_assets import MeterLoader, ServicePointLoader
from shared.customers.migration_contracts import ContractLoader
from shared.customers.migration_loading import Loader
from shared.customers.migration_parties import AccountLoader, CustomerLoader, OpeningBalanceLoader
from shared.customers.migration_reads import ReadingLoader
from shared.customers.migration_state import RunState


def loaders(state: RunState, tariffs: dict[str, dict[str, Any]]) -> list[Loader]:
    return [
        CustomerLoader(state),
        AccountLoader(state),
        ServicePointLoader(state),
        MeterLoader(state),
        ContractLoader(state, tariffs),
        OpeningBalanceLoader(state),
        ReadingLoader(state),
    ]
