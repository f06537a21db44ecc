"""Schemas shared by every blueprint: problems, paging, identifiers."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from hub.identifiers import ID_TYPES, InvalidIdentifier, canonical

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


def id_type_field(**kwargs: Any) -> fields.String:
    """The type of a person's or an organisation's identifier (:mod:`hub.identifiers`)."""
    kwargs.setdefault("metadata", {"enum": list(ID_TYPES)})
    return fields.String(validate=validate.OneOf(ID_TYPES), **kwargs)


def identifier_field(**kwargs: Any) -> fields.String:
    """An identifier as typed: checked against its type, and made canonical, by :func:`identified_by`."""
    kwargs.setdefault("metadata", {"example": "440106199001011235"})
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def identified_by(type_field: str, id_field: str) -> type:
    """A schema mixin: ``id_field`` must fit the type in ``type_field`` (a 422 naming ``id_field`` otherwise,
    before anything is asked or stored), and is loaded in its canonical form (upper case, no separators)."""

    class IdentifierFits:
        @validates_schema
        def _identifier_fits_its_type(self, data: dict[str, Any], **kwargs: Any) -> None:
            if data.get(type_field) and data.get(id_field):
                try:
                    canonical(data[type_field], data[id_field])
                except InvalidIdentifier as error:
                    raise ValidationError(str(error), id_field) from None

        @post_load
        def _canonical_identifier(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            if data.get(type_field) and data.get(id_field):
                data[id_field] = canonical(data[type_field], data[id_field])
            return data

    return IdentifierFits
