"""Payment references with check digits, so a payer's typo is refused at the bank or the
biller instead of becoming an unallocated payment.

- Australia, BPAY: the Customer Reference Number with a MOD10V01 check digit (the Luhn
  scheme): 2 to 20 digits including the check digit.
- Norway: the KID (kundeidentifikasjon) with a MOD10 check digit (also Luhn): 2 to 25 digits.
- Poland: utilities give each account its own bank account number (NRB, 26 digits) whose
  two check digits are the IBAN's mod 97; that number is the reference.

Invoicing prints these and payments match on them, so both can import this module.
"""

from __future__ import annotations

from typing import Literal

from stdnum import iban

Country = Literal["AU", "NO", "PL"]

BPAY_CRN_DIGITS = (2, 20)
KID_DIGITS = (2, 25)
NRB_DIGITS = 26


def mod10v1_check_digit(digits: str) -> int:
    """The Luhn check digit for ``digits``: from the rightmost digit leftwards, double every
    other digit starting with the rightmost, add the digits of the products and the
    undoubled digits, and take what brings the sum up to a multiple of 10."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} must be digits only")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


def _with_check_digit(base: str, limits: tuple[int, int], label: str) -> str:
    reference = base + str(mod10v1_check_digit(base))
    low, high = limits
    if not low <= len(reference) <= high:
        raise ValueError(
            f"a {label} has {low} to {high} digits including the check digit; {base!r} gives {len(reference)}"
        )
    return reference


def _checked(reference: str, limits: tuple[int, int], label: str) -> str:
    compact = reference.replace(" ", "")
    if not compact.isascii() or not compact.isdigit():
        raise ValueError(f"{reference!r} is not a {label}: digits only")
    low, high = limits
    if not low <= len(compact) <= high:
        raise ValueError(f"{reference!r} is not a {label}: {low} to {high} digits including the check digit")
    expected = mod10v1_check_digit(compact[:-1])
    if int(compact[-1]) != expected:
        raise ValueError(f"{reference!r} is not a {label}: its check digit should be {expected} (mistyped?)")
    return compact


def bpay_crn(base: str) -> str:
    """A BPAY Customer Reference Number: ``base`` with its MOD10V01 check digit appended."""
    return _with_check_digit(base, BPAY_CRN_DIGITS, "BPAY CRN")


def checked_bpay_crn(crn: str) -> str:
    return _checked(crn, BPAY_CRN_DIGITS, "BPAY CRN")


def kid(base: str) -> str:
    """A Norwegian KID: ``base`` with its MOD10 check digit appended."""
    return _with_check_digit(base, KID_DIGITS, "KID")


def checked_kid(value: str) -> str:
    return _checked(value, KID_DIGITS, "KID (MOD10)")


def checked_nrb(value: str) -> str:
    """A Polish account number (NRB): 26 digits whose first two are the IBAN check digits."""
    compact = value.replace(" ", "")
    if not compact.isascii() or not compact.isdigit() or len(compact) != NRB_DIGITS:
        raise ValueError(f"{value!r} is not a Polish account number (NRB): 26 digits")
    if not iban.is_valid("PL" + compact):
        raise ValueError(f"{value!r} is not a Polish account number (NRB): its check digits do not add up (mistyped?)")
    return compact


def checked_payment_reference(country: str, reference: str) -> str:
    """The reference in compact form, checked by the scheme of the account's country."""
    if country == "AU":
        return checked_bpay_crn(reference)
    if country == "NO":
        return checked_kid(reference)
    if country == "PL":
        return checked_nrb(reference)
    raise ValueError(f"no payment reference scheme for country {country!r}")


def new_payment_reference(country: str, base: str) -> str:
    """A reference made from an account's own digits (AU and NO); Polish NRBs come from the
    bank's range assigned to the utility, so they are never made up here."""
    if country == "AU":
        return bpay_crn(base)
    if country == "NO":
        return kid(base)
    raise ValueError(f"a payment reference for country {country!r} must be given, not generated")
