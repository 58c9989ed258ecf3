"""Payment references: the check digits worked by hand, then the schemes' length rules."""

from __future__ import annotations

import pytest

from shared.customers.payment_reference import (
    bpay_crn,
    checked_bpay_crn,
    checked_kid,
    checked_nrb,
    checked_payment_reference,
    kid,
    mod10v1_check_digit,
    new_payment_reference,
)


def test_the_mod10v1_check_digit_doubles_every_other_digit_from_the_right():
    # 7100001: from the right 1x2=2, 0, 0x2=0, 0, 0x2=0, 1, 7x2=14 -> 1+4; sum 2+1+5 = 8 -> 2.
    assert mod10v1_check_digit("7100001") == 2
    # 100001: 1x2=2, 0, 0, 0, 0, 1 -> 3 -> 7.
    assert mod10v1_check_digit("100001") == 7
    # 1234567: 7x2=14 -> 5, 6, 5x2=10 -> 1, 4, 3x2=6, 2, 1x2=2; sum 26 -> 4.
    assert mod10v1_check_digit("1234567") == 4
    # A sum already a multiple of 10 needs 0, not 10: 5x2=10 -> 1, 9 -> sum 10.
    assert mod10v1_check_digit("95") == 0


def test_a_bpay_crn_is_its_base_with_the_check_digit_and_is_checked_back():
    assert bpay_crn("7100001") == "71000012"
    assert checked_bpay_crn("7100 0012") == "71000012"
    with pytest.raises(ValueError, match="check digit should be 2"):
        checked_bpay_crn("71000019")


def test_a_bpay_crn_has_two_to_twenty_digits():
    with pytest.raises(ValueError, match="2 to 20 digits"):
        checked_bpay_crn("7")
    with pytest.raises(ValueError, match="2 to 20 digits"):
        bpay_crn("1" * 20)
    with pytest.raises(ValueError, match="digits only"):
        checked_bpay_crn("7100-0012")


def test_a_norwegian_kid_uses_mod10_and_allows_up_to_25_digits():
    assert kid("1234567") == "12345674"
    assert checked_kid("12345674") == "12345674"
    with pytest.raises(ValueError, match="check digit should be 4"):
        checked_kid("12345675")
    assert len(kid("1" * 24)) == 25
    with pytest.raises(ValueError, match="2 to 25 digits"):
        kid("1" * 25)


def test_a_polish_account_number_is_checked_by_its_iban_mod_97():
    nrb = "61109010140000071219812874"
    # IBAN check: the number after the check digits, then P=25 L=21, then the check digits, mod 97 is 1.
    assert int(nrb[2:] + "2521" + nrb[:2]) % 97 == 1
    assert checked_nrb("61 1090 1014 0000 0712 1981 2874") == nrb
    with pytest.raises(ValueError, match="check digits do not add up"):
        checked_nrb("61109010140000071219812875")
    with pytest.raises(ValueError, match="26 digits"):
        checked_nrb("6110901014")


def test_the_account_country_picks_the_scheme():
    assert checked_payment_reference("AU", "71000012") == "71000012"
    assert checked_payment_reference("NO", "12345674") == "12345674"
    with pytest.raises(ValueError, match="no payment reference scheme"):
        checked_payment_reference("DE", "12345674")
    assert new_payment_reference("AU", "100001") == "1000017"
    with pytest.raises(ValueError, match="must be given"):
        new_payment_reference("PL", "100001")
