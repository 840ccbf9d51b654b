# Sourced by the install-*.sh scripts (not run on its own): which packages are missing, and
# apt-get with sudo only when not root.

# missing_packages PKG... → MISSING=(the ones dpkg does not list as installed)
missing_packages() {
  MISSING=()
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || MISSING+=("$pkg")
  done
}

# use_apt NAME → SUDO=(sudo or nothing), APT=(apt-get, non-interactive, waits for the lock)
use_apt() {
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      echo "$1: not root and sudo not found; cannot install: ${MISSING[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
}
