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
