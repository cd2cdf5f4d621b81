"""User-facing errors.

A :class:`CsmonError` carries one sentence meant for the person at the terminal.
The CLI prints it and exits non-zero, without a traceback (unless ``--debug``).
"""


class CsmonError(Exception):
    """An error whose message is fit to show to a user as is."""

    exit_code = 1


class ConfigError(CsmonError):
    """The configuration file or environment holds an invalid value."""

    exit_code = 2


class InputFileError(CsmonError):
    """An input file cannot be read at all (missing, unreadable, unknown format)."""
