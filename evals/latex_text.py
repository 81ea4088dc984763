"""LaTeX source -> the text it prints, as paragraphs, for measuring what a PDF's text layer gives back.

Not a TeX engine: text commands keep their argument (\\emph{x} -> x), logos print as the PDF draws them
(\\LaTeX -> LATEX), quotes, dashes and accents become their characters, and layout commands print nothing. What
cannot be known without typesetting (math, citations, references, footnote marks, unknown macros, tables, code
listings) becomes ``UNKNOWN``: a sentence holding it is not compared, since no extraction could match it. Code
listings and \\verb stay in the text (they print as typed), marked unknown in paragraphs of their own.
"""

from __future__ import annotations

import unicodedata

UNKNOWN = "\ufffc"
_KEEP = set("emph textbf textit texttt textsf textrm textsc textsl textup textmd textnormal underline mbox hbox "
            "text lr rl RL LR wi eei pai uppercase lowercase textcolor colorbox fbox framebox makebox".split())
_OWN_PARAGRAPH = set("part chapter section subsection subsubsection paragraph subparagraph caption title author "
                     "date".split())
_DROP = set("index label cih paih hspace vspace setlength addtolength settowidth includegraphics usepackage "
            "documentclass pagestyle thispagestyle color bibliographystyle bibliography input include "
            "setcounter addtocounter settextfont setlatintextfont setdigitfont newfontfamily setmainfont "
            "setsansfont setmonofont raisebox rule phantom vphantom hphantom enlargethispage pagenumbering "
            "markboth markright addcontentsline nocite linespread fontsize selectfont hypersetup graphicspath "
            "geometry newcommand renewcommand providecommand newenvironment renewenvironment newtheorem "
            "DeclareMathOperator definecolor".split())
# commands that print nothing (layout, font switches) and take no argument
_NOTHING = set("noindent indent bigskip medskip smallskip centering raggedright raggedleft par clearpage "
               "newpage cleardoublepage pagebreak nopagebreak linebreak nolinebreak newline hfill vfill hfil vfil "
               "null relax small footnotesize scriptsize tiny large Large LARGE huge Huge normalsize normalfont "
               "bfseries itshape mdseries upshape slshape scshape ttfamily sffamily rmfamily em bf it tt sf rm sc "
               "maketitle tableofcontents listoffigures listoftables appendix frontmatter mainmatter backmatter "
               "protect sloppy fussy onecolumn twocolumn item leavevmode justifying justifyv Parsifont "
               "printindex makeindex flushbottom raggedbottom baselineskip parindent".split())
_SPACE = set("quad qquad enspace thinspace enskip space".split())
_WORDS = {"LaTeX": "LATEX", "TeX": "TEX", "XeLaTeX": "XELATEX", "XeTeX": "XETEX",
          "LaTeXe": "LATEX2ε", "AmS": "AMS", "ldots": "…", "dots": "…",
          "textbackslash": "\\", "bs": "\\", "slash": "/", "ss": "ß", "o": "ø", "O": "Ø", "i": "ı", "j": "ȷ",
          "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "copyright": "©",
          "textregistered": "®", "texttrademark": "™", "S": "§", "P": "¶", "dag": "†", "ddag": "‡",
          "textendash": "–", "textemdash": "—", "textasciitilde": "~", "textasciicircum": "^", "textbar": "|",
          "textless": "<", "textgreater": ">", "pounds": "£", "euro": "€", "today": UNKNOWN}
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a",
            "d": "\u0323", "b": "\u0331"}
_ESCAPED = set("%&$#_{}")
_VERBATIM_ENVS = set("verbatim verbatim* Verbatim lstlisting rtlverbatim example comment minted alltt".split())
_UNKNOWN_ENVS = set("equation equation* align align* eqnarray eqnarray* displaymath math gather gather* multline "
                    "multline* tabular tabular* tabularx array picture tikzpicture lscommand thebibliography "
                    "figure* table table* tabbing".split())


def latex_text(source: str) -> str:
    """The printed text of a LaTeX source: paragraphs separated by blank lines, ``UNKNOWN`` where unknowable."""
    out = _Converter(source).run()
    paras = (" ".join(p.split()) for p in out.split("\n\n"))
    return "\n\n".join(p for p in paras if p)


class _Converter:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.out: list[str] = []

    def run(self) -> str:
        self._until(None)
        return "".join(self.out)

    # ---------------------------------------------------------------- reading
    def _until(self, closer: str | None) -> None:
        """Converts until ``closer`` ("}" of a group) or the end, appending to ``self.out``."""
        s = self.s
        while self.i < len(s):
            ch = s[self.i]
            if ch == closer:
                self.i += 1
                return
            if ch == "\\":
                self._command()
            elif ch == "%":
                self._comment()
            elif ch == "{":
                self.i += 1
                self._until("}")
            elif ch == "}":
                self.i += 1  # unbalanced: ignore
            elif ch == "$":
                self._math()
            elif ch == "~":
                self.out.append(" ")
                self.i += 1
            elif ch == "\n":
                j = self.i + 1
                while j < len(s) and s[j] in " \t\r":
                    j += 1
                if j < len(s) and s[j] == "\n":
                    self.out.append("\n\n")
                    while j < len(s) and s[j] in " \t\r\n":
                        j += 1
                else:
                    self.out.append(" ")
                self.i = j
            elif ch in "`'-" and self._ligature():
                continue
            elif ch in "&^_":
                self.out.append(UNKNOWN)  # alignment or math outside math: not text
                self.i += 1
            else:
                self.out.append(ch)
                self.i += 1

    def _ligature(self) -> bool:
        s, i = self.s, self.i
        for src, dst in (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"), ("`", "‘"), ("'", "’")):
            if s.startswith(src, i):
                self.out.append(dst)
                self.i += len(src)
                return True
        return False

    def _comment(self) -> None:
        """A comment eats the rest of its line, the newline and the next line's leading spaces."""
        end = self.s.find("\n", self.i)
        if end < 0:
            self.i = len(self.s)
            return
        self.i = end + 1
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def _math(self) -> None:
        s = self.s
        closer = "$$" if s.startswith("$$", self.i) else "$"
        end = self._find_unescaped(closer, self.i + len(closer))
        self.i = len(s) if end < 0 else end + len(closer)
        self.out.append(UNKNOWN)

    def _find_unescaped(self, what: str, start: int) -> int:
        j = start
        while True:
            j = self.s.find(what, j)
            if j < 0 or self.s[j - 1] != "\\":
                return j
            j += 1

    def _name(self) -> str:
        """After a backslash: a command's name (letters) or one symbol."""
        s = self.s
        j = self.i
        while j < len(s) and (s[j].isascii() and s[j].isalpha() or s[j] == "@"):
            j += 1
        if j == self.i:
            j += 1
        name = s[self.i:j]
        self.i = j
        return name

    def _skip_spaces(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def _optional(self) -> str | None:
        self._skip_spaces()
        if self.i < len(self.s) and self.s[self.i] == "[":
            end = self.s.find("]", self.i)
            if end < 0:
                end = len(self.s)
            arg = self.s[self.i + 1:end]
            self.i = end + 1
            return arg
        return None

    def _group_raw(self) -> str:
        """The next brace group's raw text (or the next single character) without converting it."""
        self._skip_spaces()
        s = self.s
        if self.i >= len(s):
            return ""
        if s[self.i] != "{":
            if s[self.i] == "\\":
                start = self.i
                self.i += 1
                self._name()
                return s[start:self.i]
            self.i += 1
            return s[self.i - 1]
        depth, j = 0, self.i
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        raw = s[self.i + 1:j]
        self.i = j + 1
        return raw

    def _group_text(self) -> str:
        """The next brace group converted."""
        return _Converter(self._group_raw()).run()

    # ---------------------------------------------------------------- commands
    def _command(self) -> None:
        self.i += 1
        if self.i >= len(self.s):
            return
        name = self._name()
        star = name.isalpha() and self.s.startswith("*", self.i)
        if star:
            self.i += 1
        out = self.out
        if name in _ESCAPED:
            out.append(name)
        elif name == "\\":
            self._optional()
            out.append(" ")
        elif name in {" ", ",", ";", ":", "!", "\n"}:
            out.append(" ")
        elif name in {"-", "/", "@"}:
            pass
        elif name in {"[", "("}:
            end = self.s.find("\\" + ("]" if name == "[" else ")"), self.i)
            self.i = len(self.s) if end < 0 else end + 2
            out.append(UNKNOWN)
        elif name in _ACCENTS:
            base = self._group_text() if self.i < len(self.s) else ""
            out.append(unicodedata.normalize("NFC", base[:1] + _ACCENTS[name] + base[1:]) if base else "")
        elif name == "verb":
            self._verb()
        elif name in {"begin", "end"}:
            self._environment(name)
        elif name in _KEEP:
            self._optional()
            if name in {"textcolor", "colorbox"}:
                self._group_raw()
            if name in {"framebox", "makebox"}:
                self._optional()
            out.append(self._group_text())
        elif name in {"ci", "fni"}:
            out.append("\\" + self._group_text())
        elif name in _OWN_PARAGRAPH:
            self._optional()
            out.append("\n\n" + self._group_text() + "\n\n")
        elif name == "footnote":
            self._optional()
            text = self._group_text()
            out.append(UNKNOWN + "\n\n" + text + "\n\n")  # the mark stays; the note prints at the page's foot
        elif name in {"url", "nolinkurl"}:
            out.append(self._group_raw())
        elif name == "href":
            self._group_raw()
            out.append(self._group_text())
        elif name in _DROP:
            self._optional()
            args = {"newcommand": 2, "renewcommand": 2, "providecommand": 2, "newenvironment": 3,
                    "renewenvironment": 3, "textcolor": 1, "setlength": 2, "addtolength": 2, "settowidth": 2,
                    "setcounter": 2, "addtocounter": 2, "raisebox": 2, "newtheorem": 2, "definecolor": 3,
                    "DeclareMathOperator": 2, "fontsize": 2, "newfontfamily": 1}.get(name, 1)
            for _ in range(args):
                self._optional()
                self._group_raw()
            self._optional()
        elif name in _NOTHING:
            if name == "item":
                label = self._optional()
                out.append("\n\n" + (_Converter(label).run() + " " if label else ""))
            elif name in {"par", "clearpage", "newpage", "maketitle", "tableofcontents"}:
                out.append("\n\n")
            self._skip_spaces()
        elif name in _SPACE:
            out.append(" ")
        elif name in _WORDS:
            out.append(_WORDS[name])
            if self.s.startswith("{}", self.i):
                self.i += 2
        else:
            out.append(UNKNOWN)  # a macro of the document or of a package: what it prints is not known here

    def _verb(self) -> None:
        s = self.s
        if self.i >= len(s):
            return
        delim = s[self.i]
        end = s.find(delim, self.i + 1)
        if end < 0:
            end = len(s)
        self.out.append(s[self.i + 1:end])
        self.i = end + 1

    def _environment(self, which: str) -> None:
        env = self._group_raw()
        if which == "end":
            self.out.append("\n\n")
            return
        if env in _VERBATIM_ENVS or env in _UNKNOWN_ENVS:
            end = self.s.find("\\end{" + env + "}", self.i)
            body = self.s[self.i:len(self.s) if end < 0 else end]
            self.i = len(self.s) if end < 0 else end + len(env) + 6
            # a listing prints as typed, everything else is unknown; either way a paragraph of its own
            self.out.append(f"\n\n{UNKNOWN} " + (body if env in _VERBATIM_ENVS else "") + "\n\n")
            return
        self.out.append("\n\n")
