"""GridLedger: billing and operations for energy and utility service providers.

Everything real lives here, importable without the Azure Functions host.
"""
