"""Published leaderboard tables, transcribed as data with their source (see transcribe_rexrank.py)."""
