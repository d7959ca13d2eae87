"""Generate one docs page per registered method (docs/methods/<name>.md) and an index,
from the registry — the single source of truth. Run: python docs/generate.py"""
from __future__ import annotations

from pathlib import Path

import numopt
from numopt._registry import get_method

OUT = Path(__file__).parent / "methods"


def page(name):
    s = get_method(name)
    lines = [f"# `{s.name}` — {s.summary}", "", f"Family: `{s.family}`  ", 
             f"Requires: {', '.join(s.requires) or 'nothing'}  ",
             f"Backends: {', '.join(s.backends)}", "",
             "## Usage", "", "```python", f"numopt.minimize(fun, x0, method={s.name!r}, ...)", "```", "",
             "## Optimality measure (`tol`)", "", s.optimality, "",
             "## Theoretical rate", "", s.rate_text, "",
             "## Reference", "", s.reference, "", "## Options", "",
             "| option | default | meaning |", "|---|---|---|"]
    for k, (default, doc) in s.all_options().items():
        lines.append(f"| `{k}` | `{default!r}` | {doc} |")
    return "\n".join(lines) + "\n"


def main():
    OUT.mkdir(exist_ok=True)
    names = numopt.list_methods()
    index = ["# Methods", "", "Generated from the registry by `python docs/generate.py`.", "",
             "| method | family | summary |", "|---|---|---|"]
    for n in names:
        s = get_method(n)
        fname = n.replace("/", "_") + ".md"
        (OUT / fname).write_text(page(n))
        index.append(f"| [`{n}`]({fname}) | {s.family} | {s.summary} |")
    (OUT / "index.md").write_text("\n".join(index) + "\n")
    return names


if __name__ == "__main__":
    print(f"wrote {len(main())} method pages to {OUT}")
