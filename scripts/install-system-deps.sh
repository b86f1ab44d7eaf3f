#!/usr/bin/env bash
# Debian packages the workbench needs: chromium (Playwright browser tests, kaleido static charts,
# PDF rendering), poppler-utils (PDF checks), fonts. Installs only what is missing.
set -euo pipefail
packages=(chromium poppler-utils fonts-dejavu-core fonts-liberation2)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
