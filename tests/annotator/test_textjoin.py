"""`annotator.textjoin`: the compiled joiner every CSQ text is made by writes exactly what Python's
own string formatting writes."""

from __future__ import annotations

import random

import numpy as np

from annotator.textjoin import (
    INT,
    RUN,
    SKIP,
    A,
    Arena,
    B,
    C,
    Pending,
    Runs,
    Strings,
    Texts,
    chain,
    concat,
    render,
    template,
    translate,
)


def _all(texts: Texts) -> list[bytes]:
    return [texts[i] for i in range(len(texts))]


def test_texts_round_trip_lists_and_newline_blobs() -> None:
    """Texts made from a list or from an `infotext.text_blob` (empty texts included) read back as given."""
    items = [b"BRCA1", b"", b"a|b", "\u00e9".encode(), b""]
    assert _all(Texts.of(items)) == items
    assert _all(Texts.from_blob(np.frombuffer(b"\n".join(items), np.uint8))) == items
    assert list(Texts.of(items).objects()) == items


def test_render_matches_python_formatting_on_random_runs() -> None:
    """Random runs of every token kind (texts of three tables, integers of any sign, skipped pieces)
    render as the same pieces joined in Python."""
    rng = random.Random(7)
    a = [rng.choice([b"", b"|", b"ENST0001", b"|||||"]) for _ in range(30)]
    b = [bytes(rng.choice(b"ACGT|;=") for _ in range(rng.randint(0, 9))) for _ in range(40)]
    c = [bytes(rng.choice(b"xyz") for _ in range(rng.randint(0, 5))) for _ in range(20)]
    ta, tb, tc = Texts.of(a), Texts.of(b), Texts.of(c)
    width, n = 6, 500
    kinds = np.array([[rng.choice([A, B, C, INT, SKIP]) for _ in range(width)] for _ in range(n)])
    values = np.zeros((n, width), np.int64)
    expect = []
    for i in range(n):
        parts = []
        for j in range(width):
            k = int(kinds[i, j])
            v = {A: rng.randrange(30), B: rng.randrange(40), C: rng.randrange(20)}.get(
                k, rng.choice([0, 7, -3, 10, 99, 100, -100, 123456789, rng.randint(-10**12, 10**12)])
            )
            values[i, j] = v
            table = {A: a, B: b, C: c}.get(k)
            parts.append(table[v] if table else b"" if k == SKIP else str(v).encode())
        expect.append(b"".join(parts))
    runs = template(n, *((kinds[:, j], values[:, j]) for j in range(width)))
    assert _all(render(runs, ta, tb, tc)) == expect


def test_chain_keeps_each_part_in_order_and_empty_runs_make_empty_texts() -> None:
    t = Texts.of([b"x", b"y"])
    runs = chain([template(2, (A, np.array([0, 1]))), template(0, (A, 0)), template(1, (SKIP, 0), (INT, 5))])
    assert _all(render(runs, t, t)) == [b"x", b"y", b"5"]
    assert _all(render(chain([]), t, t)) == []


def test_run_tokens_write_inner_runs_in_place_as_rendering_them_first_would() -> None:
    """A RUN token writes an inner run's text where it stands, as a C token of the inner runs' rendered
    texts would; also into an arena too small at first (grown, it goes on from the run that did not
    fit, the runs before it kept), twice, the second render starting where the first ended."""
    rng = random.Random(11)
    a = Texts.of([b"|", b",", b";CSQ=", b"ENST00000123456.7"])
    b = Texts.of([bytes(rng.choice(b"ACGT") for _ in range(rng.randint(0, 40))) for _ in range(50)])
    n_inner, n = 300, 200
    inner = template(
        n_inner, (B, np.array([rng.randrange(50) for _ in range(n_inner)])), (A, 0),
        (np.array([rng.choice([A, SKIP]) for _ in range(n_inner)]), 3),
        (INT, np.array([rng.randint(-10**6, 10**6) for _ in range(n_inner)])),
    )  # fmt: skip
    picks = [[rng.randrange(n_inner) for _ in range(rng.randint(0, 4))] for _ in range(n)]

    def rows(entry: int) -> Runs:
        """";CSQ=" then the picked entries (tokens of kind `entry`) joined by ","."""
        runs = []
        for pick in picks:
            joined = [t for i, x in enumerate(pick) for t in ((A if i else SKIP, 1), (entry, x))]
            runs.append(template(1, (A, 2), *joined))
        return chain(runs)

    outer = rows(RUN)
    expect = _all(render(rows(C), a, b, render(inner, a, b)))
    assert _all(render(outer, a, b, inner=inner)) == expect
    arena = Arena()
    arena.data = np.empty(16, np.uint8)
    arena.render(outer, a, b, inner=inner)
    arena.render(outer, a, b, inner=inner)
    assert _all(arena.texts()) == expect + expect
    # Laid out now, written later: each pending's texts, wherever the arena's memory ended up.
    arena.data = np.empty(16, np.uint8)
    one = (outer, (a, b), inner)
    once, twice = Pending((one,)), Pending((one, one))
    first, second = arena.write([once, twice])
    assert (_all(first), _all(second)) == (expect, expect + expect)


def test_concat_numbers_every_part_after_the_ones_before() -> None:
    joined, bases = concat(Texts.of([b"a"]), Texts.of([]), Texts.of([b"b", b"c"]))
    assert bases == [0, 1, 1]
    assert _all(joined) == [b"a", b"b", b"c"]


def test_translate_escapes_as_str_translate_does() -> None:
    """Escaping bytes to longer texts (VEP's %3B) and to single bytes, over many texts at once."""
    table = {",": "&", "|": "&", ";": "%3B", "=": "%3D", " ": "_"}
    items = ["a;b", "", "x=y|z, w", "plain"]
    got = translate(Texts.of(items), {ord(k): v.encode() for k, v in table.items()})
    assert _all(got) == [s.translate(str.maketrans(table)).encode() for s in items]


def test_strings_number_texts_in_the_order_added() -> None:
    s = Strings()
    assert s.add(["p", "q"]).tolist() == [0, 1]
    assert s.one("r") == 2
    assert _all(s.texts()) == [b"p", b"q", b"r"]
