"""A scored run: the run directory (runs), scoring, sharding and merging, subgroups."""
