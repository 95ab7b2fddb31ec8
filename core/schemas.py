"""The API's one error shape, as a schema every route's OpenAPI entry refers to."""

from ninja import Schema


class ErrorItemOut(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    """Every error the API answers: a summary and the problems by field (field null: the whole request)."""

    detail: str
    errors: list[ErrorItemOut]
