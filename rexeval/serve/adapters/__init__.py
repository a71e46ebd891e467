"""Each RL trainer's reward interface, in process or through ``rexeval serve``:
``verl`` (custom reward function, per-sample and batch), ``openrlhf`` (``--remote_rm_url``),
``easyr1`` (its reward-function file), ``trl`` (reward functions that call the service)."""
