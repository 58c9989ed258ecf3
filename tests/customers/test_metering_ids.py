"""NMI checksums (AEMO's National Metering Identifier Procedure) and GS1 check digits for
Polish PPE codes and Norwegian metering point ids."""

from __future__ import annotations

import pytest

from shared.customers.metering_ids import (
    MeteringPointId,
    gs1_check_digit,
    nmi_checksum,
    parse_metering_point_id,
    parse_nmi,
    parse_norwegian_metering_point,
    parse_ppe,
)


def test_the_nmi_checksum_worked_by_hand():
    # 4123456789 in ASCII: 52 49 50 51 52 53 54 55 56 57. From the right, every other value is
    # doubled, starting with the last: 114 56 110 54 106 52 102 50 98 52. Their digit sums:
    # 6 + 11 + 2 + 9 + 7 + 7 + 3 + 5 + 17 + 7 = 74, and 6 brings 74 up to 80.
    assert nmi_checksum("4123456789") == 6


@pytest.mark.parametrize(
    ("nmi", "checksum"),
    # Examples from AEMO's procedure, letters included.
    [("2001985732", 8), ("QAAAVZZZZZ", 3), ("VKTS876150", 3)],
)
def test_the_nmi_checksum_matches_aemos_examples(nmi, checksum):
    assert nmi_checksum(nmi) == checksum


def test_an_nmi_is_accepted_with_or_without_its_checksum_and_kept_without():
    assert parse_nmi("4123456789") == MeteringPointId("NMI", "4123456789", 6)
    assert parse_nmi("41234567896") == MeteringPointId("NMI", "4123456789", 6)
    assert parse_nmi(" qaaavzzzzz3 ") == MeteringPointId("NMI", "QAAAVZZZZZ", 3)


def test_a_wrong_nmi_checksum_is_refused_naming_the_right_one():
    with pytest.raises(ValueError, match="AEMO checksum of 4123456789 is 6"):
        parse_nmi("41234567891")


@pytest.mark.parametrize("bad", ["412345678", "412345678901", "41234I6789", "41234O6789", "4123-56789"])
def test_an_nmi_has_ten_characters_without_i_or_o(bad):
    with pytest.raises(ValueError, match="not an NMI"):
        parse_nmi(bad)


def test_gs1_check_digits_worked_by_hand():
    # 70705750001234567, weights 3,1 from the right: 7x3 6 5x3 4 3x3 2 1x3 0 0 0 5x3 7 5x3 0 7x3 0 7x3
    # = 21+6+15+4+9+2+3+0+0+0+15+7+15+0+21+0+21 = 139 -> 1.
    assert gs1_check_digit("70705750001234567") == 1
    # 59050880000000001 from the right: 1x3, nine zeros, 8x3, 8x1, 0, 5x1, 0, 9x1, 5x3
    # = 3 + 24 + 8 + 5 + 9 + 15 = 64 -> 6.
    digits = "59050880000000001"
    assert gs1_check_digit(digits) == 6


def test_a_norwegian_metering_point_id_is_18_digits_from_7070575000_with_a_gs1_check_digit():
    assert parse_norwegian_metering_point("707057500012345671").checksum == 1
    with pytest.raises(ValueError, match="GS1 check digit should be 1"):
        parse_norwegian_metering_point("707057500012345672")
    with pytest.raises(ValueError, match="starts 7070575000"):
        parse_norwegian_metering_point("707057400012345671")
    with pytest.raises(ValueError, match="18 digits"):
        parse_norwegian_metering_point("70705750001234567")


def test_a_polish_ppe_is_a_gsrn_with_the_polish_prefix():
    assert parse_ppe("590508800000000016").value == "590508800000000016"
    with pytest.raises(ValueError, match="check digit should be 6"):
        parse_ppe("590508800000000017")
    with pytest.raises(ValueError, match="starts 590"):
        parse_ppe("707057500012345671")


def test_the_country_picks_the_scheme():
    assert parse_metering_point_id("AU", "4123456789").scheme == "NMI"
    assert parse_metering_point_id("PL", "590508800000000016").scheme == "PPE"
    assert parse_metering_point_id("NO", "707057500012345671").scheme == "NO-MPID"
    with pytest.raises(ValueError, match="not an NMI"):
        parse_metering_point_id("AU", "707057500012345671")
