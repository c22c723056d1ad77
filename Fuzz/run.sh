#!/bin/sh
# Builds the catalog decoders with libFuzzer (swiftc -sanitize=fuzzer) and runs them for
# SECONDS (default 25) over the committed seed corpus. New inputs go to .build/fuzz/corpus,
# never into Fuzz/corpus; a crash leaves its input in .build/fuzz and fails the run.
#
#   Fuzz/run.sh [SECONDS]
#   Fuzz/run.sh seeds     (re)writes the seed corpus Fuzz/corpus from Fuzz/Seeds
set -eu
cd "$(dirname "$0")/.."
out=.build/fuzz
mkdir -p "$out/corpus"
core=Sources/SnapdexCore
# The decoders and what they use, compiled on their own; Crypto is a stand-in module with
# the one SHA-256 call they make (Fuzz/Crypto).
decoders="$core/Support/ByteBuffer.swift $core/Support/Hex.swift $core/Support/Timestamp.swift
  $core/Support/SnapdexError.swift $core/Support/Errno.swift $core/Support/Version.swift
  $core/Catalog/ChunkCodec.swift $core/Catalog/NamesScan.swift $core/Catalog/PartDelta.swift $core/Catalog/Manifest.swift $core/Catalog/FormatConstants.swift
  $core/Catalog/CatalogCheck.swift $core/Catalog/CatalogOrder.swift $core/Catalog/CatalogReader.swift $core/Walk/FileEntry.swift
  $core/Walk/PathBytes.swift $core/Walk/SnapshotName.swift $core/Support/TimeDisplay.swift
  $core/Restore/RestorePlan.swift $core/Walk/SnapshotIdentity.swift $core/Walk/UnreadablePath.swift
  $core/Support/PathString.swift $core/Walk/SystemCalls.swift $core/Walk/FileTime.swift
  $core/Catalog/TimeExceptions.swift $core/ObjectStorage/ObjectStorageError.swift
  $core/Support/IrregularFileRemedy.swift"
swiftc -parse-as-library -O -module-name Crypto -emit-module -emit-module-path "$out/Crypto.swiftmodule" \
  -emit-library -static -o "$out/libCrypto.a" Fuzz/Crypto/SHA256.swift
if [ "${1:-}" = seeds ]; then
  swiftc -module-name Seeds -I "$out" -L "$out" -lCrypto -o "$out/seeds" Fuzz/Seeds/main.swift $decoders
  "$out/seeds" Fuzz/corpus
  exit 0
fi
seconds=${1:-25}
swiftc -parse-as-library -sanitize=fuzzer -g -module-name FuzzDecoders -I "$out" -L "$out" -lCrypto \
  -o "$out/fuzz-decoders" Fuzz/FuzzDecoders.swift $decoders
cd "$out"
./fuzz-decoders -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 corpus ../../Fuzz/corpus
