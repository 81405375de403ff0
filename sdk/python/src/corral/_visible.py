"""Text from a job made safe to print on a terminal, as the ``corral`` CLI prints it."""

from __future__ import annotations

import re
import unicodedata

# Anything that may need rewriting: C0 and C1 controls, DEL, and the
# non-ASCII characters among which the invisible format ones are.
_SUSPECT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u0600-\U000E007F]")


def visible(text: str, *, one_line: bool = False) -> str:
    r"""``text`` with every character a terminal would act on, or not draw, shown instead.

    A job's output is hostile: ``ESC ] 52`` writes the user's clipboard, a
    ``\r`` and ``ESC [2K`` erase what was printed before, bidi overrides
    make a line read in another order than its bytes. C0 controls and DEL
    come out in caret notation (``ESC`` as ``^[``, ``\r`` as ``^M``), C1
    controls and invisible format characters (Unicode ``Cf``, and the line
    and paragraph separators) as ``<U+XXXX>``; ``\n`` and ``\t`` are kept,
    and ``one_line=True`` shows ``\n`` as ``^J`` too. Printing twice
    changes nothing.
    """
    if not _SUSPECT.search(text) and not (one_line and "\n" in text):
        return text
    out = []
    for char in text:
        code = ord(char)
        if char == "\t" or (char == "\n" and not one_line):
            out.append(char)
        elif code < 0x20:
            out.append("^" + chr(code + 0x40))
        elif code == 0x7F:
            out.append("^?")
        elif 0x80 <= code <= 0x9F or unicodedata.category(char) in ("Cf", "Zl", "Zp"):
            out.append(f"<U+{code:04X}>")
        else:
            out.append(char)
    return "".join(out)
