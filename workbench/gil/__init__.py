"""The GIL lab: classic claims about CPython's GIL, each measured in a fresh process and judged
from the numbers (`measure` runs in the child, `verdicts` judges in the parent, `lab` runs both)."""
