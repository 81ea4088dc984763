"""Run the ``verbatim`` command and SIGKILL it the n-th time the index finishes a write step:

    python tests/kill_at.py POINT[:N] ingest FOLDER --json

The product has no crash hook: this wrapper patches Chroma's ``Collection.upsert`` and ``Collection.delete`` in
the process it runs, so the kill lands right after the write of a step, wherever the store makes it. The steps,
in the order the store writes a document (README, Crash safety):

    chunks-written      the chunks of a document are written (upsert into <collection>_chunks)
    sentences-written   its sentences are written (upsert into <collection>_sentences)
    committed           its commit record is written (upsert into <collection>_docs)
    record-deleted      a document's commit record is deleted (delete from <collection>_docs)
"""

from __future__ import annotations

import os
import signal
import sys

from chromadb.api.models.Collection import Collection

POINTS = {("upsert", "chunks"): "chunks-written", ("upsert", "sentences"): "sentences-written",
          ("upsert", "docs"): "committed", ("delete", "docs"): "record-deleted"}


def kill_at(point: str, nth: int) -> None:
    """Patch the collection writes so the ``nth`` completed write of ``point`` kills this process."""
    if point not in POINTS.values():
        raise SystemExit(f"kill_at.py: unknown point {point!r}: use one of {', '.join(POINTS.values())}")
    hits = 0

    def watch(method: str) -> None:
        original = getattr(Collection, method)

        def written(self, *args, **kwargs):
            nonlocal hits
            result = original(self, *args, **kwargs)
            if POINTS.get((method, self.name.rpartition("_")[2])) == point:
                hits += 1
                if hits >= nth:
                    os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(Collection, method, written)

    watch("upsert")
    watch("delete")


def main() -> None:
    point, _, nth = sys.argv[1].partition(":")
    kill_at(point, int(nth or 1))
    from verbatim_qa.cli import main as verbatim

    sys.argv = ["verbatim", *sys.argv[2:]]
    verbatim()


if __name__ == "__main__":
    main()
