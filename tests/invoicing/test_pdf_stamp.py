"""Stamped invoices: one shape laid out once by WeasyPrint, each invoice's values set into it.

What must hold: a stamped file is a valid PDF printing its own invoice's values and nothing of
the invoice its skeleton was laid out from; it looks like the laid-out page; values that would
not sit where WeasyPrint would put them (a wrap, a missing glyph, a shape it cannot place) are
rendered the ordinary way; and customer text never becomes PDF syntax.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from shared.invoicing import pdf_stamp
from shared.invoicing.glyphs import face
from shared.invoicing.invoice import Invoice, Party
from shared.invoicing.pdf import PaymentDetails, render_invoice_pdf
from shared.invoicing.pdf_stamp import Block, NotStampable, Piece, StampedRenderer, set_block
from tests.invoicing.test_pdf_batch import HISTORY, PAYMENT, issued
from tests.invoicing.test_pdf_locales import (
    NORWEGIAN_ACCOUNT,
    POLISH_ACCOUNT,
    monthly_history,
    norwegian_invoice,
    polish_invoice,
)

FIRST = issued("INV-2026-000101", "Olivia Nguyen", "180.5")
SECOND = replace(
    issued("INV-2026-000777", "Zoë Łukasiewicz-Brown", "1234.25"),
    account_id="ACC-987654",
    customer=Party("Zoë Łukasiewicz-Brown", ("Unit 9/87 Banksia Parade", "Manly NSW 2095")),
)
SECOND_HISTORY = [(period, Decimal(900 + 61 * n)) for n, (period, _) in enumerate(HISTORY)]


def text_of(document: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=document, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pages_as_images(document: bytes, folder: Path, name: str) -> list[Image.Image]:
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-", str(folder / name)], input=document, check=True)
    return [Image.open(path).convert("L") for path in sorted(folder.glob(f"{name}-*.png"))]


def differing_share(one: bytes, other: bytes, folder: Path) -> list[float]:
    shares = []
    for a, b in zip(pages_as_images(one, folder, "one"), pages_as_images(other, folder, "other"), strict=True):
        difference = ImageChops.difference(a, b)
        shares.append(sum(1 for value in difference.get_flattened_data() if value > 32) / (a.width * a.height))
    return shares


def stamped(skeleton_of: Invoice, invoice: Invoice, *, locale: str = "en-AU", **page: object) -> bytes:
    first_history = page.pop("first_history", page.get("history"))
    skeleton = pdf_stamp.build_skeleton(
        pdf_stamp.mark_page(skeleton_of, locale=locale, **{**page, "history": first_history})  # type: ignore[arg-type]
    )
    return pdf_stamp.stamp(skeleton, pdf_stamp.mark_page(invoice, locale=locale, **page))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def second_stamped() -> bytes:
    return stamped(FIRST, SECOND, history=SECOND_HISTORY, first_history=HISTORY, payment=PAYMENT)


def test_an_invoice_stamped_on_anothers_skeleton_prints_its_own_values_and_nothing_of_the_other(second_stamped):
    reader = PdfReader(io.BytesIO(second_stamped), strict=True)  # a bad xref or object fails here
    assert len(reader.pages) == 2
    assert reader.metadata is not None and reader.metadata.title == "Tax invoice INV-2026-000777"
    text = " ".join(text_of(second_stamped).split())
    for value in ("INV-2026-000777", "Zoë Łukasiewicz-Brown", "Unit 9/87 Banksia Parade", "ACC-987654"):
        assert value in text
    assert "Tax invoice INV-2026-000777 · Account ACC-987654" in text  # the footer copies them
    assert "$1,234.25" not in text  # kWh, not dollars: the quantity prints with its unit
    assert "1,234.25 kWh" in text
    for value in ("INV-2026-000101", "Olivia Nguyen"):
        assert value not in text
        assert value.encode() not in second_stamped and value.encode("utf-16-be") not in second_stamped


def test_a_stamped_page_looks_like_the_page_weasyprint_lays_out_for_it(second_stamped, tmp_path):
    laid_out = render_invoice_pdf(SECOND, history=SECOND_HISTORY, payment=PAYMENT)
    assert sorted(text_of(second_stamped).split()) == sorted(text_of(laid_out).split())
    assert all(share < 0.001 for share in differing_share(second_stamped, laid_out, tmp_path))


@pytest.mark.parametrize(
    ("make", "locale", "payment"),
    [(polish_invoice, "pl-PL", POLISH_ACCOUNT), (norwegian_invoice, "nb-NO", NORWEGIAN_ACCOUNT)],
)
def test_polish_and_norwegian_invoices_stamp_as_they_lay_out(make, locale, payment, tmp_path):
    first = make()
    other = replace(first, number=f"{first.number}-B")  # and a different history below
    document = stamped(
        first,
        other,
        locale=locale,
        history=monthly_history("2345"),
        first_history=monthly_history("612"),
        payment=payment,
    )
    laid_out = render_invoice_pdf(other, locale=locale, history=monthly_history("2345"), payment=payment)
    assert sorted(text_of(document).split()) == sorted(text_of(laid_out).split())
    assert all(share < 0.001 for share in differing_share(document, laid_out, tmp_path))


# --- setting one block, worked out by hand ----------------------------------------------------
# The packaged font's digits are 1303/2048 em wide and its space 651/2048 em, with no kerning
# between them: at 20.48 px a digit is 13.03 px and a space 6.51 px.

DIGITS = Piece(slot=0, text="", face="regular", size=20.48, colour="0 0 0 rg", letter_spacing=0.0, transform="none")


def test_the_font_metrics_are_the_ones_worked_out_by_hand():
    assert face("regular").width("1234", 20.48) == pytest.approx(52.12)
    assert face("regular").width(" ", 20.48) == pytest.approx(6.51)


def test_a_right_aligned_value_ends_at_the_boxes_right_edge():
    block = Block(page=0, left=10.0, width=100.0, align="right", wrap=False, baselines=(50.0,), pieces=(DIGITS,))
    [placed] = set_block(block, ["1234"])
    assert placed.x == pytest.approx(10 + 100 - 52.12)
    centred = replace(block, align="center")
    assert set_block(centred, ["1234"])[0].x == pytest.approx(10 + (100 - 52.12) / 2)


def test_a_value_wraps_at_spaces_into_the_lines_the_page_has_or_is_refused():
    three_lines = Block(0, 0.0, 70.0, "left", True, (10.0, 20.0, 30.0), (DIGITS,))
    placed = set_block(three_lines, ["1111 2222 3333"])  # 4 digits = 52.12 px; two words and a space = 110.75 px
    assert [(p.line, p.text, p.x) for p in placed] == [(0, "1111", 0.0), (1, "2222", 0.0), (2, "3333", 0.0)]
    with pytest.raises(NotStampable, match="3 lines where the page has 2"):
        set_block(replace(three_lines, baselines=(10.0, 20.0)), ["1111 2222 3333"])
    with pytest.raises(NotStampable, match=r"52\.1 px of text in a 40\.0 px box"):  # a word wider than the box
        set_block(replace(three_lines, width=40.0, baselines=(10.0,)), ["1111"])


def test_the_words_around_a_value_stay_on_its_line():
    words = replace(DIGITS, slot=None, text="12 ")
    block = Block(0, 0.0, 200.0, "right", True, (10.0,), (words, DIGITS))
    placed = set_block(block, ["34"])
    assert [(p.text, round(p.x, 2)) for p in placed] == [("12 ", round(200 - 58.63, 2)), ("34", round(200 - 26.06, 2))]


def test_white_space_the_page_would_collapse_is_not_stamped():
    block = Block(0, 0.0, 200.0, "left", True, (10.0,), (DIGITS,))
    with pytest.raises(NotStampable, match="white space"):
        set_block(block, ["12  34"])


# --- what is not stamped -------------------------------------------------------------------


def test_a_shape_earns_a_skeleton_the_second_time_it_is_seen_and_is_stamped_from_then_on():
    renderer = StampedRenderer()
    third = issued("INV-2026-000103", "Grace Williams", "75.25")
    documents = [renderer.render(invoice, history=HISTORY, payment=PAYMENT) for invoice in (FIRST, SECOND, third)]
    assert (renderer.counts.rendered, renderer.counts.skeletons, renderer.counts.stamped) == (1, 1, 2)
    assert renderer.counts.reasons == {"first of its shape": 1}
    assert "Grace Williams" in text_of(documents[2]) and "Olivia Nguyen" not in text_of(documents[2])


def test_values_that_would_not_sit_where_weasyprint_puts_them_are_rendered_the_ordinary_way():
    renderer = StampedRenderer()
    for invoice in (FIRST, SECOND):
        renderer.render(invoice, history=HISTORY, payment=PAYMENT)
    address = FIRST.customer.address_lines  # the same shape as FIRST and SECOND
    long_name = replace(FIRST, customer=Party("Dr Margaret Anne O'Sullivan Featherstonehaugh Cholmondeley", address))
    vietnamese_name = replace(FIRST, customer=Party("Nguyễn Thị Ánh", address))  # ễ is not in the packaged subset
    for invoice in (long_name, vietnamese_name):
        document = renderer.render(invoice, history=HISTORY, payment=PAYMENT)
        assert set(invoice.customer.name.split()) <= set(text_of(document).split())
    assert (renderer.counts.stamped, renderer.counts.rendered) == (1, 3)
    reasons = renderer.counts.reasons
    assert reasons.get("2 lines where the page has 1") == 1  # the long name wraps beside the amount due
    assert any(reason.startswith("the packaged font lacks") for reason in reasons)


def test_customer_text_becomes_glyphs_never_pdf_syntax():
    hostile = ") Tj (pwned) Tj \\ <</JS>>"
    customer = Party(hostile, FIRST.customer.address_lines)
    document = stamped(FIRST, replace(SECOND, customer=customer), history=HISTORY, payment=PAYMENT)
    PdfReader(io.BytesIO(document), strict=True).pages[0].extract_text()
    assert hostile in " ".join(text_of(document).split())
    assert b"pwned" not in document and b"/JS" not in document


def test_a_skeleton_whose_pieces_this_code_would_place_elsewhere_is_refused(monkeypatch):
    monkeypatch.setattr(pdf_stamp, "_width", lambda piece, text: face(piece.face).width(text, piece.size) + 3.0)
    with pytest.raises(NotStampable, match=r"where WeasyPrint put it|lines differ"):
        pdf_stamp.build_skeleton(pdf_stamp.mark_page(FIRST, history=HISTORY, payment=PAYMENT))


def test_a_page_of_another_shape_is_never_stamped_on_a_skeleton():
    skeleton = pdf_stamp.build_skeleton(pdf_stamp.mark_page(FIRST, history=HISTORY, payment=PAYMENT))
    one_address_line = replace(FIRST, customer=Party("Olivia Nguyen", ("1 A St",)))
    with pytest.raises(NotStampable, match="another shape"):
        pdf_stamp.stamp(skeleton, pdf_stamp.mark_page(one_address_line, history=HISTORY, payment=PAYMENT))


def test_the_shape_is_the_page_without_its_values():
    shape = pdf_stamp.mark_page(FIRST, history=HISTORY, payment=PAYMENT).shape
    assert pdf_stamp.mark_page(SECOND, history=SECOND_HISTORY, payment=PAYMENT).shape == shape
    fewer_lines = replace(FIRST, lines=FIRST.lines[:1])
    assert pdf_stamp.mark_page(fewer_lines, history=HISTORY, payment=PAYMENT).shape != shape
    assert pdf_stamp.mark_page(FIRST, history=HISTORY[-6:], payment=PAYMENT).shape != shape  # "last 6 periods"
    assert pdf_stamp.mark_page(FIRST, history=HISTORY, payment=PaymentDetails()).shape != shape  # no biller code


def test_a_footer_copying_values_takes_each_new_value_once_even_when_one_contains_another_old_one():
    footer = Piece(None, "Tax invoice INV-1 · Account ACC-7", "regular", 9.33, "0 0 0 rg", 0.0, "none")
    footer = replace(footer, derived=(("INV-1", 0), ("ACC-7", 1)))
    block = Block(0, 0.0, 500.0, "left", False, (10.0,), (footer,))
    [placed] = set_block(block, ["INV-ACC-7", "ACC-9"])
    assert placed.text == "Tax invoice INV-ACC-7 · Account ACC-9"


def test_threads_sharing_one_renderer_each_get_their_own_invoice():
    from concurrent.futures import ThreadPoolExecutor

    renderer = StampedRenderer()
    invoices = [issued(f"INV-2026-0005{n:02d}", f"Customer Number {n}", str(100 + n)) for n in range(12)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        documents = list(pool.map(lambda i: renderer.render(i, history=HISTORY, payment=PAYMENT), invoices))
    for invoice, document in zip(invoices, documents, strict=True):
        text = text_of(document)
        assert invoice.number in text and invoice.customer.name in text
        assert all(other.number not in text for other in invoices if other is not invoice)
    assert renderer.counts.stamped + renderer.counts.rendered == 12 and renderer.counts.stamped >= 6
