"""marshmallow schemas for every request body and answer; the OpenAPI spec is generated from them."""
