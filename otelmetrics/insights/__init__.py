"""In-process statistics and views: the rolling statistics, health, operations views, snapshots.

Reads the instruments; never imports the API or the pipeline.
"""
