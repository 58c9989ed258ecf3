"""The HTTP API: one FastAPI app, served by Azure Functions through AsgiFunctionApp and
locally by uvicorn (``python -m shared.cli serve``)."""
