"""``senacs demo`` and its material: synthetic national data, the demo governance and territories.

Above every zone but ``apps``: product code never imports it.
"""
