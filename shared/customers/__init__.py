"""Customers, accounts and service points: the records billing reads.

A first cut: the customer-records issue adds contracts, meters with registers, tax-id
validation, change history and bulk loading.
"""
