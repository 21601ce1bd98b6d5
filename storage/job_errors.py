"""What is stored (and logged) about a failed job: the error's class and a sanitised message.

Never the SQL parameters (customer names, emails, bodies), never a driver's DETAIL lines
(`Key (email)=(…)`), never an e-mail address, never a validation error's input values.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from sqlalchemy.exc import StatementError

ERROR_TEXT_MAX = 500
_EMAIL = re.compile(r"[^\s<>()\"'`,;:]+@[^\s<>()\"'`,;:]+\.[^\s<>()\"'`,;:]+")
# A quoted value in a driver's message: `invalid input syntax for type integer: "abc"`.
_QUOTED_VALUE = re.compile(r"(:\s*)(\"[^\"]*\"|'[^']*')")
_PARENTHESISED_VALUE = re.compile(r"=\(.*?\)(?=\s|$)")


def describe_error(error: BaseException) -> str:
    """`ClassName: message`, safe to store with a job and to log."""
    if isinstance(error, StatementError):
        return _statement_error(error)
    if isinstance(error, ValidationError):
        return _validation_error(error)
    return _finish(type(error).__name__, str(error))


def _statement_error(error: StatementError) -> str:
    """The driver's error class and first line; never SQLAlchemy's SQL and parameter echo."""
    original = error.orig if error.orig is not None else error
    message = str(original).splitlines()[0] if str(original) else ""
    if original is error:  # no driver error: SQLAlchemy's own message, before its [SQL: …]
        message = message.split("[SQL:")[0]
    message = _QUOTED_VALUE.sub(r"\1<value>", message)
    return _finish(f"{type(error).__name__} ({type(original).__name__})", message)


def _validation_error(error: ValidationError) -> str:
    """Which fields were wrong and why; never the input values pydantic echoes."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or '(root)'}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)
    )
    return _finish("ValidationError", f"{error.title}: {problems}")


def _finish(name: str, message: str) -> str:
    cleaned = _EMAIL.sub("<email>", message)
    cleaned = _PARENTHESISED_VALUE.sub("=(<value>)", cleaned)
    cleaned = " ".join(cleaned.replace("\x00", " ").split())
    text = f"{name}: {cleaned}" if cleaned else name
    return text if len(text) <= ERROR_TEXT_MAX else text[: ERROR_TEXT_MAX - 1] + "…"
