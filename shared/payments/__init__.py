"""Payments: gateway webhooks taken in exactly once, and the accounts-receivable ledger.

How the modules fit (the pure core first):
- ``facts``: what a gateway tells us, in the ledger's words (payment, refund, chargeback, won dispute);
- ``ledger``: double-entry posting sets, one per thing that moved money, always balanced;
- ``allocation``: which invoice each payment paid, derived from the postings;
- ``signature``, ``stripe_events``, ``gateway``: each gateway's signatures and event shapes read into facts;
- ``inbox``: every webhook kept (accepted, ignored, held, applied, rejected, refused);
- ``ledger_store``, ``projection``: posting sets in the store; invoice status as a cache of the ledger;
- ``ledger_service``, ``processing``: facts posted once, in the right account, after what they modify;
- ``stripe_webhook``, ``service``: the two webhook endpoints' work; ``ledger_command``: ``ledger check``.
"""
