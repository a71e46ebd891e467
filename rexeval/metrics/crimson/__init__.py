"""``crimson``: the CRIMSON LLM judge (Rajpurkar lab, 2026), as the RadEval package (2.x) runs it.

The judge lists the positive findings of both reports with a clinical significance, matches them and
classifies the errors (false, missing, attribute errors of 8 types with a severity); the score weights
them by significance and is signed: 1 is perfect, below 0 when false findings outweigh correct ones
(range [-1, 1]). Parsing and arithmetic: :mod:`rexeval.metrics.crimson.parse`.

The prompt is RadEval's, read at run time from the installed ``radeval`` package's source
(``metrics/crimson/prompt_parts.py`` and the system message in ``crimson.py``) with ``ast``: nothing is
executed and no text of it is copied here. Sections are assembled in the peer's order; the guideline
sections are included unless ``guidelines=False`` (RadEval drops them for its fine-tuned MedGemma judge).
Patient context (age, sex, indication, ... — the reference file's columns named by ``context``) goes in
the prompt as the peer formats it. Requests: system + user message, temperature 0, seed 42, JSON mode,
no token limit, like the peer's OpenAI path; through rexeval's LLM client (answer cache, bounded
retries, concurrency, cost accounting). An answer that stays unreadable after the retries is NaN.

Two backends (option ``backend``): ``endpoint`` (the above) and ``local``, RadEval's HF path: the
fine-tuned judge ``rajpurkarlab/medgemma-4b-it-crimson`` with transformers on this machine
(:mod:`rexeval.metrics.crimson.local`), found through rexeval's model management without network; its
prompt has no guideline sections (the judge was trained without them), its answers go through the same
parser and are cached like endpoint answers. ``auto`` (default): the endpoint when one is configured, else
the local judge when its weights are on disk, else the metric is skipped with both fixes.

Per-study columns: the score, the 11 error counts, the weighted false/missing/attribute errors, N_G,
credit and ``crimson_parse_ok``. The per-finding details (the judge's findings, matches and errors)
of every study are kept in ``metric.details`` and written to summary.json under ``crimson_details``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from rexeval.backends.models import ModelSpec, register_model
from rexeval.base.exceptions import ConfigError, MetricUnavailable, install_hint
from rexeval.metrics.base import Aggregate, Batch, Metric, Output, mean_of
from rexeval.metrics.crimson.parse import COUNT_KEYS

PREFIX = "crimson_"
PROMPT_FIX = ("pip install --no-deps 'radeval>=2.2,<3' (CRIMSON's prompt is read from the RadEval package's "
              "source at run time, never copied into rexeval)")
#: Prompt constants in RadEval's crimson/prompt_parts.py.
PARTS = ("OBJECTIVE", "TASK_STEPS", "CLINICAL_SIGNIFICANCE_LEVELS", "SIGNIFICANCE_APPLICATION",
         "ATTRIBUTE_SEVERITY_LEVELS", "ATTRIBUTE_ERROR_INSTRUCTIONS", "ERROR_CATEGORIES", "MATCHING_CRITERIA",
         "OUTPUT_FORMAT", "CONTEXT_GUIDELINES", "IMPORTANT_NOTES", "SIGNIFICANCE_EXAMPLES",
         "ATTRIBUTE_SEVERITY_GUIDELINES")
DEFAULT_CONTEXT = ("age", "sex", "indication")

#: RadEval's default HF judge (CRIMSONScore.DEFAULT_HF_MODEL), a fine-tuned MedGemma 4B.
HUB_ID = "rajpurkarlab/medgemma-4b-it-crimson"
CRIMSON_MODEL = register_model(
    ModelSpec(
        name="crimson-medgemma-4b",
        hub_id=HUB_ID,
        env_var="REXEVAL_CRIMSON_PATH",
        files=("config.json", "tokenizer_config.json"),
        # the weights are checked separately: one model.safetensors or an index with its shards
        extra_hub_files=("*.safetensors", "*.json", "tokenizer.model", "*.jinja"),
        used_by=("crimson",),
        licence="Health AI Developer Foundations terms (MedGemma)",
        note="CRIMSON judge (MedGemma 4B, bf16, ~8.6 GB); a GPU in practice, or serve it with vLLM",
    )
)
ENDPOINT_FIX = ("rexeval score ... --metrics crimson --llm-base-url URL --llm-model MODEL (an OpenAI-compatible "
                "server; RadEval's default judge is gpt-5.2)")


@dataclass(frozen=True)
class CrimsonPrompt:
    system: str
    parts: dict[str, str]
    version: str

    def render(self, reference: str, candidate: str, context: dict[str, str] | None, guidelines: bool) -> str:
        """The user message, sections in RadEval's order, blank-line separated, empty ones left out."""
        p = self.parts
        ctx = "".join(f"    {k}: {v}\n" for k, v in context.items()) if context else ""
        sections = [p["OBJECTIVE"], "Patient Context:\n" + ctx if ctx else "",
                    f"Reference Findings (Ground Truth):\n{reference}",
                    f"Predicted Findings (Candidate):\n{candidate}",
                    p["TASK_STEPS"], p["CLINICAL_SIGNIFICANCE_LEVELS"],
                    p["SIGNIFICANCE_EXAMPLES"] if guidelines else "",
                    p["SIGNIFICANCE_APPLICATION"], p["ATTRIBUTE_SEVERITY_LEVELS"], p["ERROR_CATEGORIES"],
                    p["MATCHING_CRITERIA"], p["ATTRIBUTE_ERROR_INSTRUCTIONS"],
                    p["ATTRIBUTE_SEVERITY_GUIDELINES"] if guidelines else "",
                    p["CONTEXT_GUIDELINES"] if guidelines and ctx else "",
                    p["OUTPUT_FORMAT"], p["IMPORTANT_NOTES"]]
        return "\n\n".join(s for s in sections if s)

    def messages(self, reference: str, candidate: str, context: dict[str, str] | None, guidelines: bool) -> list[dict]:
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.render(reference, candidate, context, guidelines)}]


def load_prompt() -> CrimsonPrompt:
    """CRIMSON's prompt from the installed RadEval package (MetricUnavailable with the fix when absent)."""
    from rexeval.metrics.errors_llm.prompt import package_source_tree, string_constants

    tree, source = package_source_tree("radeval", "metrics/crimson/prompt_parts.py", "metric crimson", PROMPT_FIX)
    parts = string_constants(tree)
    missing = [k for k in PARTS if k not in parts]
    if missing:
        raise MetricUnavailable(f"{source} lacks {', '.join(missing)} (unknown RadEval version)", PROMPT_FIX)
    tree, source = package_source_tree("radeval", "metrics/crimson/crimson.py", "metric crimson", PROMPT_FIX)
    system = string_constants(tree).get("_SYSTEM_MSG")
    if system is None:
        raise MetricUnavailable(f"{source} has no _SYSTEM_MSG (unknown RadEval version)", PROMPT_FIX)
    blob = json.dumps([system, [parts[k] for k in PARTS]]).encode("utf-8")
    return CrimsonPrompt(system, {k: parts[k] for k in PARTS}, "radeval-crimson-" + hashlib.sha256(blob).hexdigest()[:12])


def _count_failed(column: str) -> Aggregate:
    return Aggregate("count", lambda cols: (np.asarray(cols[column], dtype=float) == 0).astype(float)[:, None],
                     lambda s: s[..., 0])


class Crimson(Metric):
    name = "crimson"
    default = False
    #: pyproject extras it needs (listed by ``rexeval metrics``).
    extras = ("llm",)
    needs_endpoint = "optional (or the local model)"
    description = "CRIMSON LLM judge: severity-weighted findings, signed score in [-1, 1] (RadEval's prompt and scoring)"

    def __init__(self, context: str | list[str] | tuple[str, ...] = DEFAULT_CONTEXT, guidelines: bool | None = None,
                 cache: Any = "default", backend: str = "auto", model_path: str | None = None, device: str = "auto",
                 dtype: str = "auto", max_new_tokens: int | None = None, **llm: Any) -> None:
        from rexeval.backends.llm.config import LLMConfig

        if backend not in {"auto", "endpoint", "local"}:
            raise ConfigError(f"crimson backend must be auto, endpoint or local, not {backend!r}")
        if dtype not in {"auto", "bfloat16", "float16", "float32"}:
            raise ConfigError(f"crimson dtype must be auto, bfloat16, float16 or float32, not {dtype!r}")
        if isinstance(context, str):
            context = tuple(c.strip() for c in context.split(",") if c.strip())
        self.context_columns = tuple(context)
        #: None: RadEval's choice, with guidelines on an endpoint, without them for the local fine-tuned judge.
        self._guidelines = None if guidelines is None else bool(guidelines)
        self._cache = cache
        self.backend = backend
        self.model_path = model_path
        self.device = device
        self.dtype = dtype
        self.max_new_tokens = None if max_new_tokens is None else int(max_new_tokens)
        self._judge: Any = None
        config = LLMConfig.from_env(**llm)
        # The peer's OpenAI request: no token limit, seed 42, JSON object; explicit options still win.
        changes: dict[str, Any] = {}
        if "max_tokens" not in llm:
            changes["max_tokens"] = None
        if "seed" not in llm:
            changes["seed"] = 42
        if "json_mode" not in llm:
            changes["json_mode"] = True
        self.config = config.with_(**changes)
        self._prompt: CrimsonPrompt | None = None
        self._run_info: dict[str, Any] = {}
        #: study_id -> the judge's findings, matches and errors, with the score's parts (last compute).
        self.details: dict[str, Any] = {}

    def outputs(self) -> list[Output]:
        outs = [Output("crimson", True, (-1.0, 1.0), mean_of("crimson"), "CRIMSON score (signed, 1 = no error)")]
        for key in ("false_findings", "missing_findings", "attribute_errors"):
            outs.append(Output(PREFIX + key, False, (0.0, float("inf")), mean_of(PREFIX + key),
                               f"CRIMSON {key.replace('_', ' ')} per study"))
        outs.append(Output(PREFIX + "n_failed", False, (0.0, float("inf")), _count_failed(PREFIX + "parse_ok"),
                           "studies without a readable judge answer after the retries", per_study=False))
        return outs

    def prompt(self) -> CrimsonPrompt:
        if self._prompt is None:
            self._prompt = load_prompt()
        return self._prompt

    @property
    def guidelines(self) -> bool:
        if self._guidelines is not None:
            return self._guidelines
        return self._which() != "local"  # RadEval: its MedGemma judge was trained without the guidelines

    def _which(self) -> str:
        if self.backend != "auto":
            return self.backend
        if self.config.configured:
            return "endpoint"
        try:
            self._resolve()
        except MetricUnavailable:
            return "none"
        return "local"

    def _resolve(self) -> Any:
        """The local judge's folder (model_path, $REXEVAL_CRIMSON_PATH or the HF cache), weights checked."""
        import dataclasses

        from rexeval.backends.models import Resolved, check_files, resolve

        found = resolve(CRIMSON_MODEL, self.model_path)
        weights = [n for n in ("model.safetensors.index.json", "model.safetensors") if (found.path / n).is_file()]
        if not weights:
            raise MetricUnavailable(f"model {CRIMSON_MODEL.name}: {found.path} has no model.safetensors "
                                    "(or model.safetensors.index.json)", CRIMSON_MODEL.fix)
        spec = dataclasses.replace(found.spec, files=found.spec.files + (weights[0],))
        check_files(Resolved(spec, found.path, found.source, found.revision))
        return found

    def _device(self) -> str:
        from rexeval.backends.models import auto_device

        return auto_device(self.device)

    def local_judge(self) -> Any:
        from rexeval.metrics.crimson.local import LocalCrimsonJudge, resolve_dtype

        found = self._resolve()
        device = self._device()
        judge = LocalCrimsonJudge(found.path, device, resolve_dtype(self.dtype, device), self.max_new_tokens)
        return found, judge

    def check_available(self) -> None:
        from rexeval.backends.llm.client import require_openai

        which = self._which()
        if which == "none":
            try:
                self._resolve()
            except MetricUnavailable as exc:
                raise MetricUnavailable(
                    f"metric crimson needs an endpoint (--llm-base-url) or the local judge {HUB_ID} ({exc.reason})",
                    f"{ENDPOINT_FIX}; or, for RadEval's local judge, {exc.fix}") from None
        if which == "local":
            import importlib.util

            for mod in ("torch", "transformers"):
                if importlib.util.find_spec(mod) is None:
                    raise MetricUnavailable(f"crimson (local) needs {mod}", install_hint("models"))
            try:
                self._resolve()
            except MetricUnavailable as exc:
                raise MetricUnavailable(exc.reason, f"{exc.fix}; or use an endpoint: {ENDPOINT_FIX}") from None
            self.prompt()
            return
        if not self.config.configured:
            try:
                self.config.require_endpoint("metric crimson")
            except ConfigError as exc:
                raise ConfigError(f"{exc}. Fix: {ENDPOINT_FIX}") from None
        require_openai()
        self.prompt()

    def _local_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"backend": "local"}
        try:
            found, judge = self.local_judge()
            opts["judge"] = found.tag
            opts.update(judge.describe())
        except MetricUnavailable:
            opts["judge"] = HUB_ID
        try:
            opts["prompt"] = self.prompt().version
        except MetricUnavailable:
            opts["prompt"] = "unavailable"
        opts.update({"guidelines": self.guidelines, "context": list(self.context_columns) or "none"})
        return opts

    def options(self) -> dict[str, Any]:
        if self._which() == "local":
            return self._local_options()
        c = self.config
        opts: dict[str, Any] = {"judge": c.model or "unset"}
        if c.endpoint():
            opts["host"] = c.host() or c.endpoint_shown()  # never user info or a query string
        try:
            opts["prompt"] = self.prompt().version
        except MetricUnavailable:
            opts["prompt"] = "unavailable"
        opts.update({"guidelines": self.guidelines, "context": list(self.context_columns) or "none",
                     "t": c.temperature, "seed": c.seed if c.seed is not None else "none", "json": c.json_mode,
                     "max_tokens": c.max_tokens if c.max_tokens is not None else "none"})
        return opts

    def versions(self) -> dict[str, str]:
        from rexeval.metrics.base import installed_versions

        if self._which() == "local":
            return installed_versions("torch", "transformers", "radeval")
        return installed_versions("openai", "radeval")

    def run_info(self) -> dict[str, Any]:
        return self._run_info

    def summary_extra(self, columns: Any) -> dict[str, Any]:
        if not self._run_info:
            return {}
        return {"metric_runs": {self.name: self._run_info}, "crimson_details": self.details}

    def context_of(self, batch: Batch, i: int) -> dict[str, str] | None:
        """The study's patient context from the reference file's columns (None when it has none)."""
        ctx: dict[str, str] = {}
        for col in self.context_columns:
            values = batch.extra.get(col)
            if values is None:
                continue
            v = values[i]
            if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
                continue
            ctx[col] = str(v).strip()
        return ctx or None

    def key_parts(self, messages: list[dict]) -> dict[str, Any]:
        c = self.config
        return {"judge": "crimson", "model": c.model, "messages": messages, "temperature": c.temperature,
                "seed": c.seed, "json": c.json_mode, "max_tokens": c.max_tokens, "top_p": c.top_p}

    def compute(self, batch: Batch) -> dict[str, np.ndarray]:
        from rexeval.backends.llm.client import LLMClient, LLMRequest

        self.check_available()
        prompt = self.prompt()
        requests = []
        for i, (ref, cand) in enumerate(zip(batch.references, batch.predictions, strict=True)):
            msgs = prompt.messages(ref, cand, self.context_of(batch, i), self.guidelines)
            requests.append(LLMRequest(self.key_parts(msgs), msgs))

        if self._which() == "local":
            results, stats = self._run_local(requests, batch.progress)
        else:
            report = LLMClient(self.config, cache=self._cache).run(requests, accept=_accept, progress=batch.progress)
            results, stats = report.results, report.stats
        n = len(batch)
        cols = {k: np.full(n, np.nan) for k in ["crimson"] + [PREFIX + k for k in COUNT_KEYS] +
                [PREFIX + "weighted_false", PREFIX + "weighted_missing", PREFIX + "weighted_attribute",
                 PREFIX + "n_g", PREFIX + "credit"]}
        cols[PREFIX + "parse_ok"] = np.zeros(n)
        self.details = {}
        failures = []
        for i, res in enumerate(results):
            sid = str(batch.study_ids[i])
            if not res.ok:
                failures.append({"study_id": sid, "reason": res.failure, "error": (res.error or "")[:200]})
                continue
            v = res.value
            cols["crimson"][i] = v["crimson_score"]
            for k in COUNT_KEYS:
                cols[PREFIX + k][i] = v["error_counts"][k]
            w = v["weighted_error_counts"]
            cols[PREFIX + "weighted_false"][i] = w["false_findings"]
            cols[PREFIX + "weighted_missing"][i] = w["missing_findings"]
            cols[PREFIX + "weighted_attribute"][i] = w["attribute_errors"]
            cols[PREFIX + "n_g"][i] = v["metrics"]["N_G"]
            cols[PREFIX + "credit"][i] = v["metrics"]["correct"]
            cols[PREFIX + "parse_ok"][i] = 1.0
            self.details[sid] = {"score": v["crimson_score"], "evaluation": v["evaluation"], "metrics": v["metrics"]}
        self._run_info = {**stats, "n_studies": n, "n_failed_studies": len(failures),
                          "failed_studies": failures[:200], "prompt": prompt.version}
        if self._which() == "local":
            self._run_info.update(backend="local", config={k: v for k, v in self.options().items()
                                                           if k not in ("prompt", "context")})
        else:
            cfg = self.config.public()
            self._run_info["config"] = {k: cfg[k] for k in ("base_url", "azure_endpoint", "model", "temperature",
                                                            "seed", "max_tokens", "json_mode", "concurrency", "rpm",
                                                            "timeout", "max_retries", "parse_retries")}
        return cols

    def _run_local(self, requests: list[Any], progress: Any) -> tuple[list[Any], dict[str, Any]]:
        """Answer with the local judge, through rexeval's answer cache; unreadable answers are failures.

        One generation per study: decoding is greedy, so RadEval's re-generations of an unreadable answer
        would only repeat it. Only readable answers are cached (an unreadable one is generated again next run).
        """
        from rexeval.backends.llm.cache import AnswerCache, request_key
        from rexeval.backends.llm.local import answer_locally

        found, judge = self.local_judge()
        cache = AnswerCache() if self._cache == "default" else self._cache
        parts = [{"judge": "crimson", "backend": "local", "model": found.tag, **judge.describe(),
                  "messages": r.messages} for r in requests]
        return answer_locally([request_key(p) for p in parts], parts, [r.messages for r in requests],
                              lambda prompts: judge.answer(prompts, progress), _accept, cache, found.tag, progress)


def _accept(text: str) -> dict[str, Any]:
    """The parsed, scored answer; an unreadable one is an UnparseableAnswer (retried, then a failure)."""
    from rexeval.backends.llm.client import UnparseableAnswer
    from rexeval.metrics.crimson.parse import CrimsonParseError, parse_and_score

    try:
        return parse_and_score(text)
    except CrimsonParseError as exc:
        raise UnparseableAnswer(str(exc)) from None
