"""Recording a live set as it plays (recorder.py) and reading one back (take.py) for a replay."""
