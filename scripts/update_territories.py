"""Regenerate the packaged French territory files from ``@etalab/decoupage-administratif``.

Usage::

    python scripts/update_territories.py [--version 6.0.0]

The npm package (MIT licence, official geographic code) is fetched with ``npm pack`` into a
temporary folder; nothing is installed. The script writes, under
``senacs_workbench/data/territories/``:

- ``regions.csv``: the 18 régions (metropolitan + DROM), ``code;nom``;
- ``departements.csv``: the 101 départements, ``code;nom;region``;
- ``communes.csv``: current communes of those départements and the municipal arrondissements of Paris,
  Lyon and Marseille, ``code;nom;departement;region;epci;population;parent`` (``parent``: the commune of
  an arrondissement, empty for a commune);
- ``epci.csv``: ``code;nom;type;population``;
- ``epci_departements.csv``: ``epci;departement;communes;population`` — one row per
  département an EPCI's member communes lie in (an EPCI straddling two départements has two rows);
- ``SOURCE.txt``: package name, version and licence.

Codes are kept as strings ("01", "2A", "971").
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
OUT = Path(__file__).resolve().parent.parent / "senacs_workbench" / "data" / "territories"
KEPT_ZONES = {"metro", "drom"}


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="6.0.0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{args.version}", "--silent"], cwd=tmp, check=True
        )
        archive = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        data = Path(tmp) / "package" / "data"
        regions = [r for r in json.loads((data / "regions.json").read_text()) if r["zone"] in KEPT_ZONES]
        departements = [
            d for d in json.loads((data / "departements.json").read_text()) if d["zone"] in KEPT_ZONES
        ]
        kept_deps = {d["code"] for d in departements}
        all_communes = json.loads((data / "communes.json").read_text())
        communes = [
            c for c in all_communes if c["type"] == "commune-actuelle" and c.get("departement") in kept_deps
        ]
        # Paris, Lyon and Marseille's municipal arrondissements: exports may name them instead of the commune.
        arrondissements = [
            c for c in all_communes if c["type"] == "arrondissement-municipal" and c.get("departement") in kept_deps
        ]
        epcis = json.loads((data / "epci.json").read_text())

    commune_by_code = {c["code"]: c for c in communes}
    epci_of_commune: dict[str, str] = {}
    epci_rows: list[list[object]] = []
    straddle: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for epci in epcis:
        members = [m for m in epci["membres"] if m["code"] in commune_by_code]
        if not members:
            continue
        epci_rows.append([epci["code"], epci["nom"], epci["type"], epci.get("populationMunicipale", "")])
        for member in members:
            epci_of_commune[member["code"]] = epci["code"]
            cell = straddle[(epci["code"], commune_by_code[member["code"]]["departement"])]
            cell[0] += 1
            cell[1] += int(commune_by_code[member["code"]].get("population") or 0)

    for arrondissement in arrondissements:
        epci_of_commune[arrondissement["code"]] = epci_of_commune.get(arrondissement["commune"], "")

    OUT.mkdir(parents=True, exist_ok=True)
    _write(OUT / "regions.csv", ["code", "nom"], [[r["code"], r["nom"]] for r in regions])
    _write(
        OUT / "departements.csv",
        ["code", "nom", "region"],
        [[d["code"], d["nom"], d["region"]] for d in departements],
    )
    _write(
        OUT / "communes.csv",
        ["code", "nom", "departement", "region", "epci", "population", "parent"],
        [
            [c["code"], c["nom"], c["departement"], c["region"], epci_of_commune.get(c["code"], ""),
             c.get("population") or 0, c.get("commune", "")]
            for c in [*communes, *arrondissements]
        ],
    )
    _write(OUT / "epci.csv", ["code", "nom", "type", "population"], sorted(epci_rows))
    _write(
        OUT / "epci_departements.csv",
        ["epci", "departement", "communes", "population"],
        [[e, d, n, p] for (e, d), (n, p) in sorted(straddle.items())],
    )
    (OUT / "SOURCE.txt").write_text(
        f"Source: npm package {PACKAGE} version {args.version} (MIT licence), "
        "official geographic code. Regenerate with scripts/update_territories.py.\n",
        encoding="utf-8",
    )
    print(f"{len(regions)} régions, {len(departements)} départements, {len(communes)} communes, "
          f"{len(epci_rows)} EPCI written to {OUT}")


if __name__ == "__main__":
    main()
