"""JSON answers made by orjson (hub.http.json_answers) read exactly as Flask's own encoder would write them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from hub.http.json_answers import JsonAnswers

VALUES = [
    {"name": "食品经营许可证", "holder": {"name": "张*", "id_type": "resident"}, "items": [1, 2.5, None, True]},
    {"b": 1, "a": {"d": [], "c": {}}, "é": "\u2028", "quote": 'say "hi"\n\t\\'},
    {9: "int keys", 10: "sorted as numbers"},  # orjson would sort them as text: Flask's encoder answers
    {"day": date(2026, 6, 15), "at": datetime(2026, 6, 15, 8, 30, tzinfo=UTC), "amount": Decimal("12.50")},
    {"big": 2**70, "small": -(2**70)},  # past 64 bits: orjson refuses, Flask's encoder answers
    [0.1, 1.5, 123.456, -0.0, 10**15],
    "just a string",
]


def flask_default(app: Flask) -> DefaultJSONProvider:
    provider = DefaultJSONProvider(app)
    provider.ensure_ascii = False
    return provider


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__ + str(len(json.dumps(v, default=str))))
def test_an_answer_reads_byte_for_byte_as_flasks_encoder_writes_it(value):
    app = Flask(__name__)
    with app.app_context():
        made = JsonAnswers(app).response(value)
        expected = flask_default(app).response(value)
    assert made.data == expected.data
    assert made.mimetype == "application/json"


def test_exponents_may_be_written_otherwise_and_mean_the_same():
    app = Flask(__name__)
    with app.app_context():
        made = JsonAnswers(app).response([1e-7, 1e16, 6.02e23]).get_json()
    assert made == [1e-7, 1e16, 6.02e23]


def test_in_debug_mode_answers_are_indented_by_flask():
    app = Flask(__name__)
    app.debug = True
    with app.app_context():
        assert JsonAnswers(app).response({"a": 1}).data == b'{\n  "a": 1\n}\n'
