"""National synthetic data generator (``senacs synth``): the public API.

The implementation lives in the :mod:`senacs_workbench.demo.synthetic` package; this module is the
stable entry point used by the CLI, the demo, the tests and the benchmarks.
"""

from senacs_workbench.demo.synthetic import FAMILIES, PLANT_RATE, SyntheticYear, generate, generate_frames

__all__ = ["FAMILIES", "PLANT_RATE", "SyntheticYear", "generate", "generate_frames"]
