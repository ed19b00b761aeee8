"""Errors a user can act on: the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """Something the user can fix (missing Java, no emulator, bad input); the message says how."""
