"""Recorded values that the current code must reproduce exactly."""
