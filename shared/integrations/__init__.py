"""Integrations: Salesforce catalog sync, SAP finance export (their own issues)."""
