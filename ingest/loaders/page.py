"""A page of a paged document as loaded: its text and where each character is drawn. The PDF text layer
(``pdf.py``) and OCR (``ocr.py``) both produce it; the page-image endpoint (ui/pages.py) draws its boxes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points from the page's top-left corner


@dataclass(frozen=True)
class PageText:
    """One page as loaded: ``text`` is the page's slice of the document text; ``boxes[i]`` is where character i
    is drawn (None for characters the page does not draw: inserted spaces); ``blocks``: (start, end, role) of
    each paragraph of a text layer in ``text`` (empty for OCR pages); ``continues``: its first paragraph runs
    on from the page before's last (the document joins the two pages by a line break, not a blank line)."""

    number: int
    text: str
    boxes: tuple[Box | None, ...]
    width: float
    height: float
    extracted_by: str  # "text" (the PDF's text layer) or "ocr:<tesseract language>"
    blocks: tuple[tuple[int, int, str], ...] = ()
    continues: bool = False

    @property
    def ocr(self) -> bool:
        return self.extracted_by.startswith("ocr")

    def to_dict(self) -> dict:
        return {**asdict(self), "boxes": [list(b) if b else None for b in self.boxes], "ocr": self.ocr,
                "blocks": [list(b) for b in self.blocks]}
