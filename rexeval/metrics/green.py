"""GREEN (docs/metrics.md §9): a fine-tuned LLM judge counts a candidate report's errors against the reference.

The judge (``StanfordAIMI/GREEN-RadLlama2-7b``) answers in GREEN's published format::

    [Explanation]:
    <free text>

    [Clinically Significant Errors]:
    (a) False report of a finding in the candidate: 1. Pleural effusion
    (b) ...: 0.
    ...
    [Clinically Insignificant Errors]:
    (a) ...: 0.
    ...
    [Matched Findings]:
    2. Cardiomegaly; No pneumothorax

Per study: GREEN = matched / (matched + Σ significant (a)–(f)); 0 when matched = 0. The six
significant and six insignificant counts and ``matched`` are kept per study (``green_sig_A``...
``green_insig_F``, the same letters as the CheXprompt-style ``errors_llm_*`` columns, so the two
judges can be put side by side). Reports are cut to their first 300 whitespace words, greedy decoding.

Two ways to run the judge:

* ``backend="endpoint"``: any OpenAI-compatible server (e.g. ``vllm serve StanfordAIMI/GREEN-RadLlama2-7b
  --chat-template green.jinja``, the file holding :data:`CHAT_TEMPLATE`) at ``REXEVAL_GREEN_BASE_URL``, through
  rexeval's LLM client: on-disk answer cache, bounded retries, concurrency/RPM limits, failure accounting.
* ``backend="local"``: transformers on this machine (a GPU in practice), weights found through rexeval's
  model management (``rexeval models download green-radllama2-7b``); answers are cached the same way.

Unlike the reference (which scores 0 when its regular expressions find nothing), an answer without the
three sections, or with a section it cannot read, is re-requested a bounded number of times and then
recorded as a failure: NaN, left out of the mean and counted in ``n_failed``.

The default prompt is this project's wording of GREEN's format (same four parts, same six categories,
same output template). ``prompt="green"`` instead reads GREEN's own prompt at run time from the
installed ``green_score`` package (``pip install git+https://github.com/Stanford-AIMI/GREEN``); nothing of
it is copied here. The fine-tuned judge was trained on GREEN's prompt: use ``prompt="green"`` for numbers
meant to sit next to published GREEN values.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint
from rexeval.metrics.base import Batch, Metric, Output, installed_versions, mean_of

HUB_ID = "StanfordAIMI/GREEN-RadLlama2-7b"
GREEN_MODEL = register_model(
    ModelSpec(
        name="green-radllama2-7b",
        hub_id=HUB_ID,
        env_var="REXEVAL_GREEN_PATH",
        files=("config.json", "tokenizer_config.json", "model.safetensors.index.json"),
        extra_hub_files=(
            "model-00001-of-00003.safetensors",
            "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors",
            "tokenizer.model",
            "special_tokens_map.json",
            "added_tokens.json",
            "generation_config.json",
        ),
        used_by=("green",),
        licence="llama2",
        note="GREEN judge (Llama-2 7B), ~13.5 GB; needs a GPU to run locally, or serve it with vLLM",
    )
)

#: Environment variables of the endpoint backend (separate from REXEVAL_LLM_*: that judge is another model).
ENV_BASE_URL = "REXEVAL_GREEN_BASE_URL"
ENV_MODEL = "REXEVAL_GREEN_MODEL"
ENV_API_KEY = "REXEVAL_GREEN_API_KEY"

MAX_WORDS = 300
MAX_NEW_TOKENS = 2048
PREFIX = "green_"
LETTERS = ("A", "B", "C", "D", "E", "F")
CATEGORIES = (
    "False report of a finding in the candidate",
    "Missing a finding present in the reference",
    "Misidentification of a finding's anatomic location/position",
    "Misassessment of the severity of a finding",
    "Mentioning a comparison that isn't in the reference",
    "Omitting a comparison detailing a change from a prior study",
)
SIG_HEADER = "Clinically Significant Errors"
INSIG_HEADER = "Clinically Insignificant Errors"
MATCHED_HEADER = "Matched Findings"
PROMPT_VERSION = "rexeval-green-v1"


def truncate_words(text: str, n: int = MAX_WORDS) -> str:
    """The first ``n`` whitespace-separated words, joined by single spaces (as GREEN does)."""
    return " ".join(text.split()[:n])


# --------------------------------------------------------------------------------------------------
# Prompt

_CATEGORY_LINES = "\n".join(f"    {chr(ord('a') + i)}) {c}." for i, c in enumerate(CATEGORIES))
_FORMAT_BLOCK = """    [Explanation]:
    <Explanation>

    [Clinically Significant Errors]:
    (a) <Error Type>: <The number of errors>. <Error 1>; <Error 2>; ...; <Error n>
    ....
    (f) <Error Type>: <The number of errors>. <Error 1>; <Error 2>; ...; <Error n>

    [Clinically Insignificant Errors]:
    (a) <Error Type>: <The number of errors>. <Error 1>; <Error 2>; ...; <Error n>
    ....
    (f) <Error Type>: <The number of errors>. <Error 1>; <Error 2>; ...; <Error n>

    [Matched Findings]:
    <The number of matched findings>. <Finding 1>; <Finding 2>; ...; <Finding n>"""

# This project's wording around GREEN's four-part structure, categories and output template.
_REXEVAL_TEMPLATE = (
    "Task: judge how accurate a candidate chest radiology report is, taking as the truth a reference report "
    "written by expert radiologists.\n\n"
    "    You are given, in order:\n\n"
    "    1. How to judge.\n    2. The reference report.\n    3. The candidate report.\n"
    "    4. The format of your answer.\n\n"
    "    1. How to judge:\n\n"
    "    For the candidate report, count:\n\n"
    "    The clinically significant errors.\n    The clinically insignificant errors.\n\n"
    "    Every error belongs to one of these categories:\n\n"
    f"{_CATEGORY_LINES}\n"
    "    Note: judge the clinical findings, not the writing style. Judge only findings that appear in "
    "either report.\n\n"
    "    2. Reference Report:\n    {reference}\n\n"
    "    3. Candidate Report:\n    {candidate}\n\n"
    "    4. Reporting Your Assessment:\n\n"
    "    Always answer in exactly this format, also when there is no error:\n"
    "    ```\n" + _FORMAT_BLOCK.replace("{", "{{").replace("}", "}}") + "\n    ```\n"
)


@dataclass(frozen=True)
class GreenPrompt:
    name: str
    version: str
    template: str  # str.format template with {reference} and {candidate}

    def render(self, reference: str, candidate: str) -> str:
        return self.template.format(reference=reference, candidate=candidate)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()


def get_prompt(name: str = "rexeval") -> GreenPrompt:
    if name in ("rexeval", PROMPT_VERSION):
        return GreenPrompt("rexeval", PROMPT_VERSION, _REXEVAL_TEMPLATE)
    if name == "green":
        return _green_package_prompt()
    raise ConfigError(f"unknown GREEN prompt {name!r}; use rexeval (default) or green")


def _green_package_prompt() -> GreenPrompt:
    """GREEN's own prompt, read from the installed ``green_score`` source with ``ast`` (nothing executed)."""
    fix = "pip install git+https://github.com/Stanford-AIMI/GREEN (its prompt is read at run time, not copied)"
    from rexeval.metrics.errors_llm.prompt import package_source_tree

    tree, source = package_source_tree("green_score", "utils.py", "prompt 'green'", fix)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "make_prompt" and len(node.args.args) == 2:
            ref_arg, cand_arg = (a.arg for a in node.args.args)
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.JoinedStr):
                    parts = []
                    for v in stmt.values:
                        if isinstance(v, ast.Constant):
                            parts.append(str(v.value).replace("{", "{{").replace("}", "}}"))
                        elif isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name):
                            parts.append({ref_arg: "{reference}", cand_arg: "{candidate}"}.get(v.value.id, "?"))
                    template = "".join(parts)
                    if "{reference}" in template and "{candidate}" in template:
                        version = "green-" + hashlib.sha256(template.encode()).hexdigest()[:12]
                        return GreenPrompt("green", version, template)
    raise MetricUnavailable(f"{source} has no make_prompt(reference, candidate) f-string (unknown version)", fix)


#: GREEN's chat format as a Jinja chat template for OpenAI-compatible servers (role/content messages):
#: ``<|user|>`` + newline + the prompt + eos, newline, then ``<|assistant|>`` and a newline.
CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}{{ '<|user|>\\n' + m['content'] + eos_token + '\\n' }}"
    "{% elif m['role'] == 'system' %}{{ '<|system|>\\n' + m['content'] + eos_token + '\\n' }}"
    "{% elif m['role'] == 'assistant' %}{{ '<|assistant|>\\n' + m['content'] + eos_token + '\\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)


def chat_text(prompt: str, eos_token: str = "</s>") -> str:
    """The single-turn conversation as GREEN's chat format renders it (user turn, then the assistant tag)."""
    return f"<|user|>\n{prompt}{eos_token}\n<|assistant|>\n"


# --------------------------------------------------------------------------------------------------
# Parser


@dataclass(frozen=True)
class GreenAnswer:
    significant: tuple[int, ...]
    insignificant: tuple[int, ...]
    matched: int

    @property
    def score(self) -> float:
        return green_score(self.matched, self.significant)


def green_score(matched: int, significant: Any) -> float:
    """matched / (matched + Σ significant errors); 0 when nothing matched."""
    if matched == 0:
        return 0.0
    return matched / (matched + sum(significant))


_HEADER = re.compile(r"\[([A-Za-z ]+)\]:")
_ITEM = re.compile(r"^\s*\(([a-fA-F1-6])\)\s*(.*)$", re.MULTILINE)
_COUNT = re.compile(r":\s*(\d+)\s*(?:[.;]|$)")
_LEADING_COUNT = re.compile(r"^\s*(\d+)\s*(?:[.;]|$|\s)")
_NONE = re.compile(r"^\s*(no\b|none\b)", re.IGNORECASE)


def _sections(text: str) -> dict[str, str]:
    """Header -> its text, up to the next ``[Header]:`` (the reference stops at a blank line instead)."""
    heads = list(_HEADER.finditer(text))
    out: dict[str, str] = {}
    for k, m in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        out.setdefault(m.group(1).strip().lower(), text[m.end():end].strip())
    return out


def _error_counts(body: str, which: str) -> tuple[int, ...]:
    if _NONE.match(body):
        return (0,) * 6  # "No errors." / "None."
    counts: dict[int, int] = {}
    for m in _ITEM.finditer(body):
        tag = m.group(1).lower()
        idx = ord(tag) - ord("a") if tag.isalpha() else int(tag) - 1
        c = _COUNT.search(m.group(2))
        if c is None:
            if _NONE.match(m.group(2).split(":", 1)[-1]):
                counts[idx] = 0
                continue
            from rexeval.backends.llm.client import UnparseableAnswer

            raise UnparseableAnswer(f"{which} ({tag}) has no count: {m.group(0).strip()[:80]!r}")
        n = int(c.group(1))
        if idx in counts and counts[idx] != n:
            from rexeval.backends.llm.client import UnparseableAnswer

            raise UnparseableAnswer(f"{which} ({tag}) given twice with different counts")
        counts[idx] = n
    if not counts:
        from rexeval.backends.llm.client import UnparseableAnswer

        raise UnparseableAnswer(f"{which}: no (a)-(f) lines and no 'No errors'")
    return tuple(counts.get(i, 0) for i in range(6))  # a category left out counts 0, as in the reference


def parse_green(text: str) -> GreenAnswer:
    """Read a GREEN answer; raise ``UnparseableAnswer`` when it does not say what GREEN must say."""
    from rexeval.backends.llm.client import UnparseableAnswer

    if not text or not text.strip():
        raise UnparseableAnswer("empty answer")
    text = text.replace("</s>", "").replace("<unk>", "")
    if "<|assistant|>" in text:  # a decoded prompt+answer: keep the answer
        text = text.split("<|assistant|>")[-1]
    secs = _sections(text)
    missing = [h for h in (SIG_HEADER, INSIG_HEADER, MATCHED_HEADER) if h.lower() not in secs]
    if missing:
        raise UnparseableAnswer(f"answer lacks the section(s) {', '.join(missing)}")
    sig = _error_counts(secs[SIG_HEADER.lower()], SIG_HEADER)
    insig = _error_counts(secs[INSIG_HEADER.lower()], INSIG_HEADER)
    body = secs[MATCHED_HEADER.lower()]
    m = _LEADING_COUNT.match(body)
    if m:
        matched = int(m.group(1))
    elif _NONE.match(body):
        matched = 0
    else:
        raise UnparseableAnswer(f"{MATCHED_HEADER} does not start with a count: {body[:80]!r}")
    return GreenAnswer(sig, insig, matched)


# --------------------------------------------------------------------------------------------------
# Local transformers backend


class _LocalJudge:
    """GREEN on this machine with transformers: left padding, greedy, GREEN's chat format."""

    _loaded: dict[tuple[str, str], Any] = {}

    def __init__(self, path: Path, device: str, batch_size: int, max_new_tokens: int, trust_remote_code: bool = False) -> None:
        self.path, self.device, self.batch_size, self.max_new_tokens = path, device, batch_size, max_new_tokens
        self.trust_remote_code = trust_remote_code

    def _load(self) -> Any:
        key = (str(self.path), self.device)
        if key not in self._loaded:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from rexeval.backends.models import quiet_loading

            # GREEN's tokenizer appends </s> to every encoded text (add_eos_token), as at training time.
            tok = AutoTokenizer.from_pretrained(
                str(self.path), add_eos_token=True, padding_side="left", trust_remote_code=self.trust_remote_code,
                local_files_only=True,  # the resolved folder only; no process-wide offline flag
            )
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
            with quiet_loading():
                model = AutoModelForCausalLM.from_pretrained(
                    str(self.path), dtype=dtype, trust_remote_code=self.trust_remote_code, local_files_only=True,
                    use_safetensors=True,  # never a pickled .bin
                ).eval().to(self.device)
            self._loaded[key] = (tok, model)
        return self._loaded[key]

    def answer(self, prompts: list[str]) -> list[str]:
        import torch

        tok, model = self._load()
        out: list[str] = [""] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda k: len(prompts[k]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            texts = [chat_text(prompts[k], tok.eos_token) for k in idx]
            enc = tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=MAX_NEW_TOKENS)
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                gen = model.generate(
                    **enc, do_sample=False, max_new_tokens=self.max_new_tokens,
                    eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                )
            new = gen[:, enc["input_ids"].shape[1] :]
            for row, k in enumerate(idx):
                out[k] = tok.decode(new[row], skip_special_tokens=True)
        return out


# --------------------------------------------------------------------------------------------------
# The metric


class Green(Metric):
    name = "green"
    description = "GREEN: matched findings / (matched + clinically significant errors), GREEN-RadLlama2-7b judge"

    def __init__(
        self,
        backend: str = "auto",
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        model_path: str | None = None,
        prompt: str = "rexeval",
        device: str = "auto",
        batch_size: int = 8,
        max_new_tokens: int = MAX_NEW_TOKENS,
        trust_remote_code: bool = False,
        cache: Any = "default",
        llm_limits: dict[str, Any] | None = None,
    ) -> None:
        if backend not in {"auto", "endpoint", "local"}:
            raise ConfigError(f"green backend must be auto, endpoint or local, not {backend!r}")
        self.backend = backend
        self.base_url = base_url or os.environ.get(ENV_BASE_URL)
        self.model = model or os.environ.get(ENV_MODEL) or HUB_ID
        from rexeval.backends.llm.redact import Secret, reveal

        # vLLM needs no key; openai needs one. A Secret shows as *** wherever it is printed or recorded
        # (--llm-api-key arrives as one: reveal it, str() would give the mask).
        self.api_key = Secret(str(reveal(api_key) or os.environ.get(ENV_API_KEY) or "EMPTY"))
        self.model_path = model_path
        self.prompt_name = prompt
        self.device = device
        self.batch_size = int(batch_size)
        self.max_new_tokens = int(max_new_tokens)
        # GREEN's hub repo carries a custom tokenizer module; running it is the user's explicit choice
        self.trust_remote_code = bool(trust_remote_code)
        self._cache = cache
        #: request limits (concurrency, rpm, timeout, max_retries) given explicitly, e.g. by --llm-* flags
        self.llm_limits = dict(llm_limits or {})
        self._run_info: dict[str, Any] = {}

    # -- declared numbers
    def outputs(self) -> list[Output]:
        inf = float("inf")
        outs = [
            Output("green", True, (0.0, 1.0), mean_of("green"),
                   "GREEN per study: matched / (matched + significant errors), 0 if nothing matched"),
            Output(f"{PREFIX}matched", True, (0.0, inf), mean_of(f"{PREFIX}matched"), "GREEN: mean matched findings"),
            Output(f"{PREFIX}total_sig", False, (0.0, inf), mean_of(f"{PREFIX}total_sig"),
                   "GREEN: mean clinically significant errors per report"),
        ]
        for kind in ("sig", "insig"):
            for letter, cat in zip(LETTERS, CATEGORIES, strict=True):
                col = f"{PREFIX}{kind}_{letter}"
                what = "significant" if kind == "sig" else "insignificant"
                outs.append(Output(col, False, (0.0, inf), mean_of(col), f"GREEN: mean {what} errors ({cat})"))
        return outs

    # -- where the judge runs
    def _which(self) -> str:
        if self.backend != "auto":
            return self.backend
        return "endpoint" if self.base_url else "local"

    def check_available(self) -> None:
        which = self._which()
        if which == "endpoint":
            if not self.base_url:
                raise MetricUnavailable(
                    "green backend 'endpoint' needs a server URL",
                    f"set {ENV_BASE_URL} (an OpenAI-compatible server serving {HUB_ID})",
                )
            from rexeval.backends.llm.client import require_openai

            require_openai()
        else:
            for mod in ("torch", "transformers"):
                if importlib.util.find_spec(mod) is None:
                    raise MetricUnavailable(f"green (local) needs {mod}", install_hint("green"))
            from rexeval.backends.models import check_files, resolve

            try:
                check_files(resolve(GREEN_MODEL, self.model_path))
            except MetricUnavailable as exc:
                raise MetricUnavailable(
                    exc.reason, f"{exc.fix}; or set {ENV_BASE_URL} to an OpenAI-compatible server serving {HUB_ID}"
                ) from None
            if self.device == "auto":
                import torch

                if not torch.cuda.is_available():  # a 7B judge on CPU would take hours: never by default
                    raise MetricUnavailable(
                        "green runs the 7B judge locally only on a GPU and none is visible",
                        f"set {ENV_BASE_URL} to a server serving {HUB_ID}, or pass device='cpu' explicitly",
                    )
        self.prompt()

    def prompt(self) -> GreenPrompt:
        return get_prompt(self.prompt_name)

    def _judge_id(self) -> str:
        if self._which() == "endpoint":
            from rexeval.backends.llm.config import LLMConfig

            endpoint = LLMConfig(base_url=self.base_url)
            return f"endpoint:{self.model}@{endpoint.host() or endpoint.endpoint_shown()}"  # no credentials
        from rexeval.backends.models import resolve

        try:
            return resolve(GREEN_MODEL, self.model_path).tag
        except MetricUnavailable:
            return HUB_ID

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"judge": self._judge_id()}
        try:
            p = self.prompt()
            opts.update({"prompt": p.version, "prompt_sha": p.sha256[:12]})
        except Exception:  # noqa: BLE001 - listing outputs must not fail on a missing prompt package
            opts["prompt"] = self.prompt_name
        opts.update({"greedy": True, "max_words": MAX_WORDS, "max_new_tokens": self.max_new_tokens})
        return opts

    def versions(self) -> dict[str, str]:
        return installed_versions("openai", "torch", "transformers")

    def run_info(self) -> dict[str, Any]:
        return self._run_info

    def summary_extra(self, columns: Any) -> dict[str, Any]:
        """summary.json -> ``metric_runs.green`` (requests, cache hits, failures; scoring's summary hook)."""
        return {"metric_runs": {self.name: self._run_info}} if self._run_info else {}

    # -- scoring
    def key_parts(self, prompt: GreenPrompt, reference: str, candidate: str) -> dict[str, Any]:
        return {"judge": "green", "model": self._judge_id(), "prompt": prompt.version, "prompt_sha": prompt.sha256,
                "greedy": True, "max_new_tokens": self.max_new_tokens, "reference": reference, "candidate": candidate}

    def _llm_config(self) -> Any:
        from rexeval.backends.llm.config import LLMConfig

        # limits (concurrency, rpm, timeout, retries) may come from REXEVAL_LLM_*; the endpoint never does
        return LLMConfig.from_env(**self.llm_limits).with_(
            base_url=self.base_url, model=self.model, api_key=self.api_key, azure_endpoint=None,
            api_version=None, temperature=0.0, top_p=None, max_tokens=self.max_new_tokens, json_mode=False,
        )

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        from rexeval.backends.llm.client import LLMClient, LLMRequest

        self.check_available()
        prompt = self.prompt()
        refs = [truncate_words(r) for r in batch.references]
        cands = [truncate_words(c) for c in batch.predictions]
        requests = [
            LLMRequest(self.key_parts(prompt, r, c), [{"role": "user", "content": prompt.render(r, c)}])
            for r, c in zip(refs, cands, strict=True)
        ]
        if self._which() == "endpoint":
            client = LLMClient(self._llm_config(), cache=self._cache)
            report = client.run(requests, accept=parse_green, progress=batch.progress)
            results, stats = report.results, report.stats
        else:
            results, stats = self._run_local(requests)
            if batch.progress:
                batch.progress(len(batch))
        n = len(batch)
        counts = np.full((n, 13), np.nan)
        failures = []
        for i, res in enumerate(results):
            if res.ok:
                a: GreenAnswer = res.value
                counts[i] = [*a.significant, *a.insignificant, a.matched]
            else:
                failures.append({"study_id": str(batch.study_ids[i]), "reason": res.failure,
                                 "error": (res.error or "")[:200]})
        out: dict[str, np.ndarray] = {}
        matched = counts[:, 12]
        total_sig = counts[:, :6].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["green"] = np.where(matched == 0, 0.0, matched / (matched + total_sig))  # NaN stays NaN
        out[f"{PREFIX}matched"] = matched
        out[f"{PREFIX}total_sig"] = total_sig
        for j, letter in enumerate(LETTERS):
            out[f"{PREFIX}sig_{letter}"] = counts[:, j]
            out[f"{PREFIX}insig_{letter}"] = counts[:, 6 + j]
        self._run_info = {**stats, "backend": self._which(), "n_studies": n, "n_failed_studies": len(failures),
                          "failed_studies": failures[:200]}
        return out

    def _run_local(self, requests: list[Any]) -> tuple[list[Any], dict[str, Any]]:
        """Answer with the local model; cached like endpoint answers; unparseable ones are failures."""
        from rexeval.backends.llm.cache import AnswerCache, request_key
        from rexeval.backends.llm.local import answer_locally
        from rexeval.backends.models import auto_device, resolve

        found = resolve(GREEN_MODEL, self.model_path)
        judge = _LocalJudge(found.path, auto_device(self.device), self.batch_size, self.max_new_tokens,
                            self.trust_remote_code)
        cache = AnswerCache() if self._cache == "default" else self._cache
        return answer_locally([request_key(r.key_parts) for r in requests], [r.key_parts for r in requests],
                              [r.messages[-1]["content"] for r in requests], judge.answer, parse_green, cache,
                              found.tag)
