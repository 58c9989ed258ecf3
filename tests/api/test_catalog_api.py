"""The catalog API as a product manager's tool calls it."""

from __future__ import annotations

from shared.catalog.bulk_file import COLUMNS

PANEL = {
    "productId": "PV-PANEL-440",
    "name": "Solar panel 440 W",
    "kind": "hardware",
    "unit": "each",
    "taxCode": "GST",
    "price": "289.00",
    "currency": "AUD",
    "activeFrom": "2026-01-01",
    "stockItemId": "STK-PV440",
}


def test_create_read_update_with_etags_and_history(api):
    created = api.post("/v1/products", json=PANEL, headers={"X-MS-CLIENT-PRINCIPAL-NAME": "ana@utility"})
    assert created.status_code == 201 and created.headers["ETag"]
    read = api.get("/v1/products/PV-PANEL-440")
    etag = read.headers["ETag"]
    assert read.json()["prices"] == [
        {"validFrom": "2026-01-01", "validTo": None, "amount": "289.00", "currency": "AUD"}
    ]

    changed = api.patch(
        "/v1/products/PV-PANEL-440",
        json={"price": "275.00", "priceValidFrom": "2027-01-01"},
        headers={"If-Match": etag, "X-MS-CLIENT-PRINCIPAL-NAME": "ben@utility"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Solar panel 440 W"  # a field not sent is left alone
    assert [p["amount"] for p in changed.json()["prices"]] == ["289.00", "275.00"]

    stale = api.patch("/v1/products/PV-PANEL-440", json={"name": "Panel"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["error"] == "etag_mismatch"
    assert api.patch("/v1/products/PV-PANEL-440", json={"name": "Panel"}).status_code == 428
    history = api.get("/v1/products/PV-PANEL-440/history").json()
    assert [(h["action"], h["by"]) for h in history] == [("create", "ana@utility"), ("update", "ben@utility")]
    assert history[1]["fields"]["prices"]["from"][0]["validTo"] is None


def test_server_owned_and_unknown_fields_are_refused_by_name(api):
    api.post("/v1/products", json=PANEL)
    etag = api.get("/v1/products/PV-PANEL-440").headers["ETag"]
    for field in ("productId", "currency", "prices", "status"):
        response = api.patch("/v1/products/PV-PANEL-440", json={field: "x"}, headers={"If-Match": etag})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    assert api.get("/v1/products/PV-PANEL-440").json()["currency"] == "AUD"


def test_bad_values_duplicates_and_unknown_products(api):
    bad = api.post("/v1/products", json={**PANEL, "taxCode": "VAT99"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "taxCode"
    assert api.post("/v1/products", json=PANEL).status_code == 201
    assert api.post("/v1/products", json=PANEL).status_code == 409
    assert api.get("/v1/products/NOPE-1").status_code == 404
    assert api.get("/v1/products/NOPE-1/history").status_code == 404


def test_bulk_upload_dry_run_then_apply_and_a_refused_file(api):
    template = api.get("/v1/products/bulk-template.csv")
    assert template.text.lstrip("\ufeff").splitlines()[0] == ",".join(COLUMNS)
    dry = api.post("/v1/products/bulk", params={"fileName": "template.csv"}, content=template.content)
    assert dry.status_code == 200 and dry.json()["dryRun"] and dry.json()["create"] == 1
    assert api.get("/v1/products").json() == []
    applied = api.post("/v1/products/bulk", params={"fileName": "t.csv", "dryRun": "false"}, content=template.content)
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert [p["productId"] for p in api.get("/v1/products", params={"kind": "hardware"}).json()] == ["HWS-HP-270"]

    broken = template.text.replace(",GST,", ",GTS,")
    refused = api.post("/v1/products/bulk", params={"dryRun": "false"}, content=broken.encode())
    assert refused.status_code == 422 and refused.json()["errors"] == [
        {"row": 2, "field": "taxCode", "message": "must be one of GST, GST-FREE, VAT23, VAT8, MVA25, got 'GTS'"}
    ]
    unreadable = api.post("/v1/products/bulk", content=b"just,some\r\nthing\r\n")
    assert unreadable.status_code == 422 and unreadable.json()["errors"][0]["field"] == "file"


def test_the_catalog_exports_in_the_bulk_layout_and_loads_back(api):
    template = api.get("/v1/products/bulk-template.csv").content
    api.post("/v1/products/bulk", params={"fileName": "t.csv", "dryRun": "false"}, content=template)
    exported = api.get("/v1/products/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    # What was exported loads back as "no change": the same layout in and out.
    again = api.post("/v1/products/bulk", params={"fileName": "export.csv"}, content=exported.content)
    assert again.status_code == 200 and again.json()["create"] == 0, again.text
    xlsx = api.get("/v1/products/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
