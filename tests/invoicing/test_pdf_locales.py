"""The invoice in the customer's language: Polish and Norwegian invoices that read like theirs,
the usage chart, the message catalogue, and what a hostile value or an unknown locale gets."""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ElementTree
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import HTML

from shared.invoicing.chart import MAX_BARS, UsagePeriod, nice_step, usage_chart_svg
from shared.invoicing.invoice import Invoice, Party
from shared.invoicing.pdf import (
    BASE_URL,
    TEMPLATES,
    InvoiceNotRenderable,
    PackagedAssetFetcher,
    PaymentDetails,
    format_quantity,
    invoice_stylesheets,
    parse_invoice_html,
    render_invoice_html,
    render_invoice_pdf,
)
from shared.invoicing.texts import LOCALES, UnsupportedLocale, invoice_locale, jurisdiction_for
from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
HOSTILE = ("<script>alert(1)</script>", "{{7*7}}", '<img src="file:///etc/passwd">')

POLISH_SUPPLIER = Party("Wisła Energia sp. z o.o.", ("ul. Długa 12", "80-831 Gdańsk"), "123-456-32-18")
POLISH_CUSTOMER = Party("Zofia Wójcik-Łukasiewicz", ("ul. Źródlana 7 m. 3", "00-950 Warszawa"))
POLISH_ACCOUNT = PaymentDetails(bank_account="PL61 1090 1014 0000 0712 1981 2874")
NORWEGIAN_SUPPLIER = Party("Fjordkraft Nord AS", ("Strandkaien 2", "5013 Bergen"), "987 654 321")
NORWEGIAN_CUSTOMER = Party("Øystein Ærø Håland", ("Bjørnstjerne Bjørnsons gate 14", "0254 Oslo"))
NORWEGIAN_ACCOUNT = PaymentDetails(bank_account="1503.12.34567")


def line(description: str, quantity: str, unit: str, rate: str, currency: str, tax: tuple[str, str]) -> ChargeLine:
    amount = (Decimal(quantity) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return ChargeLine(
        description=description,
        component_id=description.lower()[:12],
        tariff_id="g11",
        tariff_version="2026",
        period_start=OCTOBER[0],
        period_end=OCTOBER[1],
        quantity=Decimal(quantity),
        unit=unit,
        rate=Decimal(rate),
        amount=Money(amount, currency),
        tax_code=tax[0],
        tax_rate=Decimal(tax[1]),
    )


def issued(
    currency: str, supplier: Party, customer: Party, lines: tuple[ChargeLine, ...], tax: Money, reference: str
) -> Invoice:
    """An issued invoice whose taxes the test states by hand: one code, one rate."""
    subtotal = Money(sum((item.amount.amount for item in lines), Decimal(0)), currency)
    draft = Invoice(
        invoice_id="ACC-100234:2026-10-01",
        account_id="ACC-100234",
        series="INV-2026",
        supplier=supplier,
        customer=customer,
        service_point_id="PL0037610000012345" if currency == "PLN" else "707057500012345678",
        service_address=", ".join(customer.address_lines),
        period_start=OCTOBER[0],
        period_end=OCTOBER[1],
        currency=currency,
        lines=lines,
        taxes=(TaxLine(lines[0].tax_code, lines[0].tax_rate, subtotal, tax),),
        subtotal=subtotal,
        tax_total=tax,
        total=subtotal + tax,
        payment_reference=reference,
    )
    return draft.issue(
        number="FV/2026/11/000123" if currency == "PLN" else "2026000123",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 11, 30),
        issued_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )


def polish_invoice(customer: Party = POLISH_CUSTOMER) -> Invoice:
    vat = ("VAT23", "0.23")
    lines = (
        line("Energia czynna całodobowa", "1500", "kWh", "0.62", "PLN", vat),  # 930.00
        line("Opłata dystrybucyjna zmienna", "1500", "kWh", "0.30", "PLN", vat),  # 450.00
        line("Opłata handlowa", "1", "month", "19.99", "PLN", vat),
        line("Opłata stała sieciowa", "1", "month", "10.01", "PLN", vat),
    )
    # 930.00 + 450.00 + 19.99 + 10.01 = 1410.00 net; 23 % of it is 324.30; 1734.30 gross.
    return issued("PLN", POLISH_SUPPLIER, customer, lines, Money(Decimal("324.30"), "PLN"), "FV/2026/11/000123")


def norwegian_invoice(customer: Party = NORWEGIAN_CUSTOMER) -> Invoice:
    mva = ("MVA25", "0.25")
    lines = (
        line("Strøm, spotpris", "1250", "kWh", "1.20", "NOK", mva),  # 1500.00
        line("Fastbeløp", "1", "month", "49", "NOK", mva),
        line("Nettleie, energiledd", "1250", "kWh", "0.40", "NOK", mva),  # 500.00
    )
    # 1500.00 + 49.00 + 500.00 = 2049.00 net; 25 % of it is 512.25; 2561.25 in all.
    return issued("NOK", NORWEGIAN_SUPPLIER, customer, lines, Money(Decimal("512.25"), "NOK"), "0001002343")


def monthly_history(current_kwh: str) -> list[tuple[date | str, Decimal]]:
    """October 2025 to October 2026: 300, 310, ... 420 kWh, then this period."""
    months = [date(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(10, 22)]
    return [(month, Decimal(300 + 10 * n)) for n, month in enumerate(months)] + [(OCTOBER[0], Decimal(current_kwh))]


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


NBSP = "\xa0"  # babel separates thousands and the currency sign with no-break spaces


# --- a Polish VAT invoice ----------------------------------------------------------------


@pytest.fixture(scope="module")
def polish_pages() -> list[str]:
    pdf = render_invoice_pdf(polish_invoice(), locale="pl-PL", history=monthly_history("1500"), payment=POLISH_ACCOUNT)
    return text_of(pdf)


def test_a_polish_invoice_is_a_faktura_vat_with_seller_buyer_and_nip(polish_pages):
    first = polish_pages[0]
    for expected in (
        "Faktura VAT",
        "SPRZEDAWCA",  # labels print in capitals (CSS), the catalogue says "Sprzedawca"
        "Wisła Energia sp. z o.o.",
        "NIP 123-456-32-18",
        "NABYWCA",
        "Zofia Wójcik-Łukasiewicz",
        "Numer faktury FV/2026/11/000123",
        "Data wystawienia 2.11.2026",
        "Data sprzedaży 31.10.2026",  # the period's last day: a Polish invoice states the date of supply
        "1.10.2026 – 31.10.2026",
        "PPE",
        "Termin płatności 30.11.2026",
        "Strona 1 z 2",
    ):
        assert expected in first, expected


def test_a_polish_invoice_writes_amounts_the_polish_way_with_vat_by_rate(polish_pages):
    first = polish_pages[0]
    for expected in (
        f"1{NBSP}500 kWh 0,62{NBSP}zł / kWh 23% 930,00{NBSP}zł",
        f"1 miesiąc 19,99{NBSP}zł / miesiąc 23% 19,99{NBSP}zł",
        "Stawka VAT",
        f"23% 1{NBSP}410,00{NBSP}zł 324,30{NBSP}zł 1{NBSP}734,30{NBSP}zł",  # the VAT summary row
        f"Razem netto 1{NBSP}410,00{NBSP}zł",
        f"Razem VAT 324,30{NBSP}zł",
        f"Razem brutto 1{NBSP}734,30{NBSP}zł",
        f"Zużycie energii 1{NBSP}500 kWh",  # metered use from the history, not the two kWh lines summed
        "Ten sam okres rok",
    ):
        assert expected in first, expected
    assert "1,734.30" not in first and "PLN" not in first


def test_a_polish_invoice_says_pay_by_transfer_to_the_account_with_the_title(polish_pages):
    every_page = "\n".join(polish_pages)

    assert "Forma płatności: przelew" in every_page
    assert "Numer rachunku PL61 1090 1014 0000 0712 1981 2874" in every_page
    assert "Tytuł przelewu FV/2026/11/000123" in every_page
    assert "Dane do przelewu" in polish_pages[-1] and "Strona 2 z 2" in polish_pages[-1]


# --- a Norwegian invoice -----------------------------------------------------------------


@pytest.fixture(scope="module")
def norwegian_pages() -> list[str]:
    pdf = render_invoice_pdf(
        norwegian_invoice(), locale="nb-NO", history=monthly_history("1250"), payment=NORWEGIAN_ACCOUNT
    )
    return text_of(pdf)


def test_a_norwegian_invoice_has_org_nr_mva_kid_and_forfallsdato(norwegian_pages):
    every_page = "\n".join(norwegian_pages)
    for expected in (
        "Faktura",
        "Org.nr 987 654 321 MVA",
        "Fakturanummer 2026000123",
        "Fakturadato 02.11.2026",
        "Forfallsdato 30.11.2026",
        "01.10.2026–31.10.2026",
        "MÅLEPUNKT-ID",
        "Kontonummer 1503.12.34567",
        "KID 0001002343",
        "Side 1 av 2",
    ):
        assert expected in every_page, expected


def test_a_norwegian_invoice_writes_kroner_and_mva_at_25_percent(norwegian_pages):
    first = norwegian_pages[0]
    for expected in (
        f"1{NBSP}250 kWh 1,20{NBSP}kr / kWh 25{NBSP}% 1{NBSP}500,00{NBSP}kr",
        f"1 måned 49,00{NBSP}kr / måned 25{NBSP}% 49,00{NBSP}kr",
        "MVA-sats",
        f"25{NBSP}% 2{NBSP}049,00{NBSP}kr 512,25{NBSP}kr 2{NBSP}561,25{NBSP}kr",
        f"Sum MVA 512,25{NBSP}kr",
        f"Totalt inkl. MVA 2{NBSP}561,25{NBSP}kr",
        f"Forbruk 1{NBSP}250 kWh",
    ):
        assert expected in first, expected


def test_a_polish_speaking_customer_of_an_australian_supplier_gets_a_tax_invoice_in_polish():
    supplier = Party("Harbour Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), "12 345 678 901")
    gst = ("GST", "0.10")
    lines = (line("Energia szczytowa", "100", "kWh", "0.40", "AUD", gst),)  # 40.00, GST 4.00
    invoice = issued("AUD", supplier, POLISH_CUSTOMER, lines, Money(Decimal("4.00"), "AUD"), "1002343")

    first = text_of(render_invoice_pdf(invoice, locale="pl-PL"))[0]

    assert "Faktura (Tax invoice)" in first and "ABN 12 345 678 901" in first and "NMI" in first
    assert f"Razem GST 4,00{NBSP}AUD" in first and f"Razem brutto 44,00{NBSP}AUD" in first


def test_units_take_the_plural_each_language_gives_the_number():
    def quantity(amount: str, unit: str, locale: str) -> str:
        return format_quantity(line("x", amount, unit, "1", "PLN", ("VAT23", "0.23")), locale)

    # Polish: 1 dzień, 2-4 dni, 5+ dni, fractions dnia; 1 miesiąc, 2-4 (not 12-14) miesiące, 5+ miesięcy.
    assert [quantity(n, "day", "pl-PL") for n in ("1", "2", "5", "31", "2.5")] == [
        "1 dzień",
        "2 dni",
        "5 dni",
        "31 dni",
        "2,5 dnia",
    ]
    assert [quantity(n, "month", "pl-PL") for n in ("1", "3", "12", "22", "5")] == [
        "1 miesiąc",
        "3 miesiące",
        "12 miesięcy",
        "22 miesiące",
        "5 miesięcy",
    ]
    assert [quantity(n, "day", "nb-NO") for n in ("1", "31")] == ["1 dag", "31 dager"]
    assert quantity("1234.500", "kWh", "nb-NO") == f"1{NBSP}234,5 kWh"


# --- the locale is chosen, and an unknown one refused ---------------------------------------


@pytest.mark.parametrize("tag", ["de-DE", "fr", "", "en-GB", "pl-PL; DROP TABLE"])
def test_an_unknown_locale_is_refused_before_any_work_naming_what_is_supported(tag):
    started = time.monotonic()

    with pytest.raises(UnsupportedLocale, match=r"supported: en-AU, pl-PL, nb-NO") as refused:
        render_invoice_pdf(polish_invoice(), locale=tag, payment=POLISH_ACCOUNT, isolated=True)

    assert repr(tag) in str(refused.value)
    assert time.monotonic() - started < 1  # refused before a child process was started


def test_a_stored_preference_in_another_spelling_finds_its_locale():
    assert invoice_locale("pl_PL").tag == invoice_locale("PL-pl").tag == "pl-PL"
    assert invoice_locale(" nb-no ").tag == "nb-NO"


def test_a_currency_without_a_tax_jurisdiction_is_not_rendered():
    invoice = polish_invoice()
    euro = Invoice.from_json({**invoice.to_json(), "currency": "EUR"})

    with pytest.raises(InvoiceNotRenderable, match=r"no invoice layout for currency 'EUR'"):
        render_invoice_html(euro, locale="pl-PL", payment=POLISH_ACCOUNT)


def test_a_polish_or_norwegian_invoice_without_the_account_to_pay_into_is_not_rendered():
    with pytest.raises(InvoiceNotRenderable, match="bank account"):
        render_invoice_html(polish_invoice(), locale="pl-PL")
    with pytest.raises(InvoiceNotRenderable, match="bank account"):
        render_invoice_html(norwegian_invoice(), locale="nb-NO", payment=PaymentDetails(biller_code="1"))


# --- hostile values ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["pl-PL", "nb-NO"])
def test_hostile_names_addresses_and_chart_labels_print_as_text_and_fetch_nothing(locale):
    hostile = Party(" ".join(HOSTILE), HOSTILE[1:])
    invoice = polish_invoice(hostile) if locale == "pl-PL" else norwegian_invoice(hostile)
    payment = POLISH_ACCOUNT if locale == "pl-PL" else NORWEGIAN_ACCOUNT
    history = [("<b>", Decimal(100)), ("{{7*7}}", Decimal(200)), (HOSTILE[2], Decimal(300))]
    fetcher = PackagedAssetFetcher()

    html = render_invoice_html(invoice, locale=locale, history=history, payment=payment)
    pages = text_of(render_invoice_pdf(invoice, locale=locale, history=history, payment=payment, fetcher=fetcher))
    text = "\n".join(pages)

    assert "<script>" not in html and "<img src=" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;" in html and "&lt;img …" in html  # chart labels: escaped, and clipped to a bar's width
    ElementTree.fromstring(html)  # well-formed: nothing in a value closed or opened an element
    assert "<script>alert(1)</script> {{7*7}}" in text
    assert '<img src="file:///etc/passwd">' in text
    assert "<b>" in text and "{{7*7…" in text
    assert not re.search(r"(?<![\d,.])49(?![\d,.])", text)  # 7*7 never evaluated
    assert fetcher.requested == [BASE_URL + "logo.svg"] and fetcher.refused == []


def test_the_chart_escapes_every_label_itself_and_is_well_formed_svg():
    periods = [UsagePeriod(label, Decimal(10), sublabel="&<>") for label in ("<svg>", '"x"', "]]>", "a&b")]

    svg = usage_chart_svg(periods, format_kwh=str, unit="<kWh>", title='"quoted" <title>')

    root = ElementTree.fromstring(svg)
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert [text for text in texts if text in ("<svg>", '"x"', "]]>", "a&b")] == ["<svg>", '"x"', "]]>", "a&b"]
    assert "<kWh>" in texts and texts.count("&<>") == 4
    assert root.get("aria-label") == '"quoted" <title>'
    assert "href" not in svg and "url(" not in svg  # nothing for WeasyPrint to fetch


# --- the consumption chart ----------------------------------------------------------------


def test_the_chart_scales_bars_from_zero_and_highlights_the_current_period():
    # 200 kWh at most: grid step 50 (200/50 = 4 lines), so the top line is 200. The plot is
    # 168 - 16 (top) - 30 (bottom) = 122 units high: 200 kWh reaches y 16, 100 kWh y 77.
    svg = usage_chart_svg(
        [UsagePeriod("a", Decimal(100)), UsagePeriod("b", Decimal(200))], format_kwh=str, unit="kWh", title="t"
    )
    root = ElementTree.fromstring(svg)
    paths = {path.get("class"): path.get("d") for path in root.iter("{http://www.w3.org/2000/svg}path")}

    assert re.fullmatch(r"M[\d.]+ 77\.0h[\d.]+V138\.0h-[\d.]+Z", paths["past"])
    assert re.fullmatch(r"M[\d.]+ 16\.0h[\d.]+V138\.0h-[\d.]+Z", paths["current"])
    fills = {path.get("class"): path.get("fill") for path in root.iter("{http://www.w3.org/2000/svg}path")}
    assert fills["current"] == "#f5a623" and fills["past"] != fills["current"]
    assert [nice_step(Decimal(n)) for n in (7, 45, 200, 760, 12345)] == [
        Decimal(2),
        Decimal(10),
        Decimal(50),
        Decimal(200),
        Decimal(2500),
    ]


def test_the_chart_shows_the_last_13_periods_with_localised_month_labels():
    history = [(date(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 1), Decimal(100 + m)) for m in range(8, 23)]  # 15

    html = render_invoice_html(polish_invoice(), locale="pl-PL", history=history, payment=POLISH_ACCOUNT)

    svg = html[html.index("<svg") : html.index("</svg>") + 6]
    labels = [element.text for element in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert len(history) - MAX_BARS == 2
    assert "108" not in labels and "109" not in labels  # August and September 2025 fall off
    assert labels.count("paź") == 2 and "lis" in labels and "sty" in labels  # Polish month names
    assert "2025" in labels and "2026" in labels  # the year under the first bar and under January
    assert "110" in labels and "122" in labels  # kWh over each bar; the first and the current
    assert "Zużycie energii w ostatnich 13 okresach rozliczeniowych" in html


def test_the_chart_prints_in_the_pdf_as_extractable_text():
    pdf = render_invoice_pdf(
        norwegian_invoice(), locale="nb-NO", history=monthly_history("1250"), payment=NORWEGIAN_ACCOUNT
    )

    first = text_of(pdf)[0]

    assert "Strømforbruket ditt de siste 13 periodene" in first
    assert "okt\n2025" in first and "jan\n2026" in first
    assert f"1{NBSP}250" in first  # the current bar's value
    assert "Samme periode i fjor 300 kWh" in first  # October 2025 in the history


def test_a_history_with_negative_or_inexact_use_is_refused_naming_the_entry():
    with pytest.raises(InvoiceNotRenderable, match=r"entry 1 \('lut'\): negative consumption -5"):
        render_invoice_html(
            polish_invoice(),
            locale="pl-PL",
            history=[("sty", Decimal(1)), ("lut", Decimal(-5))],
            payment=POLISH_ACCOUNT,
        )
    with pytest.raises(InvoiceNotRenderable, match=r"entry 0 .*finite Decimal"):
        render_invoice_html(polish_invoice(), locale="pl-PL", history=[("sty", 1.5)], payment=POLISH_ACCOUNT)


def test_same_period_last_year_needs_that_period_in_the_history():
    leap = [(date(2027, 2, 28), Decimal(300)), (date(2028, 2, 29), Decimal(310))]

    html = render_invoice_html(polish_invoice(), locale="pl-PL", history=leap, payment=POLISH_ACCOUNT)

    assert "Ten sam okres rok temu" not in html  # 29 Feb 2027 does not exist: nothing to compare
    assert "<svg" in html


# --- the catalogue and the font --------------------------------------------------------------


def test_every_locale_has_every_text_and_every_text_formats():
    keys = {tag: set(locale.messages) for tag, locale in LOCALES.items()}

    assert keys["pl-PL"] == keys["en-AU"] == keys["nb-NO"]
    values = {"total": "1", "amount": "1", "date": "1", "start": "1", "end": "1", "count": "13"}
    values |= {"supplier": "S", "email": "e", "account": "A"}
    for locale in LOCALES.values():
        for currency in ("AUD", "PLN", "NOK"):
            for key in locale.messages:
                assert "{" not in locale.text(key, jurisdiction_for(currency), **values), (locale.tag, key)


def test_the_packaged_font_has_every_character_of_every_fixed_text():
    texts = [message for locale in LOCALES.values() for message in locale.messages.values()]
    texts += [word for locale in LOCALES.values() for forms in locale.units.values() for word in forms.values()]
    texts += ["Målepunkt-ID Org.nr ✂ · – € −", "\xa0"]
    needed = {ord(ch) for text in texts for ch in text} - {ord("{"), ord("}")}
    for face in ("invoice-sans.ttf", "invoice-sans-bold.ttf"):
        covered = set(TTFont(TEMPLATES / face).getBestCmap())
        assert not needed - covered, (face, sorted(chr(c) for c in needed - covered))


def test_the_pdf_embeds_the_small_packaged_font_and_no_system_font():
    pdf = render_invoice_pdf(polish_invoice(), locale="pl-PL", history=monthly_history("1500"), payment=POLISH_ACCOUNT)

    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts == {"Invoice-Sans", "Invoice-Sans-Bold"}
    assert len(pdf) < 120_000  # two 40 kB faces, whole, and the pages


def test_a_character_outside_the_packaged_font_falls_back_and_still_reads():
    vietnamese = Party("Nguyễn Thị Ánh", ("12 Wattle Street", "Newtown NSW 2042"))
    supplier = Party("Harbour Energy Pty Ltd", ("Sydney NSW 2000",), "12 345 678 901")
    lines = (line("Peak energy", "100", "kWh", "0.40", "AUD", ("GST", "0.10")),)
    invoice = issued("AUD", supplier, vietnamese, lines, Money(Decimal("4.00"), "AUD"), "1002343")

    first = text_of(render_invoice_pdf(invoice))[0]

    assert "Nguyễn Thị Ánh" in first


# --- the fast parse is the same page ------------------------------------------------------


def test_the_xml_parse_lays_out_the_same_page_as_weasyprints_html_parser():
    html = render_invoice_html(
        norwegian_invoice(), locale="nb-NO", history=monthly_history("1250"), payment=NORWEGIAN_ACCOUNT
    )
    fast = parse_invoice_html(html, PackagedAssetFetcher())
    stock = HTML(string=html, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())

    assert type(fast) is not HTML  # the XML path was taken
    pages = [
        text_of(document.render(stylesheets=invoice_stylesheets("nb-NO")).write_pdf()) for document in (fast, stock)
    ]
    assert pages[0] == pages[1]


def test_a_control_character_in_a_name_prints_as_a_replacement_mark_and_the_page_stays_xml():
    control = Party("Ola\x0bNordmann\x00", ("Storgata 1\ud800", "0155 Oslo"))
    history = [("x\x1by", Decimal(1))]
    html = render_invoice_html(norwegian_invoice(control), locale="nb-NO", history=history, payment=NORWEGIAN_ACCOUNT)

    assert type(parse_invoice_html(html, PackagedAssetFetcher())) is not HTML  # still well-formed XML
    pdf = render_invoice_pdf(norwegian_invoice(control), locale="nb-NO", history=history, payment=NORWEGIAN_ACCOUNT)
    first = text_of(pdf)[0]
    assert "Ola\ufffdNordmann\ufffd" in first and "Storgata 1\ufffd" in first and "x\ufffdy" in first


def test_a_page_that_is_not_xml_takes_weasyprints_html_parser():
    assert type(parse_invoice_html("<p>unclosed<br>", PackagedAssetFetcher())) is HTML


def test_an_isolated_render_prints_the_same_localised_invoice_with_its_chart():
    history = monthly_history("1500")
    in_process = render_invoice_pdf(polish_invoice(), locale="pl-PL", history=history, payment=POLISH_ACCOUNT)

    isolated = render_invoice_pdf(
        polish_invoice(), locale="pl-PL", history=history, payment=POLISH_ACCOUNT, isolated=True
    )

    assert text_of(isolated) == text_of(in_process)


@pytest.mark.parametrize(
    ("make", "locale", "payment", "heading"),
    [
        (polish_invoice, "pl-PL", POLISH_ACCOUNT, "Zużycie energii w tym okresie rozliczeniowym"),
        (norwegian_invoice, "nb-NO", NORWEGIAN_ACCOUNT, "Strømforbruket ditt denne perioden"),
    ],
)
def test_a_first_bills_chart_is_this_period_not_the_last_1_periods(make, locale, payment, heading):
    from shared.invoicing.pdf import render_invoice_html

    first_bill = render_invoice_html(make(), locale=locale, history=monthly_history("612")[-1:], payment=payment)
    assert heading in first_bill and " 1 " not in first_bill.split("<h3>")[-1].split("</h3>")[0]
    english = render_invoice_html(make(), locale="en-AU", history=monthly_history("612")[-1:], payment=payment)
    assert "Your electricity use this period" in english and "last 1 periods" not in english
