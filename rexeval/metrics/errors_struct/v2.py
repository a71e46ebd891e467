"""``errors_struct`` counter v2: reads findings with their qualifiers (findings.py) and counts errors by
the shared specification (compare.py). Sentences and reports are cached in memory, as in v1."""

from __future__ import annotations

from rexeval.backends.labelers.rules import lower_same_length
from rexeval.metrics.error_schema import LETTERS
from rexeval.metrics.errors_struct.compare import ErrorItem, Report, count_errors
from rexeval.metrics.errors_struct.findings import Summary, read_sentence
from rexeval.metrics.errors_struct.v1 import BoundedCache, split_sentences

COUNTER_VERSION = "2"
#: The revision of v2's counting rules, in the signature (``rules:2.5``): 2.1 adds the amendments after the
#: reward-check probes, 2.2 those after the final probe round, 2.3 a finding's sites kept apart (a second
#: opacity elsewhere is its own finding; docs/errors.md), 2.4 the sides the counter did not read (a density, a
#: rib deformity, subcutaneous emphysema, a side in a place named far after its finding) and two paraphrases of
#: pneumonia and of an opacity's sites, 2.5 a venous line behind "XXXX", a device's presence hedged, and which side has
#: the larger effusion or nodule; counts of the same pair may differ between revisions.
RULES_REVISION = "2.5"
_NONE: frozenset = frozenset()


def _settled(s: set) -> frozenset:
    # A cached report lives as long as the process: its sets become frozensets, the empty ones (most) one
    # shared object, so that the garbage collector has tens of thousands fewer containers to walk
    return frozenset(s) if s else _NONE


class StructuredErrorCounterV2:
    """``count(reference, candidate)`` -> 12 counts; ``errors(...)`` -> the itemised errors."""

    version = COUNTER_VERSION

    def __init__(self, labeler: str = "rules", cache_size: int = 200_000) -> None:
        from rexeval.backends.labelers import get_labeler

        if labeler != "rules":
            from rexeval.base.exceptions import ConfigError

            raise ConfigError(f"errors_struct v2 reads the rule labeler's mentions; labeler {labeler!r} is not supported")
        self.labeler_name = labeler
        self.labeler = get_labeler(labeler)
        self._sentences: BoundedCache = BoundedCache(cache_size)
        self._reports: BoundedCache = BoundedCache(cache_size // 4)

    def _sentence(self, sentence: str):
        low = lower_same_length(sentence)
        hit = self._sentences.get(low)
        if hit is None:
            hit = read_sentence(low)
            self._sentences.put(low, hit)
        return hit

    def report(self, text: str) -> Report:
        hit = self._reports.get(text)
        if hit is not None:
            return hit
        findings: dict[str, Summary] = {}
        temporal: set = set()
        statement = False
        for sentence in split_sentences(text):
            found, whole, says = self._sentence(sentence)
            temporal.update(whole)
            statement = statement or says
            for f, statuses in found:
                s = findings.get(f.kind)
                if s is None:
                    s = findings[f.kind] = Summary(f.kind)
                s.add(f)
                s.temporal.update(statuses)
        for s in findings.values():
            # frozen once settled: a cached report is shared, never changed
            settled = (_settled(s.sides), _settled(s.zones), _settled(s.tips), _settled(s.temporal))
            s.sides, s.zones, s.tips, s.temporal = settled  # type: ignore[assignment]
            s.spots, s.sites = _settled(s.spots), _settled(s.sites)  # type: ignore[assignment]
        out = Report(findings, _settled(temporal), statement)  # type: ignore[arg-type]
        self._reports.put(text, out)
        return out

    profile = report  # v1's name for the cached per-report reading

    def errors(self, reference: str, candidate: str) -> list[ErrorItem]:
        return count_errors(self.report(reference), self.report(candidate))

    def count(self, reference: str, candidate: str) -> list[int]:
        """12 counts: significant A..F then insignificant A..F."""
        counts = [0] * 12
        for e in self.errors(reference, candidate):
            counts[LETTERS.index(e.type) + (0 if e.significant else 6)] += 1
        return counts
