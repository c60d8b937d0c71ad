"""Small helpers for catalogue tests: write a catalogue file, import it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from yibao.catalogue import service
from yibao.catalogue.importer import HEADER
from yibao.catalogue.schemas import ImportReport


def write_csv(
    tmp_path: Path, *lines: str, header: str = HEADER, name: str = "catalogue.csv", bom: bool = False
) -> Path:
    """A catalogue CSV with ``header`` and ``lines`` (header is line 1, the first row line 2)."""
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + "\n".join([header, *lines, ""]).encode("utf-8"))
    return path


def create_catalogue(session: Session, tmp_path: Path, *lines: str, header: str = HEADER) -> ImportReport:
    """Import ``lines`` (CSV rows under ``header``) as the operator."""
    return service.import_file(session, write_csv(tmp_path, *lines, header=header))
