"""A scored run: the typed, versioned run and its directory (runs), scoring, sharding and merging,
subgroups.
"""
