"""Sphinx configuration of the numopt documentation site.

Build (what CI runs, from the repository root):

    python -m sphinx -W -b html docs docs/_build/html

The Markdown pages of docs/ are read by myst-parser, the API reference comes from the
docstrings (autodoc + napoleon), the gallery runs the scripts of ../examples with
sphinx-gallery, and the method pages docs/methods/*.md are regenerated from the
registry before the build (docs/generate.py), so they cannot be stale on the site.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))          # numopt and problems from this checkout
os.environ.setdefault("MPLBACKEND", "Agg")

import numopt  # noqa: E402

project = "numopt"
author = "the numopt developers"
copyright = "numopt developers, BSD-3-Clause"
release = version = numopt.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.md5",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.ipynb",
                    "api/generated/*.md5"]

# --- myst ---------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# --- autodoc / napoleon -------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"            # signatures carry the defaults; types live in the docstrings
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
nitpicky = False                      # cross-references to numpy/scipy types are plain text

# --- theme --------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"numopt {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False

# --- sphinx-gallery -----------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "show_memory": False,
}


def _load_generator():
    spec = importlib.util.spec_from_file_location("numopt_docs_generate", HERE / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


_GEN = _load_generator()
_GEN.write_method_pages()     # docs/methods/*.md from the registry (only changed files written)

# pages of docs/ that index.md does not list in its toctrees go to a last "More" toctree
# (pages other engineers add later appear without an edit here)
_MARKER = "<!-- more-pages -->"


def top_level_pages():
    """The Markdown pages directly under docs/ (document names, without .md)."""
    return sorted(p.stem for p in HERE.glob("*.md"))


def toctree_entries(text):
    """Document names listed in the ```{toctree} blocks of a Markdown text."""
    import re

    names = []
    for block in re.findall(r"```\{toctree\}(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                names.append(line)
    return names


def more_pages_toctree(index_text):
    listed = set(toctree_entries(index_text)) | {"index"}
    rest = [p for p in top_level_pages() if p not in listed]
    if not rest:
        return ""
    return "\n".join(["```{toctree}", ":caption: More", ":maxdepth: 1", "", *rest, "```", ""])


def _on_source_read(app, docname, source):
    text = source[0]
    if docname == "index" and _MARKER in text:
        text = text.replace(_MARKER, more_pages_toctree(text))
    if "<!-- registry: " in text:
        text = _GEN.fill_registry_tables(text)
    source[0] = text


# The docstrings write math in plain ASCII for help() (|x|, ||x||_1, {z : |z_i| <= 1});
# reST would read |x| as a substitution reference. Outside inline literals and roles,
# a bar is escaped before the docstring is parsed (runs after napoleon, priority 600).
_CODE_SPAN = re.compile(r"(``.+?``|:[a-z:]+:`[^`]*`|`[^`]*`_?)")


def escape_bars(line):
    """``line`` with every ``|`` outside inline literals and roles escaped for reST."""
    if line.lstrip().startswith(("|", "+")):      # a reST line block or grid table: as is
        return line
    parts = _CODE_SPAN.split(line)
    return "".join(part if i % 2 else part.replace("|", r"\|") for i, part in enumerate(parts))


def _on_docstring(app, what, name, obj, options, lines):
    lines[:] = [escape_bars(line) for line in lines]


def setup(app):
    app.connect("source-read", _on_source_read)
    app.connect("autodoc-process-docstring", _on_docstring, priority=600)

# Third-party noise only (each genuinely outside this repository):
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg",
                        category=UserWarning)   # plt.show() in a gallery script under Agg
suppress_warnings: list[str] = []
