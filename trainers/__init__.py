"""Training applications on top of rexeval: GRPO with rexeval rewards, SFT warm start, generation.

An application package: it imports rexeval, never the reverse (the CLI imports it lazily).
"""
