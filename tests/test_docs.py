"""The generated method pages are in sync with the registry."""
from pathlib import Path

import numopt

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_method_has_a_current_page():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", DOCS / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    stale = []
    for name in numopt.list_methods():
        path = DOCS / "methods" / (name.replace("/", "_") + ".md")
        if not path.exists() or path.read_text() != gen.page(name):
            stale.append(name)
    assert not stale, f"run `python docs/generate.py`: stale pages for {stale}"


def _gen():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", DOCS / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def test_methods_index_is_current_and_has_no_orphan_pages():
    gen = _gen()
    assert (DOCS / "methods" / "index.md").read_text() == gen.index_page(), \
        "run `python docs/generate.py`: docs/methods/index.md is stale"
    names = {n.replace("/", "_") for n in numopt.list_methods()}
    orphans = sorted(p.stem for p in (DOCS / "methods").glob("*.md") if p.stem != "index" and p.stem not in names)
    assert not orphans, f"pages of methods that are not registered: {orphans}"


def test_method_page_sections():
    gen = _gen()
    text = gen.page("fista")
    for section in ("## Algorithm", "## Usage", "## Oracles required", "## Optimality measure",
                    "## Theoretical rate", "## Reference", "## Options"):
        assert section in text
    assert "Beck & Teboulle" in text and "`prox`:" in text
    # a pipe inside an option's doc would break the Markdown table
    assert gen._cell("a | b\nc") == "a \\| b c"
