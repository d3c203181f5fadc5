#!/usr/bin/env bash
# check-deps.sh BUILD_DIR: fails when the build used a Debian package that
# scripts/deps-build.txt does not name. A machine that already had such a
# package (every developer machine, and so CI) builds fine, while a fresh
# machine, where `make build` installs only deps-build.txt before CMake
# configures, does not. This check catches that without a fresh machine.
#
# How: ninja's dependency log lists every header each object file included;
# dpkg -S names the package that owns each system header; every such package
# must be listed in deps-build.txt, except the compiler's own (libc, libstdc++
# and the kernel headers come with g++, which is listed). Libraries linked
# without a header are covered by CMake's REQUIRED checks.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:-build}"
[[ -f "$BUILD/build.ninja" ]] || { echo "check-deps: no $BUILD/build.ninja" >&2; exit 1; }

# Packages that come with the toolchain (g++ in deps-build.txt pulls them in).
toolchain='^(libc6-dev|libstdc\+\+-[0-9]+-dev|linux-libc-dev|libgcc-[0-9]+-dev|libcrypt-dev|gcc-[0-9]+|g\+\+-[0-9]+|libgomp1|libnsl-dev|libtirpc-dev)$'

listed="$(sed -e 's/#.*//' "$HERE/deps-build.txt" | awk 'NF {print $1}' | sort -u)"
headers="$(ninja -C "$BUILD" -t deps 2>/dev/null | awk '/^    \/usr\// {print $1}' | sort -u)"
[[ -n "$headers" ]] || { echo "check-deps: ninja recorded no system headers (build first)" >&2; exit 1; }

# dpkg -S answers "pkg[:arch][, pkg2]: path"; paths no package owns (none
# expected under /usr) are reported, not ignored.
owners="$(printf '%s\n' "$headers" | xargs -r dpkg -S 2>/dev/null | sed -e 's/: \/.*//' | tr ',' '\n' \
  | sed -e 's/^ *//' -e 's/:.*//' | sort -u)"
unowned="$(printf '%s\n' "$headers" | xargs -r dpkg -S 2>&1 >/dev/null | grep -o '/usr/[^ ]*' | sort -u || true)"

missing=()
while read -r pkg; do
  [[ -z "$pkg" ]] && continue
  [[ "$pkg" =~ $toolchain ]] && continue
  grep -qx -- "$pkg" <<<"$listed" || missing+=("$pkg")
done <<<"$owners"

status=0
if ((${#missing[@]})); then
  echo "check-deps: the build includes headers of Debian packages that scripts/deps-build.txt does not name: ${missing[*]}" >&2
  echo "check-deps: a fresh machine would not have them when CMake configures; add them to scripts/deps-build.txt" >&2
  status=1
fi
if [[ -n "$unowned" ]]; then
  echo "check-deps: system headers no Debian package owns (installed by hand?):" >&2
  printf '  %s\n' $unowned >&2
  status=1
fi
exit $status
