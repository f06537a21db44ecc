"""The registry: agencies and their tokens, evidence and licence types, connectors and the service-item catalogue.

Every change is written with its audit entry in one transaction. Each aggregate module offers a
``put_*(tx, ctx, data)`` that composes into larger transactions (the catalogue import) and a
``create_*(store, ctx, data)`` for the API that runs one on its own.
"""
