"""The service point: where energy is delivered and metered, named by its market id (an
NMI in Australia, a PPE code in Poland, a metering point id in Norway), with its address,
its IANA time zone (tariffs and billing days are local), its network operator and the
region whose public holidays its tariffs follow.

Billing also reads ``meterKind``, ``meterSerial`` and ``registerId`` from the same
document: the service copies them from the meter installed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.customers import fields
from shared.customers.errors import Checks
from shared.customers.metering_ids import MeteringPointId, MeteringScheme, parse_metering_point_id

EDITABLE = frozenset({"address", "timeZone", "networkOperator", "region"})


@dataclass(frozen=True)
class ServicePoint:
    service_point_id: str  # the market id without an NMI's checksum: what meter-data files carry
    country: str
    scheme: MeteringScheme
    checksum: int
    address: str  # one line, as printed on the invoice
    time_zone: str
    network_operator: str
    region: str  # ISO 3166 (AU-NSW, PL, NO): whose public holidays apply
    status: Literal["active", "closed"] = "active"

    @property
    def record_id(self) -> str:
        return self.service_point_id

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ServicePoint:
        checks = Checks()
        country = checks.parse("country", lambda: fields.country(doc.get("country")))
        point: MeteringPointId | None = None
        if country is not None:
            point = checks.parse("servicePointId", lambda: parse_metering_point_id(country, doc.get("servicePointId")))
        address = checks.parse("address", lambda: fields.text(doc.get("address"), max_length=300))
        zone = checks.parse("timeZone", lambda: fields.time_zone(doc.get("timeZone"), in_country=country))
        operator = checks.parse("networkOperator", lambda: fields.text(doc.get("networkOperator"), max_length=100))
        region = checks.parse("region", lambda: fields.holiday_region(doc.get("region"), in_country=country))
        status = doc.get("status", "active")
        checks.check(status in ("active", "closed"), "status", "active or closed")
        checks.raise_if_any()
        assert point is not None
        return cls(
            service_point_id=point.value,
            country=country,  # type: ignore[arg-type]
            scheme=point.scheme,
            checksum=point.checksum,
            address=address,  # type: ignore[arg-type]
            time_zone=zone,  # type: ignore[arg-type]
            network_operator=operator,  # type: ignore[arg-type]
            region=region,  # type: ignore[arg-type]
            status=status,
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.service_point_id,
            "servicePointId": self.service_point_id,
            "kind": "servicePoint",
            "country": self.country,
            "idScheme": self.scheme,
            "checksum": self.checksum,
            "address": self.address,
            "timeZone": self.time_zone,
            "networkOperator": self.network_operator,
            "region": self.region,
            "status": self.status,
        }
