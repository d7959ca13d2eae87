"""Name lookup shared by the problem families: unknown names get close suggestions."""
from __future__ import annotations

import difflib


def lookup(table, name, kind):
    """``table[name]``, or a ValueError naming close matches and the known names."""
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, table, n=3)
    raise ValueError(f"unknown {kind} {name!r}" + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
                     + f" Known: {', '.join(sorted(table))}")
