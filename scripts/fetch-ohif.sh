#!/usr/bin/env bash
# Unpacks the built OHIF viewer (the dist/ folder of the @ohif/app npm package) into
# vendor/ohif/<version>/dist for the real-viewer tests (test/viewer-*.test.ts).
# Why not a devDependency: @ohif/app declares its monorepo siblings (@ohif/i18n, @ohif/ui, ...) as
# dependencies, and a registry mirror that lacks one of them makes `npm install` of the whole project
# fail; the tests only need the self-contained dist/. `npm pack` fetches the tarball through the
# ordinary npm client; the sha512 below is the registry's dist.integrity for this version, checked
# again here so a changed tarball is never served to the tests.
set -euo pipefail
VERSION=3.13.2
INTEGRITY=WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/vendor/ohif/$VERSION"
if [ -f "$out/dist/index.html" ] && [ -f "$out/INTEGRITY" ] && [ "$(cat "$out/INTEGRITY")" = "$INTEGRITY" ]; then
  echo "ohif: $out/dist is present"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "@ohif/app@$VERSION" --silent >/dev/null)
got="$(openssl dgst -sha512 -binary "$work/ohif-app-$VERSION.tgz" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "ohif: @ohif/app@$VERSION tarball has sha512-$got, expected sha512-$INTEGRITY" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
tar xzf "$work/ohif-app-$VERSION.tgz" -C "$out" --strip-components=1 package/dist package/LICENSE
echo "$INTEGRITY" > "$out/INTEGRITY"
echo "ohif: unpacked @ohif/app@$VERSION into $out/dist"
