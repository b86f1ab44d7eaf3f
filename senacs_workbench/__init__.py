"""senacs-workbench: analysis workbench for the SENACS survey of French social centres."""

__version__ = "0.1.0"
