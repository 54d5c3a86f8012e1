#!/usr/bin/env bash
# Build (or reuse) the Asterisk that Hotline's real-PBX tests and benchmark run against.
#
# Prints the install prefix on the last line of standard output.
#
# Where the Asterisk comes from, first match wins:
#   ASTERISK_PREFIX=<dir>           an Asterisk already installed there (sbin/asterisk)
#   ASTERISK_TARBALL=<file>         an upstream asterisk-22.x release tarball; its bundled
#                                   pjproject is taken from PJPROJECT_TARBALL (or beside it)
#   HOTLINE_ASTERISK_SOURCES=<dir>  a folder holding asterisk-<ver>.tar.xz,
#                                   pjproject-<ver>.tar.bz2 and its .md5 (default: the
#                                   folder ../shared/asterisk beside the repository root)
# The build goes to HOTLINE_PBX_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/hotline),
# into asterisk-<sha256 prefix of the sources>, and is reused while the sources are unchanged.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/../.." && pwd)
log() { echo "pbx-build: $*" >&2; }
die() { echo "pbx-build: error: $*" >&2; exit 1; }

if [ -n "${ASTERISK_PREFIX:-}" ]; then
  [ -x "$ASTERISK_PREFIX/sbin/asterisk" ] || \
    die "ASTERISK_PREFIX=$ASTERISK_PREFIX has no sbin/asterisk; point it at an installed Asterisk prefix"
  echo "$ASTERISK_PREFIX"
  exit 0
fi

ast_tar=""; pj_tar=""; pj_md5=""
if [ -n "${ASTERISK_TARBALL:-}" ]; then
  [ -f "$ASTERISK_TARBALL" ] || die "ASTERISK_TARBALL=$ASTERISK_TARBALL does not exist"
  ast_tar=$ASTERISK_TARBALL
  pj_tar=${PJPROJECT_TARBALL:-}
  if [ -z "$pj_tar" ]; then
    pj_tar=$(ls "$(dirname "$ast_tar")"/pjproject-*.tar.bz2 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [ -n "$pj_tar" ] && [ -f "$pj_tar" ] || \
    die "no pjproject tarball: set PJPROJECT_TARBALL to the pjproject-<ver>.tar.bz2 this Asterisk bundles (see third-party/versions.mak)"
  [ -f "$pj_tar.md5" ] && pj_md5="$pj_tar.md5"
else
  src=${HOTLINE_ASTERISK_SOURCES:-}
  if [ -z "$src" ]; then
    for cand in "$repo_root/../shared/asterisk" "$repo_root/../../shared/asterisk"; do
      if [ -d "$cand" ]; then src=$(cd "$cand" && pwd); break; fi
    done
  fi
  if [ -z "$src" ] || [ ! -d "$src" ]; then
    # No sources here, but an Asterisk this script built before (from the shared sources, in
    # the cache outside any work tree) is still the same build: reuse the newest one.
    cache=${HOTLINE_PBX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotline}
    built=$(ls -t "$cache"/asterisk-*/.hotline-built 2>/dev/null | head -n 1 || true)
    if [ -n "$built" ] && [ -x "$(dirname "$built")/sbin/asterisk" ]; then
      log "no sources found; reusing $(dirname "$built"), built $(cat "$built")"
      dirname "$built"
      exit 0
    fi
  fi
  [ -n "$src" ] && [ -d "$src" ] || die "no Asterisk found. Provide one of:
  ASTERISK_PREFIX=<installed Asterisk 22 prefix>,
  ASTERISK_TARBALL=<asterisk-22.x.tar.gz|xz> (with PJPROJECT_TARBALL=<pjproject-2.x.tar.bz2>), or
  HOTLINE_ASTERISK_SOURCES=<folder with asterisk-*.tar.xz and pjproject-*.tar.bz2>
  (looked for ../shared/asterisk beside the repository root, and for an earlier build in
  ${HOTLINE_PBX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotline})"
  ast_tar=$(ls "$src"/asterisk-*.tar.* 2>/dev/null | sort -V | tail -n 1 || true)
  pj_tar=$(ls "$src"/pjproject-*.tar.bz2 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$ast_tar" ] || die "HOTLINE_ASTERISK_SOURCES=$src holds no asterisk-*.tar.* archive"
  [ -n "$pj_tar" ] || die "HOTLINE_ASTERISK_SOURCES=$src holds no pjproject-*.tar.bz2 archive"
  [ -f "$pj_tar.md5" ] && pj_md5="$pj_tar.md5"
fi

# Debian build dependencies, installed only when something is missing.
deps=(build-essential pkg-config libedit-dev libjansson-dev libxml2-dev uuid-dev
      libsqlite3-dev libssl-dev bzip2 patch file python3-dev)
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing build dependencies: ${missing[*]}"
  command -v apt-get >/dev/null || die "missing build dependencies ${missing[*]} and no apt-get"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q >&2
  $sudo_cmd apt-get install -y -q "${missing[@]}" >&2
fi

sum=$(cat "$ast_tar" "$pj_tar" ${pj_md5:+"$pj_md5"} | sha256sum | cut -c1-16)
cache=${HOTLINE_PBX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotline}
prefix="$cache/asterisk-$sum"
if [ -x "$prefix/sbin/asterisk" ] && [ -f "$prefix/.hotline-built" ]; then
  log "reusing $prefix"
  echo "$prefix"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.build-$sum.lock"
flock 9
if [ -x "$prefix/sbin/asterisk" ] && [ -f "$prefix/.hotline-built" ]; then
  log "reusing $prefix (built meanwhile)"
  echo "$prefix"
  exit 0
fi

work="$cache/build-$sum"
rm -rf "$work" "$prefix"
mkdir -p "$work/externals"
cp "$pj_tar" "$work/externals/"
log "building $(basename "$ast_tar") into $prefix (about 10 minutes; log in $work/build.log)"
tar -xf "$ast_tar" -C "$work"
srcdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'asterisk-*' | head -n 1)
[ -n "$srcdir" ] || die "$ast_tar did not unpack to an asterisk-* folder"
pj_name=$(basename "$pj_tar")
if [ -n "$pj_md5" ]; then
  cp "$pj_md5" "$srcdir/third-party/pjproject/$pj_name.md5"
fi
jobs=${HOTLINE_PBX_JOBS:-$(nproc 2>/dev/null || echo 2)}
(
  cd "$srcdir"
  ./configure --prefix="$prefix" --with-pjproject-bundled --without-libjwt-bundled \
    EXTERNALS_CACHE_DIR="$work/externals"
  make menuselect.makeopts
  menuselect/menuselect --disable BUILD_NATIVE --disable-category MENUSELECT_TESTS \
    --disable CORE-SOUNDS-EN-GSM --disable MOH-OPSOUND-WAV \
    --disable-category MENUSELECT_EXTRA_SOUNDS menuselect.makeopts
  make -j"$jobs"
  make install
) >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; die "build failed; see $work/build.log"; }
date -u +%FT%TZ >"$prefix/.hotline-built"
rm -rf "$srcdir"
log "built $prefix"
echo "$prefix"
