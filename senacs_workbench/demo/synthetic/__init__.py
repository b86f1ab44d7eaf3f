"""National synthetic SENACS data: realistic, deterministic exports with planted incoherences.

One concern per module: ``calibration`` (every assumption), ``universe`` (départements and
structures), ``names`` (structure names), ``answers`` (clean answers of a year),
``incoherences`` (planted errors and their ground truth), ``export`` (CSV / XLSX writing),
``generator`` (the yearly simulation). See ``docs/synthetic-data.md``.
"""

from senacs_workbench.demo.synthetic.calibration import FAMILIES, PLANT_RATE
from senacs_workbench.demo.synthetic.generator import SyntheticYear, generate, generate_frames

__all__ = ["FAMILIES", "PLANT_RATE", "SyntheticYear", "generate", "generate_frames"]
