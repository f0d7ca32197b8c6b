#!/usr/bin/env bash
# Install the Debian tools oreline's tests use as outside parties: mbpoll (Modbus client),
# chromium (control-room browser tests), aravis-tools (fake GigE Vision camera), poppler-utils (pdftoppm: the
# report's PDF rendered to PNG in its tests), Pango/HarfBuzz + fonts (WeasyPrint prints the report's PDF with them),
# postgresql (a real PostgreSQL server the catalogue tests start on loopback, tests/catalogue), openssl (the control
# room's TLS test makes a self-signed certificate).
# Never fails the build: where a tool cannot be installed, the tests that need it skip with a message.
set -u
# gir1.2-aravis-0.8 + libgirepository1.0-dev + libcairo2-dev let pip build PyGObject for the Aravis backend.
wanted=(mbpoll chromium postgresql aravis-tools poppler-utils openssl gir1.2-aravis-0.8 libgirepository1.0-dev libcairo2-dev pkg-config
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk)
missing=()
command -v mbpoll >/dev/null 2>&1 || missing+=(mbpoll)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v arv-fake-gv-camera-0.8 >/dev/null 2>&1 || missing+=(aravis-tools)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
for pkg in gir1.2-aravis-0.8 libgirepository1.0-dev libcairo2-dev pkg-config libpango-1.0-0 libpangoft2-1.0-0 \
           libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system deps: ${wanted[*]} present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system deps: apt-get not available; missing ${missing[*]} (dependent tests will skip)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "system deps: not root and no sudo; missing ${missing[*]} (dependent tests will skip)"; exit 0; fi
fi
echo "system deps: installing ${missing[*]}"
$SUDO apt-get update -qq >/dev/null 2>&1 || echo "system deps: apt-get update failed"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || echo "system deps: could not install ${missing[*]} (dependent tests will skip)"
exit 0
