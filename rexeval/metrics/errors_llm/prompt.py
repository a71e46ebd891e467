"""The judge prompt: this project's own wording of the CheXprompt schema, versioned and hashed.

The prompt (system text, instructions, few-shot examples written for this project) is identified by
``PROMPT_VERSION`` and by the sha256 of its full text; both go into the metric signature and the cache
key, so editing a single character gives new numbers a new identity and never returns stale answers.

``prompt="chexprompt"`` instead reads the prompt of the official ``chexprompt`` package *at run time*
from the installed package's source (nothing of it is copied here); it must be installed by the user.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from rexeval.base.exceptions import MetricUnavailable

PROMPT_VERSION = "rexeval-errors-v1"

SYSTEM = (
    "You are a board-certified radiologist who audits chest X-ray reports. You compare a candidate "
    "report (written by a trainee or an AI system) with the reference report signed by the attending "
    "radiologist, and you count the candidate's errors. You answer in the exact format requested, with "
    "no other text."
)

INSTRUCTIONS = """Count the errors of the CANDIDATE report, taking the REFERENCE report as the truth.

Every error has one of six types:
A = the candidate reports a finding that the reference does not contain (false finding)
B = the candidate leaves out a finding that the reference contains (missed finding)
C = the candidate puts a finding in the wrong place: wrong side, lobe, zone or device position
D = the candidate gives a finding the wrong severity, size or extent
E = the candidate claims a change from a prior study (new, worse, better, unchanged) that the reference does not describe
F = the candidate leaves out a change from a prior study that the reference describes

Each error is also either clinically significant (it would plausibly change the patient's treatment, management or outcome) or clinically insignificant (it would not).

Rules: count each error once, under the single type that fits best. The same meaning in other words is not an error. A normal statement missing from the candidate is not an error unless the reference stresses it. Count 0 for a type with no errors.

Answer with exactly these two lines:
Clinically significant errors: [(A, n), (B, n), (C, n), (D, n), (E, n), (F, n)]
Clinically insignificant errors: [(A, n), (B, n), (C, n), (D, n), (E, n), (F, n)]
where each n is a whole number."""

JSON_INSTRUCTIONS = """Answer with one JSON object and nothing else, of the form
{"clinically_significant": {"A": n, "B": n, "C": n, "D": n, "E": n, "F": n}, "clinically_insignificant": {"A": n, "B": n, "C": n, "D": n, "E": n, "F": n}}
where each n is a whole number."""

#: Few-shot examples written for this project (synthetic reports, not from any dataset), kept as data in
#: error_prompt_examples.json: (reference, candidate, significant A-F, insignificant A-F).
EXAMPLES: tuple[tuple[str, str, tuple[int, ...], tuple[int, ...]], ...] = tuple(
    (e["reference"], e["candidate"], tuple(e["significant"]), tuple(e["insignificant"]))
    for e in json.loads((Path(__file__).with_name("prompt_examples.json")).read_text(encoding="utf-8"))
)


def _answer(sig: tuple[int, ...], insig: tuple[int, ...], json_mode: bool) -> str:
    letters = "ABCDEF"
    if json_mode:
        return json.dumps({"clinically_significant": dict(zip(letters, sig)),
                           "clinically_insignificant": dict(zip(letters, insig))})
    fmt = lambda v: "[" + ", ".join(f"({x}, {n})" for x, n in zip(letters, v)) + "]"  # noqa: E731
    return f"Clinically significant errors: {fmt(sig)}\nClinically insignificant errors: {fmt(insig)}"


def _pair(reference: str, candidate: str) -> str:
    return f'REFERENCE:\n"""{reference}"""\n\nCANDIDATE:\n"""{candidate}"""'


@dataclass(frozen=True)
class JudgePrompt:
    """Builds the chat messages for one (reference, candidate) pair."""

    name: str
    version: str
    json_mode: bool = False
    _system: str = SYSTEM
    _user_template: str | None = None  # chexprompt: str.format template with the package's fields
    _examples: str | None = None

    def messages(self, reference: str, candidate: str) -> list[dict[str, str]]:
        if self._user_template is not None:  # the official package's single-turn prompt
            user = self._user_template.format(
                examples_formatted=self._examples or "", eval_reference=reference, eval_candidate=candidate
            )
            return [{"role": "system", "content": self._system}, {"role": "user", "content": user}]
        instructions = INSTRUCTIONS + ("\n\n" + JSON_INSTRUCTIONS if self.json_mode else "")
        msgs = [{"role": "system", "content": self._system + "\n\n" + instructions}]
        for ref, cand, sig, insig in EXAMPLES:  # few-shot as earlier turns of the conversation
            msgs.append({"role": "user", "content": _pair(ref, cand)})
            msgs.append({"role": "assistant", "content": _answer(sig, insig, self.json_mode)})
        msgs.append({"role": "user", "content": _pair(reference, candidate)})
        return msgs

    @property
    def sha256(self) -> str:
        probe = self.messages("{reference}", "{candidate}")
        return hashlib.sha256(json.dumps(probe, sort_keys=True).encode("utf-8")).hexdigest()


def get_prompt(name: str = "rexeval", json_mode: bool = False) -> JudgePrompt:
    if name in ("rexeval", PROMPT_VERSION, "default"):
        return JudgePrompt("rexeval", PROMPT_VERSION, json_mode)
    if name == "chexprompt":
        return _chexprompt_prompt()
    raise MetricUnavailable(f"unknown judge prompt {name!r}", "use --prompt rexeval (default) or chexprompt")


def string_constants(tree: ast.Module) -> dict[str, str]:
    """The module-level ``NAME = "literal"`` assignments of a parsed source file (nothing is executed)."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, str):
                out[node.targets[0].id] = value
    return out


def package_source_tree(package: str, filename: str, what: str, fix: str) -> tuple[ast.Module, Path]:
    """Parse ``filename`` of an installed package with ``ast`` (tree, path), without importing the package.

    Used to read a reference implementation's prompt at run time (nothing of it is copied here).
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MetricUnavailable(f"{what} needs the {package!r} package", fix)
    source = Path(list(spec.submodule_search_locations)[0]) / filename
    try:
        return ast.parse(source.read_text(encoding="utf-8")), source
    except (OSError, SyntaxError) as exc:
        raise MetricUnavailable(f"cannot read {source}: {exc}", fix) from None


def _chexprompt_prompt() -> JudgePrompt:
    """Read SYSTEM_INSTRUCTIONS / USER_INSTRUCTIONS / EXAMPLES_FORMATTED from the installed package.

    The package's evaluator imports the pre-1.0 openai API, so its module is not imported: its string
    constants are read from the source with ``ast`` (literals only, nothing executed).
    """
    fix = ("pip install the official package: pip install git+https://github.com/microsoft/chexprompt "
           "(its prompt is read at run time, never copied into rexeval)")
    tree, source = package_source_tree("chexprompt", "evaluator.py", "--prompt chexprompt", fix)
    consts = string_constants(tree)
    needed = ("SYSTEM_INSTRUCTIONS", "USER_INSTRUCTIONS", "EXAMPLES_FORMATTED")
    if not all(k in consts for k in needed):
        raise MetricUnavailable(f"{source} does not define {', '.join(needed)} (unknown chexprompt version)", fix)
    version = "chexprompt-" + hashlib.sha256("".join(consts[k] for k in needed).encode()).hexdigest()[:12]
    return JudgePrompt("chexprompt", version, False, consts["SYSTEM_INSTRUCTIONS"], consts["USER_INSTRUCTIONS"],
                       consts["EXAMPLES_FORMATTED"])
