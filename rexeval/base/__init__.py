"""The bottom floor: exceptions, aggregates, text and table I/O, alignment, hashing, caches,
scratch folders and the display names of output keys. Imports nothing of rexeval above it.
"""
