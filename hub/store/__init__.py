"""Storage: the only door to Redis (records, indexes, transactions), its keys, the embedded server, the keyring that
seals data at rest, and what a request under an Idempotency-Key created."""
