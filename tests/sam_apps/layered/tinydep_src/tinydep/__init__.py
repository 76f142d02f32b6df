"""A tiny pure-Python package the tests turn into a wheel."""

VERSION = "1.0"
