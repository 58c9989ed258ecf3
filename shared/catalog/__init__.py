"""The product catalog: products with versioned prices, changed one at a time or in bulk."""
