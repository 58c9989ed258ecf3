"""The invoice's language: every fixed word per locale, how the locale writes dates, numbers and
money (babel), and what each tax jurisdiction calls things.

Two separate choices meet on the page:
- the **locale** is the customer's language (en-AU, pl-PL, nb-NO): the words, how dates and
  numbers are written, and the plural of a unit;
- the **jurisdiction** is the supplier's tax system, known from the invoice's currency: the tax's
  name (GST, VAT, MVA), the tax-id label (ABN, NIP, Org.nr), what the meter point is called and
  how the bill is paid (BPAY, Polish bank transfer, Norwegian KID).
A Polish-speaking customer in Sydney therefore gets an Australian tax invoice in Polish.

Messages are ``str.format`` patterns; ``{tax}`` is always the jurisdiction's tax name. Keys that
end in ``.AU``/``.PL``/``.NO`` differ by jurisdiction as well as by language. Every locale has
exactly the same keys (a test holds them to it), so a missing translation fails in tests, not on
a customer's bill.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from shared.money import Money
from shared.rating.lines import ChargeLine


class UnsupportedLocale(ValueError):
    pass


class UnsupportedJurisdiction(ValueError):
    pass


@dataclass(frozen=True)
class Jurisdiction:
    code: str  # ISO 3166 country of the supplier's tax registration
    currency: str
    tax_name: str  # as printed, untranslated: it is the tax's name
    tax_id_label: str
    tax_id_suffix: str  # Norway prints "MVA" after a VAT-registered seller's Org.nr
    service_point_label: str  # the meter point's identifier
    shows_supply_date: bool  # a Polish VAT invoice states the date of supply


JURISDICTIONS: Mapping[str, Jurisdiction] = {
    "AUD": Jurisdiction("AU", "AUD", "GST", "ABN", "", "NMI", shows_supply_date=False),
    "PLN": Jurisdiction("PL", "PLN", "VAT", "NIP", "", "PPE", shows_supply_date=True),
    "NOK": Jurisdiction("NO", "NOK", "MVA", "Org.nr", "MVA", "Målepunkt-ID", shows_supply_date=False),
}


def jurisdiction_for(currency: str) -> Jurisdiction:
    try:
        return JURISDICTIONS[currency]
    except KeyError:
        known = ", ".join(f"{j.currency} ({j.code})" for j in JURISDICTIONS.values())
        raise UnsupportedJurisdiction(f"no invoice layout for currency {currency!r}; known: {known}") from None


@dataclass(frozen=True)
class InvoiceLocale:
    tag: str  # BCP 47, as stored on the customer: "pl-PL"
    babel: str  # the same for babel: "pl_PL"
    date_format: str  # babel's name for the date style invoices in this country use
    messages: Mapping[str, str]
    # unit -> CLDR plural category -> word; units not listed (kWh, kW) print as they are
    units: Mapping[str, Mapping[str, str]]

    def text(self, key: str, jurisdiction: Jurisdiction, **values: str) -> str:
        try:
            pattern = self.messages[key]
        except KeyError:
            raise KeyError(f"invoice text {key!r} is missing for {self.tag}") from None
        return pattern.format(tax=jurisdiction.tax_name, **values)


EN_AU = InvoiceLocale(
    tag="en-AU",
    babel="en_AU",
    date_format="medium",  # 2 Nov 2026
    messages={
        "title.AU": "Tax invoice",
        "title.PL": "VAT invoice",
        "title.NO": "Invoice",
        "invoice_number": "Invoice number",
        "issue_date": "Issue date",
        "supply_date": "Date of supply",
        "account_number": "Account number",
        "seller": "Supplier",
        "buyer": "Customer",
        "amount_due": "Amount due",
        "pay_by": "Please pay by",
        "no_payment": "No payment needed",
        "total_includes": "Total of {total} includes {tax} of {amount}",
        "billing_period": "Billing period",
        "period_range": "{start} to {end}",
        "supply_address": "Supply address",
        "your_charges": "Your charges",
        "col_description": "Description",
        "col_quantity": "Quantity",
        "col_rate": "Rate ex {tax}",
        "col_tax_rate": "{tax} rate",
        "col_amount": "Amount ex {tax}",
        "tax_exempt": "{tax}-free",
        "tax_summary": "{tax} summary",
        "col_tax_base": "Value ex {tax}",
        "col_tax": "{tax}",
        "col_gross": "Value inc {tax}",
        "subtotal": "Subtotal ex {tax}",
        "tax_total": "Total {tax}",
        "total": "Total inc {tax}",
        "paid": "Paid",
        "amount_due_by": "Amount due by {date}",
        "your_usage": "Your usage",
        "days_in_period": "Days in period",
        "energy_used": "Energy used",
        "solar_exported": "Solar exported",
        "average_daily_use": "Average daily use",
        "average_daily_cost": "Average daily cost",
        "same_period_last_year": "Same period last year",
        "usage_history": "Your electricity use over the last {count} periods",
        "usage_history_one": "Your electricity use this period",
        "this_period": "This period",
        "how_to_pay": "How to pay",
        "questions": "Questions about this bill?",
        "contact": "Contact {supplier} and quote account number {account}.",
        "contact_email": "Contact {supplier} at {email} and quote account number {account}.",
        "payment_slip": "Payment slip",
        "slip_customer": "Customer",
        "due_date": "Due date",
        "reference.AU": "Payment reference",
        "reference.PL": "Transfer title",
        "reference.NO": "KID",
        "pay_heading.AU": "BPAY or bank transfer",
        "pay_heading.PL": "Bank transfer",
        "pay_heading.NO": "Bank transfer",
        "pay_text.AU": "Quote the payment reference with every payment so that it reaches this account. "
        "For BPAY, contact your bank to pay from your cheque, savings or transaction account.",
        "pay_text.PL": "Quote the transfer title so that the payment reaches this account.",
        "pay_text.NO": "Always quote the KID number when you pay, so that the payment is matched to this invoice.",
        "biller_code": "Biller code",
        "bank_account": "Account number",
        "page": "Page",
        "page_of": "of",
        "footer_account": "Account",
    },
    units={"day": {"one": "day", "other": "days"}, "month": {"one": "month", "other": "months"}},
)

PL_PL = InvoiceLocale(
    tag="pl-PL",
    babel="pl_PL",
    date_format="short",  # 2.11.2026
    messages={
        "title.AU": "Faktura (Tax invoice)",
        "title.PL": "Faktura VAT",
        "title.NO": "Faktura",
        "invoice_number": "Numer faktury",
        "issue_date": "Data wystawienia",
        "supply_date": "Data sprzedaży",
        "account_number": "Numer klienta",
        "seller": "Sprzedawca",
        "buyer": "Nabywca",
        "amount_due": "Do zapłaty",
        "pay_by": "Termin płatności",
        "no_payment": "Brak należności do zapłaty",
        "total_includes": "Wartość brutto {total}, w tym {tax} {amount}",
        "billing_period": "Okres rozliczeniowy",
        "period_range": "{start} – {end}",
        "supply_address": "Adres punktu poboru",
        "your_charges": "Rozliczenie",
        "col_description": "Nazwa towaru lub usługi",
        "col_quantity": "Ilość",
        "col_rate": "Cena jedn. netto",
        "col_tax_rate": "Stawka {tax}",
        "col_amount": "Wartość netto",
        "tax_exempt": "zw.",
        "tax_summary": "Zestawienie według stawek {tax}",
        "col_tax_base": "Wartość netto",
        "col_tax": "Kwota {tax}",
        "col_gross": "Wartość brutto",
        "subtotal": "Razem netto",
        "tax_total": "Razem {tax}",
        "total": "Razem brutto",
        "paid": "Zapłacono",
        "amount_due_by": "Do zapłaty do {date}",
        "your_usage": "Twoje zużycie",
        "days_in_period": "Liczba dni",
        "energy_used": "Zużycie energii",
        "solar_exported": "Energia oddana do sieci",
        "average_daily_use": "Średnie zużycie dzienne",
        "average_daily_cost": "Średni koszt dzienny",
        "same_period_last_year": "Ten sam okres rok temu",
        "usage_history": "Zużycie energii w ostatnich {count} okresach rozliczeniowych",
        "usage_history_one": "Zużycie energii w tym okresie rozliczeniowym",
        "this_period": "Bieżący okres",
        "how_to_pay": "Sposób zapłaty",
        "questions": "Pytania dotyczące faktury?",
        "contact": "Kontakt: {supplier}. Prosimy podać numer klienta {account}.",
        "contact_email": "Kontakt: {supplier}, {email}. Prosimy podać numer klienta {account}.",
        "payment_slip": "Dane do przelewu",
        "slip_customer": "Nabywca",
        "due_date": "Termin płatności",
        "reference.AU": "Numer referencyjny",
        "reference.PL": "Tytuł przelewu",
        "reference.NO": "KID",
        "pay_heading.AU": "BPAY lub przelew",
        "pay_heading.PL": "Forma płatności: przelew",
        "pay_heading.NO": "Przelew bankowy",
        "pay_text.AU": "Przy każdej płatności prosimy podać numer referencyjny, aby wpłata trafiła na to konto.",
        "pay_text.PL": "Prosimy wpisać podany tytuł przelewu, aby wpłata została przypisana do tej faktury.",
        "pay_text.NO": "Przy płatności prosimy zawsze podać numer KID.",
        "biller_code": "Kod odbiorcy BPAY",
        "bank_account": "Numer rachunku",
        "page": "Strona",
        "page_of": "z",
        "footer_account": "Klient",
    },
    units={
        "day": {"one": "dzień", "few": "dni", "many": "dni", "other": "dnia"},
        "month": {"one": "miesiąc", "few": "miesiące", "many": "miesięcy", "other": "miesiąca"},
    },
)

NB_NO = InvoiceLocale(
    tag="nb-NO",
    babel="nb_NO",
    date_format="short",  # 02.11.2026
    messages={
        "title.AU": "Faktura (Tax invoice)",
        "title.PL": "Faktura (Faktura VAT)",
        "title.NO": "Faktura",
        "invoice_number": "Fakturanummer",
        "issue_date": "Fakturadato",
        "supply_date": "Leveringsdato",
        "account_number": "Kundenummer",
        "seller": "Leverandør",
        "buyer": "Kunde",
        "amount_due": "Å betale",
        "pay_by": "Forfallsdato",
        "no_payment": "Ingenting å betale",
        "total_includes": "Totalt {total}, herav {tax} {amount}",
        "billing_period": "Avregningsperiode",
        "period_range": "{start}–{end}",
        "supply_address": "Anleggsadresse",
        "your_charges": "Spesifikasjon",
        "col_description": "Beskrivelse",
        "col_quantity": "Antall",
        "col_rate": "Pris eks. {tax}",
        "col_tax_rate": "{tax}-sats",
        "col_amount": "Beløp eks. {tax}",
        "tax_exempt": "fritatt",
        "tax_summary": "Spesifikasjon av {tax}",
        "col_tax_base": "Grunnlag",
        "col_tax": "{tax}",
        "col_gross": "Sum inkl. {tax}",
        "subtotal": "Sum eks. {tax}",
        "tax_total": "Sum {tax}",
        "total": "Totalt inkl. {tax}",
        "paid": "Betalt",
        "amount_due_by": "Å betale innen {date}",
        "your_usage": "Ditt forbruk",
        "days_in_period": "Antall dager",
        "energy_used": "Forbruk",
        "solar_exported": "Solstrøm levert til nettet",
        "average_daily_use": "Snittforbruk per dag",
        "average_daily_cost": "Snittkostnad per dag",
        "same_period_last_year": "Samme periode i fjor",
        "usage_history": "Strømforbruket ditt de siste {count} periodene",
        "usage_history_one": "Strømforbruket ditt denne perioden",
        "this_period": "Denne perioden",
        "how_to_pay": "Betalingsinformasjon",
        "questions": "Spørsmål om fakturaen?",
        "contact": "Kontakt {supplier} og oppgi kundenummer {account}.",
        "contact_email": "Kontakt {supplier} på {email} og oppgi kundenummer {account}.",
        "payment_slip": "Giro",
        "slip_customer": "Betalt av",
        "due_date": "Forfallsdato",
        "reference.AU": "Betalingsreferanse",
        "reference.PL": "Betalingsreferanse",
        "reference.NO": "KID",
        "pay_heading.AU": "BPAY eller bankoverføring",
        "pay_heading.PL": "Bankoverføring",
        "pay_heading.NO": "Betaling til konto",
        "pay_text.AU": "Oppgi betalingsreferansen ved hver betaling, slik at den blir registrert på riktig kunde.",
        "pay_text.PL": "Oppgi betalingsreferansen, slik at innbetalingen blir registrert på riktig faktura.",
        "pay_text.NO": "Bruk alltid KID-nummeret når du betaler, så blir innbetalingen registrert på riktig faktura.",
        "biller_code": "BPAY biller code",
        "bank_account": "Kontonummer",
        "page": "Side",
        "page_of": "av",
        "footer_account": "Kunde",
    },
    units={"day": {"one": "dag", "other": "dager"}, "month": {"one": "måned", "other": "måneder"}},
)

LOCALES: Mapping[str, InvoiceLocale] = {locale.tag: locale for locale in (EN_AU, PL_PL, NB_NO)}
DEFAULT_LOCALE = EN_AU.tag


def invoice_locale(tag: str) -> InvoiceLocale:
    """The locale for a customer's stored preference; ``pl_PL`` and ``pl-pl`` mean ``pl-PL``."""
    language, _, region = tag.strip().replace("_", "-").partition("-")
    normalised = f"{language.lower()}-{region.upper()}"
    try:
        return LOCALES[normalised]
    except KeyError:
        raise UnsupportedLocale(f"no invoice texts for locale {tag!r}; supported: {', '.join(LOCALES)}") from None


# --- how values read on the page ----------------------------------------------------------


@functools.cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)  # parsed once: each format call would otherwise parse it again


@dataclass(frozen=True)
class PageFormat:
    """Dates, numbers and money as the customer's locale writes them, through babel."""

    locale: InvoiceLocale
    jurisdiction: Jurisdiction

    @property
    def babel(self) -> Locale:
        return _babel_locale(self.locale.babel)

    def text(self, key: str, **values: str) -> str:
        return self.locale.text(key, self.jurisdiction, **values)

    def day(self, value: date) -> str:
        return format_date(value, self.locale.date_format, locale=self.babel)

    def period(self, start: date, end: date) -> str:
        """A half-open period as printed: its first and last billed days."""
        last = date.fromordinal(end.toordinal() - 1)
        return self.text("period_range", start=self.day(start), end=self.day(last))

    def money(self, value: Money) -> str:
        amount = value.rounded().amount
        amount = amount.copy_abs() if amount.is_zero() else amount  # no "-$0.00" from 0 x a credit
        return format_currency(amount, value.currency, locale=self.babel)

    def rate(self, rate: Decimal, currency: str) -> str:
        """A unit price at its full precision, but never fewer than the cents: ``$0.2873``, ``$1.10``."""
        return format_currency(rate.normalize(), currency, locale=self.babel, decimal_quantization=False)

    def number(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.babel, decimal_quantization=False)

    def whole(self, value: Decimal) -> str:
        return self.number(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def quantity(self, line: ChargeLine) -> str:
        quantity = line.quantity.normalize()
        forms = self.locale.units.get(line.unit)
        if forms is None:
            return f"{self.number(quantity)} {line.unit}"
        category = self.babel.plural_form(quantity)
        return f"{self.number(quantity)} {forms.get(category, forms['other'])}"

    def unit(self, unit: str) -> str:
        """A unit after a rate ("/ day"): the singular."""
        forms = self.locale.units.get(unit)
        return forms["one"] if forms else unit

    def percent(self, rate: Decimal) -> str:
        return format_percent(rate, locale=self.babel, decimal_quantization=False)

    def tax_rate(self, rate: Decimal) -> str:
        return self.percent(rate) if rate else self.text("tax_exempt")

    def tax_id(self, tax_id: str, *, seller: bool) -> str:
        suffix = f" {self.jurisdiction.tax_id_suffix}" if seller and self.jurisdiction.tax_id_suffix else ""
        return f"{self.jurisdiction.tax_id_label} {tax_id}{suffix}"


def page_format(locale: str = DEFAULT_LOCALE, currency: str = "AUD") -> PageFormat:
    return PageFormat(invoice_locale(locale), jurisdiction_for(currency))


# A credit note's own words (Poland: faktura korygująca, with the original's number).
CREDIT_NOTE_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en-AU": {
        # The ATO's name for it (GST Act s29-75): the words "adjustment note" must show.
        "title": "Adjustment note",
        "number": "Credit note number",
        "credits": "Credits invoice",
        "credited_date": "Invoice date",
        "amount": "Amount credited",
        "reason": "Reason",
        "reference": "This credit note takes back invoice {number} of {date} in full.",
        "applied": "The amount is credited to your account: it reduces what you owe or is taken off your "
        "next bill. There is nothing to pay.",
    },
    "pl-PL": {
        "title": "Faktura korygująca",
        "number": "Numer faktury korygującej",
        "credits": "Faktura korygowana",
        "credited_date": "Data wystawienia faktury korygowanej",
        "amount": "Kwota korekty",
        "reason": "Przyczyna korekty",
        "reference": "Korekta całości faktury nr {number} z dnia {date}.",
        "applied": "Kwota korekty zostanie zaliczona na poczet należności lub rozliczona z kolejną fakturą. "
        "Nie trzeba nic płacić.",
    },
    "nb-NO": {
        "title": "Kreditnota",
        "number": "Kreditnotanummer",
        "credits": "Krediterer faktura",
        "credited_date": "Fakturadato",
        "amount": "Kreditert beløp",
        "reason": "Årsak",
        "reference": "Denne kreditnotaen krediterer faktura {number} av {date} i sin helhet.",
        "applied": "Beløpet godskrives kontoen din og trekkes fra det du skylder eller fra neste faktura. "
        "Du trenger ikke betale noe.",
    },
}
