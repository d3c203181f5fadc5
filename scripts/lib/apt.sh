# Shared helper for the install scripts (sourced, not executed).
# apt_install_missing FILE: installs the Debian packages listed in FILE that are
# not installed yet. Line format: "package [command]" — when a command is given
# and already on PATH (e.g. a JDK or Node from another source), the package is
# skipped. '#' starts a comment. Runs apt-get update only if something is missing,
# and prints nothing when everything is present.

apt_install_missing() {
  local file="$1" missing=() line pkg cmd status
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    read -r pkg cmd _ <<<"$line" || true
    [[ -z "${pkg:-}" ]] && continue
    if [[ -n "${cmd:-}" ]] && command -v "$cmd" >/dev/null 2>&1; then
      continue
    fi
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done <"$file"
  ((${#missing[@]} == 0)) && return 0

  echo "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  local log
  log="$(mktemp)"
  if ! "${sudo[@]}" apt-get update -q >"$log" 2>&1 ||
     ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "apt-get failed" >&2
    return 1
  fi
  rm -f "$log"
}
