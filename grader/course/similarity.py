"""Which submissions are suspiciously alike: pairs and clusters, with the matching regions side by side.

    grade similarity OUT          (after `grade batch ... --out OUT`)
    grade batch ... --similarity  (the same, at the end of the batch)

write OUT/similarity.html, OUT/similarity.csv and OUT/similarity.json (the clusters the class
summary shows). The method is winnowing (Schleimer, Wilkerson and Aiken 2003, the idea behind
MOSS) over normalised Python tokens, with an inverted index so that a class of 1,000 takes
seconds, not the 500,000 pairwise comparisons of a pair-by-pair tool:

1. Each submission's code (its .py files, or its notebook's code cells) is tokenised with the
   standard library's `tokenize`. Comments and docstrings are dropped, every name the student
   chose becomes `V` and every string `S`, so renaming variables or rewriting comments changes
   nothing; keywords, operators, numbers and attribute names (`.sum`, `np.exp`) are kept: they
   are what the code does.
2. Every K consecutive tokens are hashed, and winnowing keeps the smallest hash of each window
   of W: two files sharing a run of at least K + W - 1 tokens share a fingerprint there.
3. Fingerprints of the handout (the stub's own code) and of the book's solution (the reference,
   which follows the book that students read), and fingerprints that many students share
   (common idioms of a short numpy exercise, which independent solutions write alike), are
   left out: sharing them is not copying from each other.
4. Similarity of a pair: the shared fingerprints over the smaller submission's. Pairs at or
   above the threshold are joined into clusters.

Why not copydetect or pycode-similar (issue 20 asked to compare): copydetect (0.5.0) depends on
matplotlib, tqdm and pygments, none of which the grader has, and compares every pair; pycode-similar
compares pairs of function ASTs with difflib, 500,000 pairs for a class of 1,000. Both are
pair-by-pair, where the index below touches only pairs that share a fingerprint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import keyword
import time
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from grader.hand_in_review import Source
from grader.i18n import _

K = 10
"""Tokens per hashed k-gram: long enough that `return np.sum(x, axis=-1)` alone is no match."""
W = 6
"""Winnowing window: a shared run of K + W - 1 = 15 tokens is always found."""
THRESHOLD = 0.6
"""Pairs sharing at least this fraction of the smaller submission's own fingerprints are listed."""
MIN_SHARED = 8
"""And at least this many fingerprints: two tiny files are not a copy for sharing three."""
COMMON_SHARE = 0.1
"""A fingerprint more than this share of the class has (at least COMMON_MIN students) is an idiom."""
COMMON_MIN = 10
KEPT_NAMES = {"np", "numpy", "math", "torch", "nn", "F", "self", "True", "False", "None", "range", "len", "sum",
              "max", "min", "abs", "zip", "enumerate", "float", "int", "list", "dict", "print", "isinstance"}
"""Names that say what code does (modules, builtins) rather than what a student called a thing."""
SIMILARITY_FILES = ("similarity.html", "similarity.csv", "similarity.json")


@dataclass
class Code:
    """One student's code, normalised."""

    student: str
    text: str
    lines: list[str]
    tokens: list[str] = field(default_factory=list)
    token_lines: list[int] = field(default_factory=list)
    """The line (1-based, in `lines`) each normalised token comes from."""
    prints: dict[int, list[int]] = field(default_factory=dict)
    """fingerprint hash -> positions (token index) where it was selected."""


@dataclass
class Pair:
    a: str
    b: str
    similarity: float
    shared: int
    lines_a: list[tuple[int, int]] = field(default_factory=list)
    """Line ranges of a that match b: [(first, last), ...]."""
    lines_b: list[tuple[int, int]] = field(default_factory=list)
    cluster: int = 0


@dataclass
class Report:
    pairs: list[Pair]
    clusters: list[list[str]]
    codes: dict[str, Code]
    students: int
    seconds: float
    threshold: float


# -- normalising and fingerprinting ------------------------------------------------------------
def code_text(sources: list[Source]) -> str:
    """All of a submission's code as one text: its files, or its notebook's cells, in order."""
    parts = []
    for source in sources:
        for i, cell in enumerate(source.cells, start=1):
            header = f"# ---- {source.name}" + (f", cell {i}" if source.notebook else "") + " ----"
            parts.append(header + "\n" + cell.rstrip("\n"))
    return "\n".join(parts) + "\n"


def normalise(text: str) -> tuple[list[str], list[int]]:
    """The normalised tokens of a piece of Python, and the line each comes from. Code that does
    not tokenise (a syntax error) is read up to where it breaks."""
    tokens, lines = [], []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, value = tok.type, tok.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if kind == tokenize.STRING or getattr(tokenize, "FSTRING_START", -1) <= kind <= getattr(
                    tokenize, "FSTRING_END", -2):
                value = "S"
            elif kind == tokenize.NAME and not keyword.iskeyword(value) and value not in KEPT_NAMES \
                    and previous != ".":
                value = "V"
            elif kind in (tokenize.INDENT, tokenize.DEDENT):
                value = ">" if kind == tokenize.INDENT else "<"
            if value == "S" and previous in ("", ":", ">", "<", "S"):  # a docstring or a bare string
                previous = value
                continue
            tokens.append(value)
            lines.append(tok.start[0])
            previous = value
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return tokens, lines


def fingerprints(tokens: list[str], k: int = K, w: int = W) -> dict[int, list[int]]:
    """Winnowing: of each window of w consecutive k-gram hashes, the smallest (rightmost on a
    tie); hash -> the token positions where it was chosen."""
    hashes = [int.from_bytes(hashlib.blake2b(" ".join(tokens[i:i + k]).encode(), digest_size=8).digest(), "big")
              for i in range(len(tokens) - k + 1)]
    chosen: dict[int, list[int]] = defaultdict(list)
    last = -1
    for start in range(max(len(hashes) - w + 1, 1 if hashes else 0)):
        window = hashes[start:start + w]
        low = min(window)
        pos = start + max(i for i, h in enumerate(window) if h == low)
        if pos != last:
            chosen[low].append(pos)
            last = pos
    return dict(chosen)


def prepare(student: str, text: str) -> Code:
    code = Code(student, text, text.splitlines())
    code.tokens, code.token_lines = normalise(text)
    code.prints = fingerprints(code.tokens)
    return code


# -- comparing a class ---------------------------------------------------------------------------
def compare(texts: dict[str, str], handout: str = "", *, threshold: float = THRESHOLD) -> Report:
    """Every pair of `texts` (student -> code) at or above `threshold`, clusters, matching lines."""
    start = time.perf_counter()
    codes = {student: prepare(student, text) for student, text in texts.items()}
    stub = set(fingerprints(normalise(handout)[0])) if handout else set()
    index: dict[int, list[str]] = defaultdict(list)
    for student, code in codes.items():
        for h in code.prints:
            if h not in stub:
                index[h].append(student)
    common = max(COMMON_MIN, int(COMMON_SHARE * len(codes)))
    own = {s: sum(1 for h in c.prints if h not in stub and len(index[h]) <= common) for s, c in codes.items()}
    shared: Counter = Counter()
    for h, students in index.items():
        if 1 < len(students) <= common:
            for i, a in enumerate(students):
                for b in students[i + 1:]:
                    shared[(a, b) if a < b else (b, a)] += 1
    pairs = []
    for (a, b), count in shared.items():
        smaller = min(own[a], own[b])
        if count >= MIN_SHARED and smaller and count / smaller >= threshold:
            pairs.append(Pair(a, b, min(1.0, count / smaller), count))
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    clusters = cluster(pairs)
    for pair in pairs:
        pair.lines_a, pair.lines_b = matching_lines(codes[pair.a], codes[pair.b], stub, index, common)
    return Report(pairs, clusters, codes, len(codes), time.perf_counter() - start, threshold)


def cluster(pairs: list[Pair]) -> list[list[str]]:
    """Students joined by any listed pair, biggest and most similar clusters first; each pair
    gets its cluster's number (1-based)."""
    parent: dict[str, str] = {}

    def root(s: str) -> str:
        while parent.setdefault(s, s) != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for pair in pairs:
        parent[root(pair.a)] = root(pair.b)
    groups: dict[str, list[str]] = defaultdict(list)
    for s in parent:
        groups[root(s)].append(s)
    best = {r: max(p.similarity for p in pairs if root(p.a) == r) for r in groups}
    ordered = sorted(groups, key=lambda r: (-len(groups[r]), -best[r], min(groups[r])))
    number = {r: i for i, r in enumerate(ordered, start=1)}
    for pair in pairs:
        pair.cluster = number[root(pair.a)]
    return [sorted(groups[r]) for r in ordered]


def matching_lines(a: Code, b: Code, stub: set[int], index: dict[int, list[str]],
                   common: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The line ranges of a and of b that the pair's shared fingerprints cover."""
    both = [h for h in a.prints if h in b.prints and h not in stub and len(index[h]) <= common]
    return _ranges(a, both), _ranges(b, both)


def _ranges(code: Code, hashes: list[int]) -> list[tuple[int, int]]:
    lines = set()
    for h in hashes:
        for pos in code.prints[h]:
            last = min(pos + K - 1, len(code.token_lines) - 1)
            lines.update(range(code.token_lines[pos], code.token_lines[last] + 1))
    ranges: list[tuple[int, int]] = []
    for line in sorted(lines):
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], line)
        else:
            ranges.append((line, line))
    return ranges


# -- a batch's output folder ---------------------------------------------------------------------
class SimilarityError(ValueError):
    """OUT is not a batch's output folder, or its submissions cannot be found."""


def batch_codes(out: Path) -> tuple[str, dict[str, str]]:
    """(exercise, student -> code) of the students of a batch's OUT, read from the submissions
    their result.json names (the batch records where each hand-in lies)."""
    from grader.hand_in_review import sources
    from grader.submission import SubmissionError, read_hand_in

    out = Path(out)
    exercise, texts = "", {}
    for path in sorted(out.glob("*/result.json")):
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        where = (stored.get("batch") or {}).get("submission")
        exercise = exercise or stored.get("exercise", "")
        if not where:
            continue
        try:
            found = sources(read_hand_in(Path(where)))
        except (OSError, SubmissionError):
            continue
        if found:
            texts[path.parent.name] = code_text(found)
    if not exercise:
        raise SimilarityError(_("{out} holds no results of `grade batch` (no */result.json); run the batch first")
                              .format(out=out))
    if not texts:
        raise SimilarityError(_("the results in {out} do not say where the submissions are (graded by an older "
                                "grader); run `grade batch ... --out {out} --force` once").format(out=out))
    return exercise, texts


def handout_text(exercise: str) -> str:
    """The code every student may legitimately share: the handout's stub and the book's own
    solution (the reference follows the book, which students read). Fingerprints of either are
    left out, so two students who both wrote the book's softmax are not paired for it."""
    from grader.catalog import EXERCISES

    if exercise not in EXERCISES:
        return ""
    paths = (EXERCISES[exercise].stub_path, EXERCISES[exercise].reference_path)
    return "\n".join(p.read_text(encoding="utf-8") for p in paths if p.is_file())


def write_similarity(out: Path, *, threshold: float = THRESHOLD) -> Report:
    """Compare the students of a batch's OUT; write similarity.html, .csv and .json there."""
    from grader.report.html import render_similarity
    from grader.results import write_atomic

    out = Path(out)
    exercise, texts = batch_codes(out)
    report = compare(texts, handout_text(exercise), threshold=threshold)
    write_atomic(out / "similarity.csv", similarity_csv(report))
    write_atomic(out / "similarity.json", json.dumps(clusters_record(report), indent=2))
    write_atomic(out / "similarity.html", render_similarity(exercise, report))
    return report


def similarity_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "similarity", "shared_fingerprints", "cluster"])
    for p in report.pairs:
        writer.writerow([p.a, p.b, f"{p.similarity:.3f}", p.shared, p.cluster])
    return buffer.getvalue()


def clusters_record(report: Report) -> dict:
    """What the class summary shows: each cluster's students and its highest pair similarity."""
    top = defaultdict(float)
    for p in report.pairs:
        top[p.cluster] = max(top[p.cluster], p.similarity)
    return {"threshold": report.threshold, "students": report.students, "file": "similarity.html",
            "clusters": [{"students": students, "top": 100 * top[i]} for i, students in
                         enumerate(report.clusters, start=1)]}


def read_clusters(out: Path) -> dict | None:
    """similarity.json of a batch's OUT, for the summary; None when there is none."""
    try:
        record = json.loads((Path(out) / "similarity.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record["threshold"] = 100 * record.get("threshold", THRESHOLD)
    return record
