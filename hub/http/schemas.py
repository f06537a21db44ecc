"""Schemas shared by every blueprint: problems, paging, identifiers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
REGION_PATTERN = r"^[0-9]{6}$"
MAX_PAGE = 500


def code_field(
    pattern: str = CODE_PATTERN, error: str = "Use 1-64 letters, digits, '.', '_' or '-'.", **kwargs
) -> fields.String:
    """A registry code: letters, digits, '.', '_' and '-', at most 64 characters (or a narrower ``pattern``)."""
    kwargs.setdefault("metadata", {"example": "market-supervision"})
    return fields.String(validate=validate.Regexp(pattern, error=error), **kwargs)


def region_field(**kwargs) -> fields.String:
    """An administrative division code (GB/T 2260): six digits."""
    kwargs.setdefault("metadata", {"example": "440000", "description": "GB/T 2260 administrative division code"})
    return fields.String(
        validate=validate.Regexp(REGION_PATTERN, error="Use a six-digit GB/T 2260 region code."), **kwargs
    )


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    request_id = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PageArgsSchema(Schema):
    """``?limit=&cursor=`` on every listing."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The ``{"items": [...], "next": cursor-or-null}`` answer for a listing of ``item_schema``."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next": fields.String(allow_none=True, required=True),
            "__doc__": f"A page of {item_schema.__name__.removesuffix('Schema')} records.",
        },
    )
