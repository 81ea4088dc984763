"""Paths given -> the files to load: folders walked recursively and sorted, junk and hidden files left out."""

from __future__ import annotations

import os
from pathlib import Path

_JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _skipped(name: str) -> bool:
    return name.startswith((".", "~$")) or name in _JUNK


def iter_files(paths: list[Path]) -> list[Path]:
    """Expand folders recursively (sorted). Unsupported files stay in: reported as failures, not lost."""
    out: list[Path] = []
    seen: set[Path] = set()
    for given in map(Path, paths):
        if given.is_dir():
            found = []
            for root, dirs, files in os.walk(given):  # os.walk does not follow symlinked dirs: no loops
                dirs[:] = [d for d in dirs if not _skipped(d)]
                found += [Path(root, f) for f in files if not _skipped(f)]
            found = [f for f in found if f.is_file()]  # regular files (or links to them); no sockets/FIFOs
            candidates = sorted(found)
        else:
            candidates = [given]  # explicit: kept even if hidden, unsupported or missing
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out
