"""Tools built on scoring and rewards: meta-evaluation against ratings, the stress suite and the
reward-hack check.
"""
