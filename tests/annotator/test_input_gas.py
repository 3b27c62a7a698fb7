"""An input's own GAS_* INFO entries are cut out of a block's bytes, wherever they
sit in INFO, and nowhere else."""

from __future__ import annotations

import pytest

from annotator.input_gas import InputGasKeys


@pytest.mark.parametrize(("info", "left"), [
    ("DP=1;GAS_GENE=A;GAS_DIST=2", "DP=1"),
    ("GAS_GENE=A;GAS_DIST=2;DP=1", "DP=1"),
    ("GAS_GENE=A;DP=1;GAS_CPG;AF=0.5;GAS_BAND=1p", "DP=1;AF=0.5"),
    ("GAS_CPG", "."),
    ("GAS_GENE=A;GAS_CPG", "."),
    ("DP=1;X=GAS_GENE;XGAS_GENE=1", "DP=1;X=GAS_GENE;XGAS_GENE=1"),
    # VEP's (or an earlier run's) CSQ goes too: GAS writes its own, in its own Format.
    ("DP=1;CSQ=A|missense_variant|MODERATE;GAS_IMPACT=MODERATE", "DP=1"),
    ("CSQ=A|x;DP=1", "DP=1"),
    ("DP=1;CSQX=1;XCSQ=2;N=CSQ=", "DP=1;CSQX=1;XCSQ=2;N=CSQ="),
])
def test_entries_are_cut_with_their_separators(info: str, left: str) -> None:
    """Each GAS_* or CSQ entry goes with one ";" (INFO emptied becomes "."), on 8-column
    lines and on lines with samples; values and keys merely containing GAS_ stay."""
    keys = InputGasKeys()
    lines = "1\t5\t.\tA\tC\t.\t.\t{}\n1\t6\t.\tA\tC\t.\t.\t{}\tGT\t0/1\n"
    assert keys.strip(lines.format(info, info).encode()).decode() == lines.format(left, left)


def test_other_columns_and_comments_are_left_alone_and_counts_add_up() -> None:
    """GAS_ in ID, FILTER or a sample, or on a comment line, is data; the counts
    are of records and values cut, by key."""
    keys = InputGasKeys()
    kept = (b"#GAS_comment\t.\t.\t.\t.\t.\t.\tGAS_X=1\n"
            b"1\t5\tGAS_id\tA\tC\t.\tGAS_f\tDP=1\tGT\tGAS_s;GAS_t\n")
    block = kept + b"1\t6\t.\tA\tC\t.\t.\tGAS_GENE=A;GAS_GENE=B;GAS_REGION=CDS\n"
    assert keys.strip(kept) is kept
    assert keys.strip(block) == kept + b"1\t6\t.\tA\tC\t.\t.\t.\n"
    assert keys.summary() == {"records": 1, "values": 3, "keys": {"GAS_GENE": 2, "GAS_REGION": 1}}
