"""How long `grade similarity` takes for a large class: N synthetic submissions made from the
course's independent correct solutions (every tests/cases/exerciseN/ok_*/ module), each with its local names
renamed at random and its comments dropped or rewritten, so no two are byte-identical.

    python benchmarks/bench_similarity.py [N]      (default 1000)

Prints the seconds to compare them (grader.course.similarity.compare), how many pairs of
disguised copies of one file were found, and how many pairs of two different solutions were
listed (false positives)."""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course.similarity import compare, handout_text  # noqa: E402

WORD = re.compile(r"\b([a-z_][a-z0-9_]*)\b")
KEEP = {"def", "return", "import", "numpy", "np", "for", "in", "if", "else", "elif", "while", "class", "self", "and",
        "or", "not", "is", "none", "true", "false", "lambda", "from", "as", "with", "try", "except", "raise", "pass",
        "break", "continue", "yield", "global", "range", "len", "zip", "enumerate", "sum", "max", "min", "abs",
        "float", "int", "list", "dict", "tuple", "print", "isinstance", "super", "object", "math", "torch", "nn"}


def disguise(text: str, rng: random.Random) -> str:
    """Rename local-looking names (not attributes, not the functions the checks call: those
    are kept when they follow `def` at the start of a line) and rewrite comments."""
    defined = set(re.findall(r"^def (\w+)|^class (\w+)", text, flags=re.M))
    public = {name for pair in defined for name in pair if name}
    mapping: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        word = match.group(1)
        start = match.start()
        if word in KEEP or word in public or (start and match.string[start - 1] == "."):
            return word
        return mapping.setdefault(word, f"{rng.choice('abcdefghkmpqrstuvwxyz')}{len(mapping)}_{rng.randint(0, 99)}")

    lines = []
    for line in text.splitlines():
        code, _, comment = line.partition("#")
        code = WORD.sub(rename, code) if '"' not in code and "'" not in code else code
        lines.append(code.rstrip() + (f"  # note {rng.randint(0, 999)}" if comment and rng.random() < 0.5 else ""))
    return "\n".join(lines) + "\n"


def synthetic_class(n: int, seed: int = 0) -> tuple[dict[str, str], dict[str, Path], str]:
    """(student -> code, student -> the case file it was made from, the handout)."""
    rng = random.Random(seed)
    bases = sorted((ROOT / "tests" / "cases").glob("exercise[1-6]/ok_*/*.py"))
    texts, origin = {}, {}
    for i in range(n):
        base = rng.choice(bases)
        texts[f"student{i:04d}"] = disguise(base.read_text(), rng)
        origin[f"student{i:04d}"] = base
    return texts, origin, handout_text("exercise1")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    texts, origin, handout = synthetic_class(n)
    lines = sum(t.count("\n") for t in texts.values())
    start = time.perf_counter()
    report = compare(texts, handout)
    seconds = time.perf_counter() - start
    found = {(p.a, p.b) for p in report.pairs}
    students = sorted(texts)
    copies = {(a, b) for i, a in enumerate(students) for b in students[i + 1:] if origin[a] == origin[b]}
    independent = [(a, b) for a, b in found if origin[a] != origin[b]]
    print(f"{n} submissions ({lines} lines): compared in {seconds:.1f} s; {len(report.pairs)} pairs, "
          f"{len(report.clusters)} clusters; disguised copies of one file found: {len(copies & found)}/{len(copies)}; "
          f"pairs of two independent solutions (false): {len(independent)}")


if __name__ == "__main__":
    main()
