"""Customer and asset records: customers, accounts, service points, meters and contracts.

- The records, pure and checked whole: ``customer``, ``account``, ``service_point``,
  ``meter``, ``contract``, with their field rules (``fields``), check digits
  (``tax_ids``, ``payment_reference``, ``metering_ids``) and errors naming fields (``errors``).
- Rules across records, over the document store: ``service`` (with ``storage`` for one
  record type and its change history, ``contract_book`` for the contracts of a service
  point, ``search`` for finding customers, ``containers`` for where they live).
- ``records``: the account and service point as billing reads them, from the same documents.
- ``schemas``: the records on the wire (create, update and public shapes per resource).
"""
