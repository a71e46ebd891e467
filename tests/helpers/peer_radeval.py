"""Run a piece of the RadEval package (the peer) on given inputs and print one JSON line.

Usage: python peer_radeval.py TASK INPUT.json   (with the RadEval package importable; REXEVAL_RADEVAL_PATH
is put first on sys.path when set). Tasks:

* ``bertscore``: RadEval's vendored bert_score ``BERTScorer`` exactly as its radeval_bertscore adapter
  configures it (22 layers, fast tokenizer, no rescaling), on ``model`` (a folder), for ``preds``/``refs``;
  also, per pair, the score of that pair scored alone.
* ``crimson``: RadEval's CRIMSON parser and scorer on canned judge answers (``answers``), without a
  backend: ``CRIMSONScore._parse_response`` -> score, error counts, weighted counts, raw evaluation;
  and the prompt the peer builds for each (``pairs``).
* ``temporal``: RadEval's ``calculate_tem_score`` with its Stanza pipeline replaced by a stub that
  returns the given NER entities for each text (``texts`` -> ``entities``).
"""

from __future__ import annotations

import json
import os
import sys
import types

if os.environ.get("REXEVAL_RADEVAL_PATH"):
    sys.path.insert(0, os.environ["REXEVAL_RADEVAL_PATH"])


def bertscore(data: dict) -> dict:
    import torch
    from radeval.metrics.bertscore._vendor import BERTScorer

    scorer = BERTScorer(model_type=data["model"], num_layers=22, batch_size=64, nthreads=0, all_layers=False,
                        idf=False, device="cpu", lang="en", rescale_with_baseline=False, baseline_path=None,
                        use_fast_tokenizer=True)
    f_all = []
    p_all = []
    for i in range(0, len(data["refs"]), 64):  # as RadEval's BertScoreBase._score_batched
        p, _, f = scorer.score(cands=data["preds"][i:i + 64], refs=data["refs"][i:i + 64], verbose=False, batch_size=64)
        f_all.append(f)
        p_all.append(p)
    alone = []
    for h, r in zip(data["preds"][: data.get("n_alone", 0)], data["refs"]):
        alone.append(scorer.score(cands=[h], refs=[r], verbose=False, batch_size=64)[2].item())
    ids = [scorer._tokenizer.encode(t.strip(), add_special_tokens=True) if t.strip() else
           scorer._tokenizer.encode("", add_special_tokens=True) for t in data["preds"] + data["refs"]]
    return {"f": torch.cat(f_all).tolist(), "p": torch.cat(p_all).tolist(), "alone": alone, "ids": ids}


def crimson(data: dict) -> dict:
    from radeval.metrics.crimson.crimson import CRIMSONScore

    scorer = CRIMSONScore.__new__(CRIMSONScore)  # no backend: only the parser and the scoring
    scorer.provider, scorer.model_name = "openai", data.get("model_name", "gpt-5.2")
    out = []
    for raw in data["answers"]:
        try:
            res = scorer._parse_response(raw)
            out.append({"ok": True, "score": res["crimson_score"], "error_counts": res["error_counts"],
                        "weighted": res["weighted_error_counts"], "metrics": res["metrics"],
                        "evaluation": res["raw_evaluation"]})
        except Exception as exc:  # noqa: BLE001 - a failure is an outcome to compare
            out.append({"ok": False, "error": type(exc).__name__})
    prompts = [scorer._build_evaluation_prompt(r, h, ctx, True) for r, h, ctx in data.get("pairs", [])]
    requests = [scorer._build_request(r, h, patient_context=ctx) for r, h, ctx in data.get("pairs", [])]
    return {"results": out, "prompts": prompts, "requests": requests}


def temporal(data: dict) -> dict:
    entities = data["entities"]

    class _Ent:
        def __init__(self, text: str, type_: str) -> None:
            self.text, self.type = text, type_

    class _Pipeline:
        def __init__(self, *a, **k) -> None:
            pass

        def __call__(self, text: str):
            return types.SimpleNamespace(entities=[_Ent(t, ty) for t, ty in entities.get(text, [])])

    sys.modules["stanza"] = types.SimpleNamespace(Pipeline=_Pipeline)  # the NER model cannot be downloaded
    from radeval.metrics.f1temporal.f1temporal import F1Temporal

    res = F1Temporal(predictions=data["preds"], references=data["refs"])
    return {"f1": res["f1"], "scores": res["sample_scores"],
            "pred_entities": [sorted(s) for s in res["prediction_entities"]],
            "ref_entities": [sorted(s) for s in res["reference_entities"]]}


def srrbert(data: dict) -> dict:
    from radeval.metrics.SRRBert.srr_bert import SRRBert

    scorer = SRRBert(model_type="leaves_with_statuses", batch_size=4)
    report, p, r, f = scorer.evaluate(data["refs"], data["preds"])
    labels = [k for k, _ in sorted(scorer.mapping.items(), key=lambda x: x[1])]
    return {"sample_p": p.tolist(), "sample_r": r.tolist(), "sample_f1": f.tolist(),
            "avg": {k: report[k]["f1-score"] for k in ("micro avg", "macro avg", "weighted avg") if k in report},
            "per_label": {k: [report[k]["f1-score"], report[k]["support"]] for k in labels}}


if __name__ == "__main__":
    task, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as fh:
        payload = json.load(fh)
    print(json.dumps({"bertscore": bertscore, "crimson": crimson, "temporal": temporal,
                      "srrbert": srrbert}[task](payload)))
