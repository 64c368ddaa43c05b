"""The error of a setting the service cannot use: the command line prints it as one line."""

from __future__ import annotations


class InvalidSetting(ValueError):
    """An environment variable holds a value the service cannot use."""
