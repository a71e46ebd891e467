"""The judge-answer parser on every answer shape the reference parser accepts and those it breaks on.

"ref" records what the reference parser (CheXprompt eval_utils, docs/metrics.md §8) does with the same answer,
written by hand from the spec's description of its behaviour; "ours" is what we expect.
"""

from __future__ import annotations

import pytest

from rexeval.backends.llm.client import UnparseableAnswer
from rexeval.metrics.errors_llm.parser import parse_errors

SIG = "Number of clinically significant errors by type:"
INS = "Number of clinically insignificant errors by type:"
ZERO6 = [0, 0, 0, 0, 0, 0]


def canon(sig, ins, open_="[", close="]", sep="\n"):
    f = lambda v: open_ + ", ".join(f"({x}, {n})" for x, n in zip("ABCDEF", v)) + close  # noqa: E731
    return f"{SIG} {f(sig)}{sep}{INS} {f(ins)}"


FAIL = "fail"
# (case id, answer, reference parser outcome, our counts (sig + insig) or FAIL, our strict outcome)
CASES = [
    # --- shapes the reference parser accepts --------------------------------------------------------
    ("canonical-square", canon([1, 0, 0, 2, 0, 0], [0, 1, 0, 0, 0, 0]), "accepts",
     [1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0], "same"),
    ("double-round (few-shot style)", canon([0, 1, 0, 0, 0, 1], ZERO6, "(", ")"), "accepts",
     [0, 1, 0, 0, 0, 1] + ZERO6, "same"),
    ("explanation after", canon([1, 0, 0, 0, 0, 0], ZERO6) + "\nExplanation: the candidate reports cardiomegaly (A, 3).",
     "accepts (cut at Explanation)", [1, 0, 0, 0, 0, 0] + ZERO6, "same"),
    ("blank line between halves", canon([0, 0, 1, 0, 0, 0], ZERO6, sep="\n\n"), "accepts",
     [0, 0, 1, 0, 0, 0] + ZERO6, "same"),
    ("'Errors:' prefix as in the few-shot answers", "Errors: " + canon([2, 0, 0, 0, 0, 0], ZERO6), "accepts",
     [2, 0, 0, 0, 0, 0] + ZERO6, "same"),
    ("missing letter", f"{SIG} [(A, 1), (B, 0), (C, 0), (D, 0), (E, 0)]\n{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "accepts, F simply absent", [1, 0, 0, 0, 0, 0] + ZERO6, FAIL),
    ("repeated letter, last wins", f"{SIG} [(A, 1), (A, 2), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]\n{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "accepts, last value wins", [2, 0, 0, 0, 0, 0] + ZERO6, FAIL),
    ("unknown label kept verbatim", f"{SIG} [(A, 1), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0), (G, 2)]\n{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "accepts, keeps key 'G'", [1, 0, 0, 0, 0, 0] + ZERO6, FAIL),
    ("negative count", f"{SIG} [(A, -1), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]\n{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "accepts -1 (int())", FAIL, FAIL),
    ("no brackets at all", f"{SIG} A, 1), B, 0), C, 0), D, 0), E, 0), F, 0)\n{INS} A, 0), B, 0), C, 0), D, 0), E, 0), F, 0)",
     "accepts", [1] + [0] * 11, "same"),
    # --- shapes the reference parser breaks on ---------------------------------------------------------
    ("trailing period", canon([1, 0, 0, 0, 0, 0], ZERO6) + ".", "insignificant half None (int('0.'))",
     [1, 0, 0, 0, 0, 0] + ZERO6, "same"),
    ("halves on one line", canon([1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], sep=" "), "both None (needs a newline)",
     [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], "same"),
    ("explanation before the counts", "Explanation: one false finding.\n" + canon([1, 0, 0, 0, 0, 0], ZERO6),
     "both None (cut before the headers)", [1, 0, 0, 0, 0, 0] + ZERO6, "same"),
    ("A: n style", "Clinically significant errors: A: 0, B: 1, C: 0, D: 0, E: 0, F: 0\nClinically insignificant errors: A: 0, B: 0, C: 0, D: 0, E: 1, F: 0",
     "None (header differs; 'A: 0' has no comma)", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], "same"),
    ("A=n style, own prompt's short headers", "Significant: A=0 B=0 C=1 D=0 E=0 F=0\nInsignificant: A=1 B=0 C=0 D=0 E=0 F=0",
     "None", [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0], "same"),
    ("lower-case headers", canon([0, 0, 0, 0, 1, 0], ZERO6).lower(), "None (case-sensitive header)",
     [0, 0, 0, 0, 1, 0] + ZERO6, "same"),
    ("(A) n style with prose around", f"Here is my assessment.\n{SIG}\n(A) 1\n(B) 0\n(C) 0\n(D) 0\n(E) 0\n(F) 0\n{INS}\n(A) 0\n(B) 0\n(C) 0\n(D) 0\n(E) 0\n(F) 0\nLet me know if you need more.",
     "both halves None", [1] + [0] * 11, "same"),
    ("number words", f"{SIG} [(A, one), (B, zero), (C, zero), (D, zero), (E, zero), (F, zero)]\n{INS} [(A, zero), (B, zero), (C, zero), (D, zero), (E, zero), (F, two)]",
     "None (int('one'))", [1] + [0] * 10 + [2], "same"),
    ("insignificant half first", f"{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 1)]\n{SIG} [(A, 1), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "garbage: significant half swallows the insignificant text", [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "same"),
    ("explicit none", "Clinically significant errors: None\nClinically insignificant errors: [(A, 0), (B, 1), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "None", [0] * 7 + [1] + [0] * 4, "same"),
    ("six bare numbers", f"{SIG} [0, 1, 0, 0, 0, 0]\n{INS} [0, 0, 0, 0, 0, 0]", "None", [0, 1] + [0] * 10, "same"),
    ("2.0 counts", f"{SIG} [(A, 2.0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]\n{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "None", [2] + [0] * 11, "same"),
    ("JSON with letters", '{"clinically_significant": {"A": 1, "B": 0, "C": 0, "D": 0, "E": 0, "F": 0}, "clinically_insignificant": {"A": 0, "B": 0, "C": 0, "D": 0, "E": 0, "F": 1}}',
     "None (no header)", [1] + [0] * 10 + [1], "same"),
    ("JSON with the reference's long keys in a code fence", '```json\n{"clinically_significant": {"false_positive_finding": 0, "omission_finding": 2, "incorrect_location": 0, "incorrect_severity": 0, "false_positive_comparison": 0, "omission_comparison": 0}, "clinically_insignificant": {"false_positive_finding": 0, "omission_finding": 0, "incorrect_location": 0, "incorrect_severity": 1, "false_positive_comparison": 0, "omission_comparison": 0}}\n```',
     "None", [0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], "same"),
    ("JSON with pair lists", '{"significant": [["A", 0], ["B", 0], ["C", 3], ["D", 0], ["E", 0], ["F", 0]], "insignificant": [0, 0, 0, 0, 0, 0]}',
     "None", [0, 0, 3] + [0] * 9, "same"),
    # --- answers nobody can parse (recorded as failures, never zeros) ------------------------------------
    ("empty", "", "both None", FAIL, FAIL),
    ("prose only", "The candidate report is largely accurate but misses the effusion.", "both None", FAIL, FAIL),
    ("truncated before the insignificant half", f"{SIG} [(A, 1), (B, 0), (C", "both None", FAIL, FAIL),
    ("insignificant header but no counts", f"{SIG} [(A, 1), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]\n{INS}", "insignificant None", FAIL, FAIL),
    ("fractional count", f"{SIG} [(A, 1.5), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]\n{INS} [(A, 0), (B, 0), (C, 0), (D, 0), (E, 0), (F, 0)]",
     "significant None", FAIL, FAIL),
    ("JSON missing a half", '{"clinically_significant": {"A": 1}}', "None", FAIL, FAIL),
]


@pytest.mark.parametrize("case,answer,ref,ours,strict", CASES, ids=[c[0] for c in CASES])
def test_answer_shapes(case, answer, ref, ours, strict):
    if ours == FAIL:
        with pytest.raises(UnparseableAnswer):
            parse_errors(answer)
    else:
        assert parse_errors(answer).counts() == ours
    if strict == FAIL or ours == FAIL:
        with pytest.raises(UnparseableAnswer):
            parse_errors(answer, strict=True)
    else:
        assert parse_errors(answer, strict=True).counts() == ours


#: What the reference parser returns (sig A-F + insig A-F; None = letter absent) for the answers its
#: column says it accepts, read by hand off each answer with its documented rules (items split on "),",
#: brackets dropped, int() per count, an absent letter stays absent, a repeated letter's last value wins).
REFERENCE_READS = {
    "canonical-square": [1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0],
    "double-round (few-shot style)": [0, 1, 0, 0, 0, 1] + ZERO6,
    "explanation after": [1, 0, 0, 0, 0, 0] + ZERO6,
    "blank line between halves": [0, 0, 1, 0, 0, 0] + ZERO6,
    "'Errors:' prefix as in the few-shot answers": [2, 0, 0, 0, 0, 0] + ZERO6,
    "missing letter": [1, 0, 0, 0, 0, None] + ZERO6,
    "repeated letter, last wins": [2, 0, 0, 0, 0, 0] + ZERO6,
    "unknown label kept verbatim": [1, 0, 0, 0, 0, 0] + ZERO6,
    "negative count": [-1, 0, 0, 0, 0, 0] + ZERO6,
    "no brackets at all": [1] + [0] * 11,
}
#: Where we read an accepted answer differently on purpose.
DIFFERS = {"negative count": "a negative count is no count: a recorded failure, not -1"}


def test_reads_every_answer_the_reference_accepts_as_the_reference_does():
    accepted = [c for c in CASES if c[2].startswith("accepts")]
    assert {c[0] for c in accepted} == set(REFERENCE_READS), "REFERENCE_READS must cover the accepts rows"
    for case, answer, _ref, _ours, _strict in accepted:
        if case in DIFFERS:
            with pytest.raises(UnparseableAnswer):
                parse_errors(answer)
            continue
        want = [0 if v is None else v for v in REFERENCE_READS[case]]  # non-strict: an absent letter is 0
        assert parse_errors(answer).counts() == want, case


def test_missing_letters_are_reported():
    parsed = parse_errors(CASES[5][1])
    assert parsed.missing == ("sig_F",)


def test_own_prompt_few_shot_answers_parse_to_their_counts():
    from rexeval.metrics.errors_llm.prompt import EXAMPLES, get_prompt

    for json_mode in (False, True):
        msgs = get_prompt(json_mode=json_mode).messages("r", "c")
        answers = [m["content"] for m in msgs if m["role"] == "assistant"]
        assert len(answers) == len(EXAMPLES)
        for text, (_, _, sig, insig) in zip(answers, EXAMPLES):
            assert parse_errors(text, strict=True).counts() == list(sig) + list(insig)


def test_prompt_hash_changes_with_the_text(monkeypatch):
    from rexeval.metrics.errors_llm import prompt as error_prompt

    before = error_prompt.get_prompt().sha256
    monkeypatch.setattr(error_prompt, "INSTRUCTIONS", error_prompt.INSTRUCTIONS + " ")
    assert error_prompt.get_prompt().sha256 != before
    assert error_prompt.get_prompt(json_mode=True).sha256 != before


def test_chexprompt_prompt_needs_the_package():
    import importlib.util

    from rexeval.base.exceptions import MetricUnavailable
    from rexeval.metrics.errors_llm.prompt import get_prompt

    if importlib.util.find_spec("chexprompt") is not None:
        pytest.skip("chexprompt is installed here")
    with pytest.raises(MetricUnavailable, match="chexprompt"):
        get_prompt("chexprompt")


def test_chexprompt_prompt_is_read_from_the_installed_package_without_importing_it(tmp_path, monkeypatch):
    """A stand-in package with the official module layout (our own dummy strings, not its prompt)."""
    from rexeval.metrics.errors_llm.prompt import get_prompt

    pkg = tmp_path / "chexprompt"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    (pkg / "evaluator.py").write_text(
        "import openai.error  # the pre-1.0 API: importing this module would fail\n"
        "SYSTEM_INSTRUCTIONS = 'dummy system'\n"
        "USER_INSTRUCTIONS = '''{examples_formatted}\\nR={eval_reference}\\nC={eval_candidate}'''\n"
        "EXAMPLES_FORMATTED = 'dummy examples'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    p = get_prompt("chexprompt")
    assert p.version.startswith("chexprompt-")
    msgs = p.messages("the ref", "the cand")
    assert msgs == [{"role": "system", "content": "dummy system"},
                    {"role": "user", "content": "dummy examples\nR=the ref\nC=the cand"}]
