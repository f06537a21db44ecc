"""The HTTP layer every room's routes stand on: request hooks, authentication of bearer tokens, the blueprint with its
role and idempotency decorators, problem answers, rate limits, paging, language choice and the OpenAPI spec."""
