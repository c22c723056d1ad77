#!/bin/sh
# Post-processes the pages swift-argument-parser's generate-manual writes into DIR, in place:
#   - names them the git/zfs way: snapdex.source.add.1 becomes snapdex-source-add.1 (file
#     name, .Dt title and every .Xr reference);
#   - turns the discussion's blank lines into .Pp (mdoc warns "Empty input line" on each) and
#     its indented example lines into a literal display, so they keep their line breaks;
#   - gives every page a description: when the discussion starts with its examples or exit
#     status, or has none, the one-line abstract (.Nd) opens DESCRIPTION.
# `make man` runs it; the staleness test in Tests/SnapdexCLITests/PackagingTests.swift runs it
# too, so the checked-in pages are exactly what generator plus this script produce.
set -eu
dir=${1:?usage: fix-man-pages.sh DIR}
for page in "$dir"/snapdex.*.1; do
  [ -e "$page" ] || continue
  base=$(basename "$page" .1)
  new="$dir/$(printf '%s' "$base" | tr . -).1"
  mv "$page" "$new"
done
for page in "$dir"/snapdex.1 "$dir"/snapdex-*.1; do
  [ -e "$page" ] || continue
  awk '
    function flushExample() { if (inExample) { print ".Ed"; inExample = 0 } }
    /^\.Dt / { gsub(/\./, "-", $2); print; next }
    /^\.Xr snapdex\./ { gsub(/\./, "-", $2); print; next }
    /^\.Nd / { abstract = substr($0, 5); gsub(/^"|"$/, "", abstract); print; next }
    /^\.Sh DESCRIPTION/ { print; inDescription = 1; first = 1; next }
    inDescription && /^\./ { flushExample(); if (first) print abstract; inDescription = 0 }
    inDescription {
      if (first && $0 != "") {
        if ($0 ~ /^(Examples:|EXIT STATUS:)/) { print abstract; print ".Pp" }
        first = 0
      }
      if ($0 == "") { flushExample(); if (!first) print ".Pp"; next }
      if ($0 ~ /^  /) {
        if (!inExample) { print ".Bd -literal -offset indent"; inExample = 1 }
        print substr($0, 3)
        next
      }
      flushExample()
      print
      next
    }
    { print }
  ' "$page" > "$page.tmp"
  mv "$page.tmp" "$page"
done
