"""The text cache on shared storage: concurrent writers lose nothing, and a rerun after a crash computes
only what is missing (what scoring on several workers, e.g. ``--engine ray``, relies on)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.helpers.paths import ROOT

WRITER = textwrap.dedent(
    """
    import json, sys
    from rexeval.base.cache import TextCache

    folder, worker, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cache = TextCache("concurrency-test", directory=folder)
    for start in range(0, 400, 20):  # many small commits, interleaving with the other writers
        texts = [f"report {i}" for i in range(start, start + 20)]
        if worker % 2:
            texts.reverse()

        def fn(todo):
            with open(log, "a") as fh:
                fh.write(json.dumps(todo) + "\\n")
            return [{"n": int(t.split()[1]), "sq": [int(t.split()[1]) ** 2]} for t in todo]

        got = cache.compute(texts, fn)
        assert all(v["n"] == int(t.split()[1]) for t, v in zip(texts, got))
    """
)


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_concurrent_writers_lose_nothing_and_values_are_right(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, str(script), str(folder), str(w), str(tmp_path / f"log{w}")],
                              env=_env(), stderr=subprocess.PIPE, text=True) for w in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]

    from rexeval.base.cache import TextCache

    fresh = TextCache("concurrency-test", directory=folder)
    texts = [f"report {i}" for i in range(400)]
    found = fresh.get_many(texts)
    assert len(found) == 400 and fresh.rejected == 0
    assert all(found[t] == {"n": i, "sq": [i * i]} for i, t in enumerate(texts))


def test_rerun_after_a_crash_computes_only_the_missing_texts(tmp_path):
    from rexeval.base.cache import TextCache

    folder = tmp_path / "cache"
    texts = [f"report {i}" for i in range(50)]
    crash = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            """
            import os, sys
            from rexeval.base.cache import TextCache
            cache = TextCache("crash-test", directory=sys.argv[1])
            cache.compute([f"report {i}" for i in range(30)], lambda todo: [len(t) for t in todo])
            os._exit(137)  # killed before the rest of the run: nothing after this is written
            """), str(folder)],
        env=_env(), capture_output=True, text=True, timeout=120)
    assert crash.returncode == 137, crash.stderr
    asked: list[list[str]] = []

    def fn(todo):
        asked.append(list(todo))
        return [len(t) for t in todo]

    values = TextCache("crash-test", directory=folder).compute(texts, fn)
    assert values == [len(t) for t in texts]
    assert asked == [texts[30:]]  # the 30 written before the crash are read back, not recomputed
    assert json.dumps(values)  # plain data
