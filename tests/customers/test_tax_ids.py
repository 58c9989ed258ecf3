"""Tax ids through python-stdnum, with the check arithmetic worked by hand for each example."""

from __future__ import annotations

import pytest

from shared.customers.tax_ids import TaxId, parse_tax_id

# ABN 51 824 753 556 (the ATO's published example): subtract 1 from the first digit, weight
# the digits 10,1,3,5,7,9,11,13,15,17,19: 40+1+24+10+28+63+55+39+75+85+114 = 534 = 6 x 89.
# With a last digit of 7 instead the sum is 553, 19 over a multiple of 89.
# NIP 123-456-32-18: weights 6,5,7,2,3,4,5,6,7 on the first nine digits give 118; 118 mod 11 = 8,
# the tenth digit. Ending in 9 it does not add up.
# Organisation number 988 077 917: weights 3,2,7,6,5,4,3,2 give 191; 191 mod 11 = 4; 11 - 4 = 7.


@pytest.mark.parametrize(
    ("scheme", "typed", "compact", "formatted"),
    [
        ("AU-ABN", "51 824 753 556", "51824753556", "51 824 753 556"),
        ("PL-NIP", "123-456-32-18", "1234563218", "123-456-32-18"),
        ("NO-ORGNR", "988077917", "988077917", "988 077 917"),
    ],
)
def test_a_valid_tax_id_is_kept_compact_and_shown_in_the_countrys_grouping(scheme, typed, compact, formatted):
    tax_id = parse_tax_id(scheme, typed)
    assert tax_id == TaxId(scheme, compact)
    assert tax_id.formatted == formatted


@pytest.mark.parametrize(
    ("scheme", "typed"),
    [("AU-ABN", "51 824 753 557"), ("PL-NIP", "1234563219"), ("NO-ORGNR", "988077918")],
)
def test_a_mistyped_check_digit_is_refused_as_such(scheme, typed):
    with pytest.raises(ValueError, match="check digits do not add up"):
        parse_tax_id(scheme, typed)


@pytest.mark.parametrize(
    ("scheme", "typed", "says"),
    [
        ("AU-ABN", "5182475355", "wrong number of digits"),
        ("PL-NIP", "12345632ab", "digits only"),
        ("NO-ORGNR", "", "empty"),
        ("DE-USTID", "123", "unknown tax id scheme"),
    ],
)
def test_malformed_tax_ids_say_what_is_wrong(scheme, typed, says):
    with pytest.raises(ValueError, match=says):
        parse_tax_id(scheme, typed)
