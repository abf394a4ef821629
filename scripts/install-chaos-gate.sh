#!/usr/bin/env bash
# Installs the chaos-gate release binary for this machine, after checking
# its SHA-256 against the release's SHA256SUMS, and prints the binary's path.
#
#   bash scripts/install-chaos-gate.sh VERSION [DIR]
#
# VERSION  the exact release, e.g. 0.1.0 or v0.1.0 (no "latest": an exact
#          version is what makes a pinned pipeline reproducible).
# DIR      where to put it; default: $RUNNER_TOOL_CACHE/chaos-gate/VERSION/
#          on a GitHub runner, else ~/.local/share/chaos-gate/VERSION/.
#          An existing binary there that reports VERSION is reused.
#
# Environment:
#   CHAOSGATE_RELEASES_URL  base URL of the releases (a mirror); the files
#                            are fetched from $CHAOSGATE_RELEASES_URL/vVERSION/
#                            (default https://github.com/chaos-gate/chaos-gate/releases/download)
#
# Assets: chaos-gate-<os>-<arch>[.exe] with os linux, darwin or windows and
# arch amd64 or arm64 (Linux binaries are static musl), and SHA256SUMS, as
# .github/workflows/release.yml publishes them. SHA256SUMS is signed with
# cosign (SHA256SUMS.sigstore.json) and every binary has a build provenance
# attestation; see README "Install" to verify those too.
#
# Used by the GitHub action (action.yml); runs with bash on Linux, macOS and
# Windows (Git Bash, as on GitHub's Windows runners). Needs curl, and
# sha256sum or shasum.
set -euo pipefail

die() {
  echo "install-chaos-gate: $*" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || die "usage: install-chaos-gate.sh VERSION [DIR]"
version="${1#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  die "VERSION must be an exact release such as 0.1.0, got '$1'"

# The runner's names when there is a runner, uname otherwise.
os_name="${RUNNER_OS:-$(uname -s)}"
arch_name="${RUNNER_ARCH:-$(uname -m)}"
case "$os_name" in
  Linux | linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) die "no chaos-gate release binary for the OS '$os_name'" ;;
esac
case "$arch_name" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | aarch64 | arm64) arch=arm64 ;;
  *) die "no chaos-gate release binary for the architecture '$arch_name'" ;;
esac
ext=""
if [[ "$os" == windows ]]; then
  ext=".exe"
  [[ "$arch" == amd64 ]] || die "only windows-amd64 is released (the runner is windows-$arch)"
fi
asset="chaos-gate-$os-$arch$ext"

if [[ $# -eq 2 ]]; then
  dir="$2"
elif [[ -n "${RUNNER_TOOL_CACHE:-}" ]]; then
  dir="$RUNNER_TOOL_CACHE/chaos-gate/$version/$os-$arch"
else
  dir="${XDG_DATA_HOME:-$HOME/.local/share}/chaos-gate/$version"
fi
bin="$dir/chaos-gate$ext"

reports_version() {
  local out
  out="$("$1" --version 2>/dev/null)" || return 1
  [[ "${out//$'\r'/}" == "chaos-gate $version" ]]
}

if [[ -x "$bin" ]] && reports_version "$bin"; then
  echo "install-chaos-gate: using $bin (chaos-gate $version, already installed)" >&2
  printf '%s\n' "$bin"
  exit 0
fi

base="${CHAOSGATE_RELEASES_URL:-https://github.com/chaos-gate/chaos-gate/releases/download}"
base="${base%/}/v$version"
tmp="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/chaos-gate.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

fetch() {
  # --fail: an error page is never saved as the binary.
  curl --fail --silent --show-error --location --retry 3 --retry-delay 2 \
    --connect-timeout 20 --max-time 300 -o "$tmp/$1" "$base/$1" ||
    die "could not download $base/$1"
}
echo "install-chaos-gate: downloading $asset from $base" >&2
fetch SHA256SUMS
fetch "$asset"

# The line for this asset only; sha256sum lines are "<hex>  <name>" (or
# "<hex> *<name>" in binary mode).
want="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")"
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "SHA256SUMS of v$version has no entry for $asset"
if command -v sha256sum >/dev/null 2>&1; then
  got="$(sha256sum "$tmp/$asset" | awk '{ print $1 }')"
elif command -v shasum >/dev/null 2>&1; then
  got="$(shasum -a 256 "$tmp/$asset" | awk '{ print $1 }')"
else
  die "neither sha256sum nor shasum is installed"
fi
got="${got#\\}"
[[ "$got" == "$want" ]] || die "checksum mismatch for $asset: expected $want, got $got"
echo "install-chaos-gate: sha256 $got OK" >&2

mkdir -p "$dir"
chmod 0755 "$tmp/$asset"
mv -f "$tmp/$asset" "$bin"
reports_version "$bin" || die "$bin does not report version $version"
printf '%s\n' "$bin"
