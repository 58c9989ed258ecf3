"""Invoicing: turning rated charges into numbered, immutable tax invoices."""
