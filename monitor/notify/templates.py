"""The Jinja2 environments for the ops-edited templates in ``alerts/``.

Every template runs in Jinja2's sandbox with :class:`~jinja2.StrictUndefined`, so a typo
such as ``{{ alert.acount_name }}`` is an error (reported, and the built-in message is
sent) rather than a silently empty field. Three environments share one folder:

* ``text``: plain text (email body and subject), no escaping;
* ``html``: HTML with autoescape;
* ``slack``: every ``{{ }}`` output escaped for Slack mrkdwn by ``finalize``, while the
  template's literal text is not, so ``<https://crm/…|Open in CRM>`` links still work.
  Macro output counts as already escaped, so a macro may call another macro.

Environments are cached per folder; Jinja re-reads a template whose file changed, so
an edit takes effect at the next message without a restart.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.debug import rewrite_traceback_stack
from jinja2.runtime import Context, Macro
from jinja2.sandbox import SandboxedEnvironment

from monitor.notify.formatting import FILTERS, SlackSafe, blank_none, days_until, slack_escape

SLACK_TEMPLATE = "slack.j2"
TEXT_TEMPLATE = "email.txt.j2"
HTML_TEMPLATE = "email.html.j2"


class SlackEnvironment(SandboxedEnvironment):
    """A sandbox whose macro calls return :class:`SlackSafe` text.

    ``finalize`` escapes every ``{{ }}`` output; a macro's output is already escaped
    inside the macro, so without this ``{{ other_macro(x) }}`` would be escaped twice
    and show ``&amp;lt;`` in Slack.
    """

    def call(
        __self,  # Jinja's own signature, so keyword arguments pass through
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(__obj, Macro) and isinstance(result, str):
            return SlackSafe(result)
        return result


@dataclass(frozen=True)
class Environments:
    text: SandboxedEnvironment
    html: SandboxedEnvironment
    slack: SandboxedEnvironment


def _configure(env: SandboxedEnvironment) -> SandboxedEnvironment:
    env.filters.update(FILTERS)
    env.globals["days_until"] = days_until
    return env


@lru_cache(maxsize=16)
def environments(directory: str) -> Environments:
    """The three environments for one templates folder (cached; thread-safe to use)."""
    loader: BaseLoader = FileSystemLoader(directory)
    common: dict[str, Any] = {
        "loader": loader,
        "undefined": StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "auto_reload": True,
    }
    return Environments(
        text=_configure(SandboxedEnvironment(autoescape=False, finalize=blank_none, **common)),
        html=_configure(SandboxedEnvironment(autoescape=True, finalize=blank_none, **common)),
        slack=_configure(SlackEnvironment(autoescape=False, finalize=slack_escape, **common)),
    )


def current_template_error() -> BaseException:
    """The exception being handled, its traceback pointing at template lines.

    Call it in an ``except`` block. Jinja rewrites tracebacks itself only inside
    ``Template.render``, not for template modules and macros, which csmon uses.
    """
    return rewrite_traceback_stack()


def describe_template_error(exc: BaseException, directory: Path, name: str) -> str:
    """One sentence an operator can act on: ``alerts/slack.j2:12: 'x' is undefined``.

    Runtime errors carry the template line in their traceback once rewritten by
    :func:`current_template_error`, so the line is found there.
    """
    path = directory / name
    if isinstance(exc, TemplateNotFound):
        return f"{path}: template file not found"
    if isinstance(exc, TemplateSyntaxError):
        where = exc.filename or str(path)
        return f"{where}:{exc.lineno}: syntax error: {exc.message}"
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(name):
            line = frame.lineno
    location = f"{path}:{line}" if line is not None else str(path)
    return f"{location}: {type(exc).__name__}: {exc}"
