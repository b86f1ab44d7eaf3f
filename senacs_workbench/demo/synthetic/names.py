"""Plausible, unique French names for the synthetic structures ("Centre social Les Tilleuls",
"EVS de Mende"…), with the usual elisions ("d'Albi", "du Mans")."""

from __future__ import annotations

import numpy as np

NAME_PREFIXES = {
    "CS": (
        "Centre social",
        "Centre social",
        "Centre social",
        "Centre socioculturel",
        "Maison des habitants",
        "Maison de quartier",
        "Centre social et culturel",
        "Espace social et culturel",
    ),
    "EVS": (
        "EVS",
        "EVS",
        "Espace de vie sociale",
        "Espace de vie sociale",
        "Foyer rural",
        "Maison des familles",
        "Café associatif",
    ),
}
NAME_CORES = (
    "Les Tilleuls", "La Passerelle", "Le Lien", "L'Escale", "Les Acacias", "Jean Moulin", "Victor Hugo",
    "La Source", "Le Trait d'Union", "Les Bruyères", "Le Colombier", "La Maison Bleue", "L'Arche",
    "Le Kiosque", "La Ruche", "Les Amandiers", "Le Carrefour", "L'Agora", "La Clé des Champs",
    "Les Marronniers", "Le Phare", "La Fontaine", "Les Peupliers", "Saint-Exupéry", "Louise Michel",
    "Jacques Prévert", "Simone Veil", "Nelson Mandela", "Le Pont", "La Boussole", "L'Envol", "Les Lilas",
    "L'Horizon", "Le Moulin", "Les Cèdres", "Les Glycines", "Le Relais", "La Farandole", "Aragon",
    "Les Quatre Saisons", "Le Grand Ensemble", "La Roseraie", "Les Coquelicots", "L'Étincelle",
    "Le Chemin Vert", "La Bulle", "Les Hirondelles", "Pablo Picasso", "Jules Ferry", "Albert Camus",
    "La Main Tendue", "L'Oasis", "Le Tremplin", "Les Sources", "La Clairière", "Le Point du Jour",
    "Les Jardins", "Le Vieux Moulin", "La Belle Étoile", "Arc-en-Ciel",
)


def _of(commune: str) -> str:
    """French "de" + place name, with the usual elisions and contractions."""
    if commune.startswith("Le "):
        return "du " + commune[3:]
    if commune.startswith("Les "):
        return "des " + commune[4:]
    if commune[:1].upper() in "AEIOUYÉÈÊÎÔH":
        return "d'" + commune
    return "de " + commune


def make_names(
    rng: np.random.Generator, kinds: np.ndarray, commune_names: np.ndarray, used: set[str]
) -> list[str]:
    n = len(kinds)
    pick_prefix = rng.random(n)
    pick_core = rng.integers(0, len(NAME_CORES), n)
    with_place = rng.random(n) < 0.4
    names: list[str] = []
    for i in range(n):
        prefixes = NAME_PREFIXES[kinds[i]]
        prefix = prefixes[int(pick_prefix[i] * len(prefixes))]
        name = f"{prefix} {_of(commune_names[i])}" if with_place[i] else f"{prefix} {NAME_CORES[pick_core[i]]}"
        if name in used:
            name = f"{prefix} {NAME_CORES[pick_core[i]]} ({commune_names[i]})"
        base, k = name, 2
        while name in used:
            name = f"{base} {k}"
            k += 1
        used.add(name)
        names.append(name)
    return names
