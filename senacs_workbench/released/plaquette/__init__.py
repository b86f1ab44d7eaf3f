"""The plaquette (communication leaflet, charter 3.1): one common template for every territory.

One concern per module:

- :mod:`.content` — what the leaflet says, assembled from released bundles through the
  published reader (each figure with its n; suppressed cells stay ``s``);
- :mod:`.charts` — static SVG charts (plotly + one kaleido server for all images);
- :mod:`.maps` — the map of départements, offline, from ``pygal_maps_fr``'s packaged SVG;
- :mod:`.render` — the Jinja2 template (A4 print stylesheet) → one self-contained HTML file;
- :mod:`.pdf` — HTML → PDF with headless chromium (Playwright), fonts embedded;
- :mod:`.build` — one plaquette or many, sharing one kaleido server and one browser.

The workspace side (audited builds, committee approval bound to the PDF's hash, publication,
states) is the publication package's ``plaquette`` module. Everything here reads the published
zone only (tests/test_published_isolation.py).
This ``__init__`` imports nothing, so that importing a committee-side module stays isolated.
"""
