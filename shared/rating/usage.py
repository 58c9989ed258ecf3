"""The consumption one part of a bill sees, by register, in the form each component needs.

A part is local dates ``[start, end)`` of the service point rated by one tariff version.
Interval channels are cut to the intervals starting in the part (from its first local
midnight to its last); register channels give the part its share of the read span's usage
by days (RegisterConsumption.wh_between). Nothing here prices: it only measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from shared.rating.calendar import LocalCalendar, local_calendar, local_midnight_utc
from shared.rating.consumption import IntervalConsumption, RegisterConsumption

Channel = IntervalConsumption | RegisterConsumption


class RatingError(ValueError):
    """The inputs cannot be rated together (the tariff, the period and the consumption disagree)."""


@dataclass
class PartUsage:
    start: date
    end: date
    zone: ZoneInfo  # the service point's: where the period's days begin and end
    tou_zone: ZoneInfo  # where the tariff's hours and months are read
    channels: Mapping[str, Channel]  # by register suffix
    labels: Mapping[str, str]  # how an error names each channel
    _intervals: dict[str, IntervalConsumption] = field(default_factory=dict, repr=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def channel(self, register: str, component_id: str) -> Channel:
        if register not in self.channels:
            have = ", ".join(sorted(self.channels))
            raise RatingError(
                f"component {component_id!r} prices register {register} but the consumption has no {register} "
                f"channel (it has {have}); rating never prices a missing channel at zero"
            )
        return self.channels[register]

    def intervals(self, register: str, component_id: str, need: str) -> IntervalConsumption:
        """The part's intervals of ``register``; ``need`` says why a register read will not do."""
        channel = self.channel(register, component_id)
        if not isinstance(channel, IntervalConsumption):
            raise RatingError(f"component {component_id!r} {need} and needs interval consumption: {self._why(need)}")
        if register not in self._intervals:
            start_utc = local_midnight_utc(self.start, self.zone)
            self._intervals[register] = channel.starting_within(start_utc, local_midnight_utc(self.end, self.zone))
        return self._intervals[register]

    @staticmethod
    def _why(need: str) -> str:
        if "demand" in need:
            return "a register read does not say how fast the energy was used"
        return "a register read does not say when the energy was used"

    def calendar(self, intervals: IntervalConsumption, *, tariff_time: bool) -> LocalCalendar:
        zone = self.tou_zone if tariff_time else self.zone
        return local_calendar(intervals.start, intervals.interval_minutes, len(intervals.wh), zone)

    def energy_wh(self, register: str, component_id: str) -> int:
        """All the active energy of ``register`` in the part."""
        channel = self.channel(register, component_id)
        if isinstance(channel, RegisterConsumption):
            return channel.wh_between(self.start, self.end)
        intervals = self.intervals(register, component_id, "prices energy")
        self.require_unit(intervals, "Wh", register, component_id)
        return int(intervals.wh.sum(dtype="int64"))

    def require_unit(self, intervals: IntervalConsumption, unit: str, register: str, component_id: str) -> None:
        if intervals.unit != unit:
            raise RatingError(
                f"component {component_id!r} needs {unit} but {self.labels.get(register, register)} holds "
                f"{intervals.unit}"
            )
