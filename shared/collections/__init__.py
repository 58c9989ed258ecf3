"""Collections: dunning steps per customer segment, disputes, and the disconnection and
reconnection orders they raise. ``policy`` and ``dunning`` are pure; ``dunning_service``
reads the ledger and writes the cases; ``command`` is what the CLI and the daily timer call."""
