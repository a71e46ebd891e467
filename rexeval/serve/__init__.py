"""``rexeval serve``: the reward engine behind an HTTP service, and the adapters that let RL trainers
(verl, OpenRLHF, EasyR1, TRL) use it or the engine in-process.

One module per idea:

``config``
    the ``serve:`` block (batching, limits, time-outs) and the reward block read from the YAML that
    ``rexeval train-rl`` reads.
``scoring``
    :class:`RewardScorer`: a batch of samples in, per sample the weighted reward, every component's raw
    and transformed value and the failures with their reasons out, through :class:`RewardSuite`'s engine
    (de-duplication, caches, batch invariance are the engine's).
``batcher``
    dynamic batching of concurrent requests (max batch size, max wait) with a time-out per batch.
``telemetry``
    the Prometheus counters behind ``/metrics``.
``refusals``
    :class:`RequestRefused`: a refused request's status, counter label and reason.
``app``
    the FastAPI application (``/score``, ``/openrlhf``, ``/config``, ``/health``, ``/metrics``).
``ray_replicas``
    ``--engine ray``: scorer replicas on Ray actors behind the same application.
``client``
    :class:`RewardClient`: retries with back-off and a deadline after which a sample's reward is missing
    and counted, never a hang.
``adapters``
    ``verl``, ``openrlhf``, ``easyr1``, ``trl``: each trainer's reward interface.

Nothing here imports FastAPI, uvicorn, httpx or Ray at ``import rexeval``: they load inside functions.
"""
