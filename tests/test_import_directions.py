"""The house keeps its shape: data flows one way between the rooms.

features (the claim as data, readers, rules) knows nothing of the rest; scoring (the trained
artifact, reasons, the scorer) builds on features; training and serving both build on scoring
and never on each other; the simulator only speaks the contract; analytics reads what training
and scoring define; the client stands alone. The CLI is the composition root and may import
everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
ROOMS = ("features", "scoring", "training", "serving", "simulator", "analytics", "client", "cli")
MAY_IMPORT = {
    "features": {"features"},
    "scoring": {"features", "scoring"},
    "training": {"features", "scoring", "training"},
    "serving": {"features", "scoring", "serving"},
    "simulator": {"features", "simulator"},
    "analytics": {"features", "scoring", "training", "analytics"},
    "client": {"client"},  # installed by PM systems without the rest
    "cli": set(ROOMS),  # the composition root: it wires every room together
}


def _imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        rooms |= {name.split(".")[0] for name in names} & set(ROOMS)
    return rooms


@pytest.mark.parametrize("room", ROOMS)
def test_rooms_import_only_downstream(room: str):
    wrong = {
        str(path.relative_to(REPO)): sorted(_imported_rooms(path) - MAY_IMPORT[room])
        for path in sorted((REPO / room).rglob("*.py"))
    }
    assert not {file: rooms for file, rooms in wrong.items() if rooms}
