"""Defaults of the daemon that the command line shows without importing the daemon."""

DEFAULT_LISTEN = "127.0.0.1:9810"
