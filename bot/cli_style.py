"""How every `dunbot` command group renders: plain help like git's or pip's, no tracebacks of
locals.

`rich_markup_mode=None` makes typer print click's plain help (options with their metavars,
`--invoice ID`, instead of rich panels that label each option `<str>`/`<bool>`); without
pretty exceptions an unexpected error is a plain Python traceback, never a dump of local
variables (which may hold settings and secrets).
"""

from __future__ import annotations

from typing import Any

PLAIN: dict[str, Any] = {"rich_markup_mode": None, "pretty_exceptions_enable": False}
