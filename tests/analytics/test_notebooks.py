"""The analyst notebooks run top to bottom on a tiny simulated world, all three at once."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_saved_without_outputs():
    assert len(NOTEBOOKS) == 3
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(not cell.outputs and cell.execution_count is None for cell in code), path.name
        assert not any("def " in cell.source for cell in code), f"{path.name} holds logic"


async def _run_all(folders: list[Path]) -> list[BaseException | None]:
    async def run(path: Path, folder: Path) -> None:
        notebook = nbformat.read(path, as_version=4)
        env = {
            **os.environ,
            "CLAIMRISK_NOTEBOOK_CLAIMS": "3000",
            "CLAIMRISK_NOTEBOOK_DIR": str(folder),
            "OMP_WAIT_POLICY": "PASSIVE",  # LightGBM's threads must not spin on a busy box
            "MPLBACKEND": "Agg",
        }
        client = NotebookClient(
            notebook,
            timeout=240,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
        )
        await client.async_execute(env=env)

    return await asyncio.gather(
        *(run(path, folder) for path, folder in zip(NOTEBOOKS, folders, strict=True)),
        return_exceptions=True,
    )


def test_notebooks_execute(tmp_path: Path):
    folders = [tmp_path / path.stem for path in NOTEBOOKS]
    for folder in folders:
        folder.mkdir()
    outcomes = asyncio.run(_run_all(folders))
    failed = {p.name: str(e)[-2000:] for p, e in zip(NOTEBOOKS, outcomes, strict=True) if e}
    if failed:
        pytest.fail("\n\n".join(f"{name}:\n{error}" for name, error in failed.items()))
    assert (folders[0] / "denial_report.html").stat().st_size > 10_000
