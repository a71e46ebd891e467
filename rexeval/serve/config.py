"""What ``rexeval serve`` reads: the reward block (the same YAML ``rexeval train-rl`` reads: a run
config with a ``reward:`` block, or a bare reward config) and an optional ``serve:`` block, checked in
full before any model loads."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rexeval.base.exceptions import ConfigError, refuse_unknown

#: End-of-turn and end-of-text tokens of common chat templates (Qwen, Llama 2/3, Gemma, Phi, Mistral).
DEFAULT_STRIP_SUFFIXES = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>",
                          "<end_of_turn>", "<eos>", "<|end|>")


@dataclass
class ServeConfig:
    """Batching, limits and time-outs of the service (the ``serve:`` block; flags override)."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: Samples scored in one engine call; concurrent requests are merged up to this many.
    max_batch_size: int = 256
    #: Requests that arrive while a batch runs join the next batch anyway; this is how long an idle
    #: batcher holds a batch open for more after the first request (0: send it at once).
    max_wait_s: float = 0.0
    #: Merge concurrent requests into one engine call (False: each request is scored on its own).
    dynamic_batching: bool = True
    #: Samples one request may carry, and characters per text; larger requests are refused (413).
    max_request_samples: int = 4096
    max_text_chars: int = 20_000
    #: Bytes of one request body (413 above it).
    max_body_bytes: int = 32 * 1024 * 1024
    #: Seconds a batch may run; its samples then fail with the reason "batch timed out".
    batch_timeout_s: float = 300.0
    #: The number a protocol that cannot carry "no reward" (OpenRLHF) gets for a failed sample; such a
    #: sample is also flagged (``extra_logs["reward_failed"]``) and counted on ``/metrics``.
    failure_reward: float = 0.0
    #: Special tokens stripped from the end of an OpenRLHF query (it decodes with the special tokens).
    strip_suffixes: list[str] = field(default_factory=lambda: list(DEFAULT_STRIP_SUFFIXES))
    #: ``--engine ray``: scorer replicas (each a Ray actor holding the models) and the GPUs each takes.
    replicas: int = 1
    gpus_per_replica: float = 0.0
    #: Ray cluster address (None: ``$RAY_ADDRESS``, else a local Ray).
    ray_address: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ServeConfig:
        data = dict(data or {})
        refuse_unknown(data, {f.name for f in fields(cls)}, "serve option(s)")
        cfg = cls(**data)
        cfg.check()
        return cfg

    def check(self) -> None:
        positive = ("max_batch_size", "max_request_samples", "max_text_chars", "max_body_bytes",
                    "batch_timeout_s", "replicas")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"serve option {name} must be a positive number, not {value!r}")
        if isinstance(self.max_wait_s, bool) or not isinstance(self.max_wait_s, (int, float)) \
                or self.max_wait_s < 0:
            raise ConfigError(f"serve option max_wait_s must be a number >= 0, not {self.max_wait_s!r}")
        if isinstance(self.failure_reward, bool) or not isinstance(self.failure_reward, (int, float)):
            raise ConfigError(f"serve option failure_reward must be a number, not {self.failure_reward!r}")
        if not isinstance(self.strip_suffixes, list) or not all(isinstance(x, str) for x in self.strip_suffixes):
            raise ConfigError(f"serve option strip_suffixes must be a list of strings, not {self.strip_suffixes!r}")
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"serve option port must be 0-65535, not {self.port!r}")


def split_config(tree: Any, where: str = "the reward config") -> tuple[Any, ServeConfig]:
    """(reward block, serve options) from a run config or a bare reward config."""
    if isinstance(tree, dict):
        serve = tree.get("serve")
        if serve is not None and not isinstance(serve, dict):
            raise ConfigError(f"{where}: 'serve' must be a mapping, not {serve!r}")
        reward = tree["reward"] if "reward" in tree else {k: v for k, v in tree.items() if k != "serve"}
        return reward, ServeConfig.from_dict(serve)
    return tree, ServeConfig()


def load_serve_config(path: str | Path) -> tuple[Any, ServeConfig]:
    """Read the YAML at ``path``: (reward block, serve options)."""
    import yaml

    path = Path(path)
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such reward config") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if tree is None:
        raise ConfigError(f"{path}: the reward config is empty")
    return split_config(tree, str(path))


def check_servable(reward: Any) -> None:
    """Refuse normalisations that make a sample's reward depend on other samples: in a shared service
    ``group`` and ``running`` would depend on which requests were batched together and on their order.
    The trainers normalise advantages per group themselves."""
    from rexeval.rewards import RewardConfig

    cfg = reward if isinstance(reward, RewardConfig) else RewardConfig.from_dict(reward)
    for comp in cfg.components:
        if comp.normalize != "none":
            raise ConfigError(
                f"reward component {comp.resolved_name!r}: normalize={comp.normalize!r} cannot be served "
                "(the reward would depend on the other requests); set normalize: none — verl, OpenRLHF, "
                "EasyR1 and TRL normalise advantages per GRPO group themselves"
            )
