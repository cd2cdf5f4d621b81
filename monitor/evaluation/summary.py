"""Alert summaries: one-line Jinja2 templates from the rule files, run in the sandbox.

Rendering never fails an evaluation: a template error yields a plain fallback text
that still names the rule and its values, and the error is logged. Output is plain
text; each notification channel escapes it for its own format.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from monitor.rules.expr import Value

log = logging.getLogger(__name__)
MISSING = "n/a"


def _percent(value: object, digits: int = 0) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return MISSING
    return f"{value * 100:+.{digits}f}%" if value < 0 else f"{value * 100:.{digits}f}%"


def _round(value: object, digits: int = 0) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return MISSING
    return f"{value:,.{digits}f}"


def _number(value: object) -> str:
    return _round(value, 0)


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters.update(percent=_percent, round=_round, number=_number)
    env.finalize = lambda value: MISSING if value is None else value
    return env


ENVIRONMENT = _environment()


@lru_cache(maxsize=1024)
def compile_summary(source: str) -> Template:
    """Parse a summary template; raises ``jinja2.TemplateSyntaxError`` (with ``lineno``)."""
    return ENVIRONMENT.from_string(source)


def render_summary(source: str, rule: str, values: Mapping[str, Value]) -> str:
    try:
        return compile_summary(source).render(values)
    except TemplateError as exc:
        log.error("summary template of rule %r failed: %s", rule, exc)
        shown = ", ".join(f"{name}={value}" for name, value in values.items())
        return f"{rule}: {shown}"
