"""Keep the message catalogs current: extract, update and compile every domain with Babel.

    python tools/catalogs.py          # extract, update the .po files, compile the .mo files
    python tools/catalogs.py compile  # only compile (after editing translations)

Each domain is one part of the grader with its own catalog, so translators (and parallel
work) never meet in one file. After `update`, fill in the empty `msgstr ""` entries of
grader/locale/ko/LC_MESSAGES/<domain>.po and run it again; tests/test_i18n.py fails while an
entry is missing or its placeholders differ. docs/translating.md has the rules for Korean.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "grader" / "locale"
TEMPLATES = LOCALE / "templates"
TRANSLATED = ("ko",)
KEYWORDS = ("_", "N_", "ngettext:1,2")
MAPPING = ROOT / "tools" / "babel.cfg"

DOMAINS: dict[str, tuple[str, ...]] = {
    "cli": ("grader/cli.py", "grader/submission.py", "grader/catalog.py", "grader/options.py", "grader/mnist.py",
            "grader/course/release.py", "grader/i18n.py"),
    "reports": ("grader/report", "templates", "grader/course", "grader/batch", "grader/hand_in_review.py",
                "grader/pipeline.py"),
    "checks": ("grader/checks/api.py", "grader/checks/contract.py", "grader/checks/outcome.py",
               "grader/checks/runner.py", "grader/checks/gradcheck.py", "grader/sandbox"),
    **{f"exercise{n}": (f"grader/checks/exercise{n}",) for n in range(1, 8)},
    "handouts": ("exercises",),
    "notebooks": ("grader/notebook_check.py", "grader/notebook_definitions.py", "grader/course/notebooks.py"),
}
"""Domain -> the files and folders its messages are extracted from. A file inside two listed
paths belongs to the domain that names it most closely (grader/course/release.py is `cli`'s,
the rest of grader/course is `reports`')."""


def owner(file: Path) -> str | None:
    """The domain whose listed path is the longest one containing `file`."""
    relative = file.resolve().relative_to(ROOT).as_posix()
    claims = [(len(path), domain) for domain, paths in DOMAINS.items() for path in paths
              if relative == path or relative.startswith(path.rstrip("/") + "/")]
    return max(claims)[1] if claims else None


def files(domain: str) -> list[Path]:
    """The .py and .html files whose messages belong to `domain`."""
    found = []
    for path in (ROOT / p for p in DOMAINS[domain]):
        candidates = [path] if path.is_file() else sorted([*path.rglob("*.py"), *path.rglob("*.html")])
        found += [f for f in candidates if owner(f) == domain]
    return found


def extracted(domain: str) -> dict[str, Path]:
    """The message ids `tools/catalogs.py` would extract for `domain` (singular ids; a plural
    pair by its singular), each with a file that uses it: what tests/test_i18n.py requires."""
    from babel.messages.extract import extract_from_file

    if domain in TITLES:
        return check_titles(domain)
    keywords = {"_": None, "N_": None, "ngettext": (1, 2)}
    found: dict[str, Path] = {}
    for file in files(domain):
        method = _method(file)
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, message, _comments, _context in extract_from_file(method, str(file), keywords=keywords,
                                                                      options=options):
            found.setdefault(message[0] if isinstance(message, tuple) else message, file)
    for message, file in handout_instructions(domain).items():
        found.setdefault(message, file)
    return found


def handout_instructions(domain: str) -> dict[str, Path]:
    """The stubs' docstrings, the `handouts` domain's messages (grader/handouts.py): no `_()`
    marks them, the stub is read as it is. Packages' `__init__.py` files are not handouts."""
    if domain != "handouts":
        return {}
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from grader.handouts import instructions

    return {text: file for file in files(domain) if file.suffix == ".py" and file.name != "__init__.py"
            for text in instructions(file.read_text(encoding="utf-8"))}


def add_to_template(pot: Path, messages: dict[str, Path]) -> None:
    """Add messages that Babel's extractors do not see to an extracted .pot."""
    from babel.messages.pofile import read_po, write_po

    with pot.open("rb") as handle:
        template = read_po(handle)
    for message in sorted(messages):
        template.add(message)
    with pot.open("wb") as handle:
        write_po(handle, template, omit_header=True, no_location=True, sort_output=True)


def _method(file: Path) -> str:
    """The extraction method tools/babel.cfg maps `file` to (its first matching section)."""
    from babel.messages.frontend import parse_mapping_cfg
    from babel.util import pathmatch

    relative = file.resolve().relative_to(ROOT).as_posix()
    with MAPPING.open() as handle:
        methods, _options = parse_mapping_cfg(handle)
    return next((method for pattern, method in methods if pathmatch(pattern, relative)),
                "python" if file.suffix == ".py" else "jinja2")


# -- the checks' titles ---------------------------------------------------------------------------
CHECKS = ROOT / "grader" / "checks"
TITLES: dict[str, str] = {"titles": "test_public.py", "titles_hidden": "test_hidden*.py"}
"""Domains of the checks' titles, by the check files they come from. A title is the first line of
a check's docstring (grader/checks/runner.py shows it through `_`), not a `_()` call, so Babel
cannot extract it. The hidden checks' titles have their own catalog, named like test_hidden.py so
that the students' bundle leaves it out too (grader/course/release.py, `is_secret`)."""


def check_titles(domain: str) -> dict[str, Path]:
    """Each title of `domain`'s check files (grader/checks/exerciseN/), with a file that has it."""
    found: dict[str, Path] = {}
    for file in sorted(CHECKS.glob(f"exercise*/{TITLES[domain]}")):
        for title in titles_in(file):
            found.setdefault(title, file)
    return found


def titles_in(file: Path) -> list[str]:
    """The titles of a check file's test_* functions, stripped exactly as the runner strips them."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    docs = [ast.get_docstring(node, clean=False) or "" for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")]
    return [doc.strip().splitlines()[0] for doc in docs if doc.strip()]


def extract_titles(domain: str) -> Path:
    """Write templates/<domain>.pot with `domain`'s titles, in the form `extract` writes."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(domain=domain)
    for title in check_titles(domain):
        catalog.add(title)
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    pot = TEMPLATES / f"{domain}.pot"
    with pot.open("wb") as handle:
        write_po(handle, catalog, omit_header=True, sort_output=True, no_location=True)
    return pot


def compile_titles(po: Path) -> None:
    """Compile a titles catalog without Babel's %-format check: a title is never %-formatted, yet
    Babel reads "30% of the units" as a placeholder (`% o`) that the translation would have to keep."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle)
    with po.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=True)


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def extract(domain: str) -> Path | None:
    paths = files(domain)
    if not paths:
        return None
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    pot = TEMPLATES / f"{domain}.pot"
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    pybabel("extract", "--no-location", "--sort-output", "--omit-header", "-F", str(MAPPING), *keywords,
            "-o", str(pot), *[str(p.relative_to(ROOT)) for p in paths])
    unmarked = handout_instructions(domain)
    if unmarked:
        add_to_template(pot, unmarked)
    return pot


def ids(catalog_path: Path) -> set:
    from babel.messages.pofile import read_po

    with catalog_path.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def update(domain: str, pot: Path) -> None:
    """Bring each language's .po to the .pot's messages; left untouched (no new dates in its
    header, so no noise in git) when it already has exactly those messages."""
    for language in TRANSLATED:
        po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
        if po.exists() and ids(po) == ids(pot):
            continue
        command = "update" if po.exists() else "init"
        extra = ("--no-fuzzy-matching", "--ignore-obsolete") if command == "update" else ()
        pybabel(command, "-D", domain, "-i", str(pot), "-d", str(LOCALE), "-l", language, *extra)


def compile_all() -> None:
    for language in TRANSLATED:
        for po in sorted((LOCALE / language / "LC_MESSAGES").glob("*.po")):
            if po.stem in TITLES:
                compile_titles(po)
                continue
            pybabel("compile", "-D", po.stem, "-d", str(LOCALE), "-l", language, "--use-fuzzy")


def main(argv: list[str]) -> None:
    if argv[:1] != ["compile"]:
        for domain in DOMAINS:
            pot = extract(domain)
            if pot is not None:
                update(domain, pot)
        for domain in TITLES:
            update(domain, extract_titles(domain))
    compile_all()


if __name__ == "__main__":
    main(sys.argv[1:])
