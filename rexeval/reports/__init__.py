"""What a reader sees of runs: the terminal table, paired comparison, leaderboards, plots, the HTML
report and ReXrank's column names.
"""
