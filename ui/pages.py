"""A PDF page as a PNG with the characters ``start:end`` of the document highlighted.

The boxes come from loading the page again from the ingested file (``ingest.loaders.pdf.pdf_page``: the same code
on the same bytes gives the same text, and we check it does: the page's text must equal its slice of the stored
document text, or the file changed since it was ingested). Rendering is pypdfium2's.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from verbatim_qa.ingest.loaders.errors import LoadError
from verbatim_qa.ingest.loaders.ocr import render
from verbatim_qa.ingest.loaders.page import Box
from verbatim_qa.ingest.loaders.pdf import pdf_page
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

TINT = (255, 212, 0, 110)  # translucent yellow over the quoted characters
LINE_TOLERANCE = 2.0  # points: boxes of one line differ in top/bottom by less (diacritics, superscripts more)


class PageError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


PAGE_PATH = re.compile(r"^/api/sources/([^/]+)/pages/(\d+)\.png$")


def signature(token: str, doc_id: str, page: int, start: int | None, end: int | None, collection: str = "") -> str:
    """An HMAC of one page image's address under the server token: the chat's ``<img>`` cannot send the bearer
    header, so with a token the UI (whose user signed in with it) links each image with its signature, valid
    for that image (of that collection: another than the default is part of the address) only."""
    message = f"{doc_id}/{page}/{'' if start is None else start}/{'' if end is None else end}"
    message += f"/{collection}" if collection else ""
    return hmac.new(token.encode("utf-8"), message.encode(), hashlib.sha256).hexdigest()[:32]


def signed(token: str, path: str, query: str) -> bool:
    """Whether a GET of ``path?query`` is a page image carrying a valid signature (its ``collection`` included)."""
    m = PAGE_PATH.match(path)
    if not m:
        return False
    q = parse_qs(query)
    one = {k: v[0] for k, v in q.items() if len(v) == 1}
    try:
        start = int(one["start"]) if "start" in one else None
        end = int(one["end"]) if "end" in one else None
    except ValueError:
        return False
    given = one.get("sig", "")
    return bool(given) and hmac.compare_digest(given, signature(token, m[1], int(m[2]), start, end,
                                                                one.get("collection", "")))


def page_url(doc_id: str, page: int, start: int | None = None, end: int | None = None, token: str = "",
             collection: str = "") -> str:
    """The address of a page image; ``collection``: only for another than the default."""
    params: dict = {"start": start, "end": end} if start is not None and end is not None else {}
    if collection:
        params["collection"] = collection
    if token:
        params["sig"] = signature(token, doc_id, page, params.get("start"), params.get("end"), collection)
    return f"/api/sources/{doc_id}/pages/{page}.png" + (f"?{urlencode(params)}" if params else "")


def highlight_boxes(store: Store, settings: Settings, doc_id: str, number: int, start: int | None,
                    end: int | None):
    """(the document, the reloaded page, its file bytes, merged boxes of start:end on it); PageError for bad
    requests."""
    doc = store.load(doc_id)
    if doc is None:
        raise PageError(404, f"no document {doc_id}")
    if not doc.source.lower().endswith(".pdf") or not doc.pages:
        raise PageError(404, f"{doc.source} is not a PDF: it has no pages")
    spans = {n: (a, b) for a, b, n in doc.pages}
    if number not in spans:
        raise PageError(404, f"{doc.source} has no page {number} (pages 1-{len(doc.pages)})")
    if (start is None) != (end is None):
        raise PageError(422, "give both start and end, or neither")
    a, b = spans[number]
    if start is not None:
        if not 0 <= start < end <= len(doc.text):
            raise PageError(422, f"characters {start}:{end} are not in {doc.source} (0:{len(doc.text)})")
        if end <= a or start >= b:
            raise PageError(422, f"characters {start}:{end} are not on page {number} of {doc.source} ({a}:{b})")
    path = Path(doc.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        # the reason names no server path: it goes to HTTP clients
        raise PageError(404, f"{doc.source}: the ingested file is gone ({exc.strerror}); ingest it again") from exc
    try:
        page = pdf_page(path, data, number, settings)
    except LoadError as exc:
        raise PageError(409, f"{doc.source}: {exc.reason}") from exc
    if page.text != doc.text[a:b]:
        raise PageError(409, f"{doc.source} changed since it was ingested: ingest it again")
    boxes = [] if start is None else merge(page.boxes[max(start, a) - a: min(end, b) - a])
    return doc, page, data, boxes


def merge(boxes) -> list[Box]:
    """Character boxes -> one rectangle per run of characters on the same line."""
    out: list[list[float]] = []
    for box in boxes:
        if box is None:
            continue
        x0, top, x1, bottom = box
        if out and abs(out[-1][1] - top) < LINE_TOLERANCE and abs(out[-1][3] - bottom) < LINE_TOLERANCE \
                or out and out[-1][1] <= (top + bottom) / 2 <= out[-1][3]:
            r = out[-1]
            r[0], r[1], r[2], r[3] = min(r[0], x0), min(r[1], top), max(r[2], x1), max(r[3], bottom)
        else:
            out.append([x0, top, x1, bottom])
    return [tuple(r) for r in out]


def page_png(store: Store, settings: Settings, doc_id: str, number: int, start: int | None = None,
             end: int | None = None) -> bytes:
    from PIL import Image, ImageDraw

    doc, _, data, boxes = highlight_boxes(store, settings, doc_id, number, start, end)
    # pixels per point: below page_image_dpi on a page over render_max_pixels
    image, _, _, scale = render(Path(doc.path), data, number, settings.documents.page_image_dpi,
                                settings.documents.render_max_pixels)
    image = image.convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for x0, top, x1, bottom in boxes:
        draw.rectangle([x0 * scale - 1, top * scale - 1, x1 * scale + 1, bottom * scale + 1], fill=TINT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG", optimize=False)
    return out.getvalue()
