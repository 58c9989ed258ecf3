"""Payments: gateway webhooks, verified and applied to invoices exactly once."""
