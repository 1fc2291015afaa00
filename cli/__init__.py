"""The one command line of claimrisk (the composition root: the only room that imports every
other). A module per command group; each command parses options, calls the library and prints."""

from cli import analysis, data, demo, model, service
from cli.common import app

__all__ = ["analysis", "app", "data", "demo", "model", "service"]
