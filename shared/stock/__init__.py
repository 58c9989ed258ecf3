"""Inventory: warehouses and stock events (the inventory issue builds on this)."""
