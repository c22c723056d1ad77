import Foundation
import Testing
@testable import SnapdexCore

@Suite struct FormatTests {
    @Test func directoriesSortInPostOrderComponentWise() {
        let dirs = ["", "a", "a/b", "a-c", "a/b/c", "b", "a/b-d", "ab"].map { Array($0.utf8) }
        let sorted = dirs.sorted { CatalogOrder.compareDirectories($0, $1) < 0 }.map { String(decoding: $0, as: UTF8.self) }
        #expect(sorted == ["a/b/c", "a/b", "a/b-d", "a", "a-c", "ab", "b", ""])
    }

    @Test func chunksRoundTripEveryField() throws {
        var e1 = FileEntry(name: Array("x\ny".utf8), type: .file, permissions: 0o4755, uid: 1000, gid: 100, size: 1 << 40,
                           mtime: FileTime(nanoseconds: -5), ctime: FileTime(nanoseconds: 1_700_000_000_123_456_789), inode: 99, nlink: 3)
        e1.hash = Digest.of([1, 2, 3])
        let e2 = FileEntry(name: [0xff, 0x00], type: .symlink, target: [0xfe, 0x2f], children: 0)
        let e3 = FileEntry(name: Array("dev".utf8), type: .charDevice, device: 0x0501)
        let e4 = FileEntry(name: Array("sub".utf8), type: .directory, mtime: FileTime(nanoseconds: 7), inode: 5, nlink: 2, children: 4, treeFiles: 10, treeBytes: 1234)
        let groups = [DirectoryGroup(path: Array("a/b".utf8), entries: [e1, e2]), DirectoryGroup(path: Array("a".utf8), entries: [e3, e4])]
        let parts = ChunkCodec.encode(groups)
        #expect(parts.count == 3)
        let back = try ChunkCodec.decode(names: parts[0], content: parts[1], state: parts[2])
        #expect(back.map(\.path) == groups.map(\.path))
        #expect(back.map(\.entries) == groups.map(\.entries))
        // Unknown type bytes are rejected.
        var bad = parts[0]
        if let i = bad.firstIndex(of: EntryType.file.rawValue) { bad[i] = 0x7f }
        #expect(throws: (any Error).self) { _ = try ChunkCodec.decode(names: bad, content: parts[1], state: parts[2]) }
    }

    @Test func manifestsRoundTripAndRejectDamage() throws {
        var m = Manifest(id: Array(repeating: 7, count: 16), source: "home", pointTime: Timestamp(seconds: 100),
                         indexedAt: Timestamp(seconds: 200), kind: .manual, snapshotPath: "/snap/x")
        m.label = "before upgrade"
        m.retainUntil = Timestamp(seconds: 300)
        m.policy = [.init(name: "keep-days", value: 14)]
        m.counts.entries = 5
        m.chunks = [ChunkRef(firstDir: Array("a".utf8), firstName: Array("b".utf8), entries: 5,
                             parts: [PartRef(block: BlockRef(hash: Digest.of([0]), rawSize: 10, storedSize: 20)), PartRef(block: BlockRef(hash: Digest.of([1]), rawSize: 10, storedSize: 20), base: BlockRef(hash: Digest.of([3]), rawSize: 5, storedSize: 6), whole: Digest.of([4])), PartRef(block: BlockRef(hash: Digest.of([2]), rawSize: 10, storedSize: 20))])]
        m.identity = SnapshotIdentity(device: 66307, inode: 1 << 40, samples: [
            .init(name: [0x61, 0xff, 0x0a], inode: 12, mtime: -5), .init(name: Array("localhost".utf8), inode: 13, mtime: 1 << 61)])
        m.snapshotPath = PathString.string(Array("/snap/x".utf8) + [0xff, 0x0a])
        let bytes = m.encode()
        #expect(try Manifest.decode(bytes, path: "m") == m)
        // The snapshot path is stored as its bytes, not as the scalars standing for them.
        #expect(bytes.firstRange(of: Array("/snap/x".utf8) + [0xff, 0x0a]) != nil)
        var flipped = bytes
        flipped[20] ^= 1
        #expect(throws: SnapdexError.self) { _ = try Manifest.decode(flipped, path: "m") }
        // A manifest that needs a newer reader is refused with its own error.
        var newer = Array(bytes[0..<(bytes.count - 32)])
        newer[10] = 9
        newer += Digest.of(newer).bytes
        #expect(throws: SnapdexError.catalogNewerFormat(path: "m", found: 9, supported: Int(FormatConstants.catalogMaxReadVersion))) { _ = try Manifest.decode(newer, path: "m") }
    }

    @Test func snapshotNamesGiveTimes() {
        let utc = { (s: String) in TimeParser.parse(s) }
        #expect(TimeParser.fromSnapshotName("2026-11-21T03:00:00Z") == utc("2026-11-21T03:00:00Z"))
        #expect(TimeParser.fromSnapshotName("@GMT-2026.11.21-03.00.00") == utc("2026-11-21T03:00:00Z"))
        #expect(TimeParser.fromSnapshotName("zfs-auto-snap_daily-2026-11-21-0300") == utc("2026-11-21 03:00"))
        #expect(TimeParser.fromSnapshotName("2026-11-21_03-00-00") == utc("2026-11-21T03:00:00"))
        #expect(TimeParser.fromSnapshotName("2026-11-21") == utc("2026-11-21"))
        #expect(TimeParser.fromSnapshotName("daily.0") == nil)
        #expect(TimeParser.parse("2026-11-21T03:00:00.5+01:00") == Timestamp(nanoseconds: utc("2026-11-21T02:00:00Z")!.nanoseconds + 500_000_000))
        #expect(TimeParser.parse("2026-13-01") == nil)
        #expect(TimeParser.parse("yesterday") == nil)
        #expect(Timestamp(nanoseconds: 1_700_000_000_000_000_001).rfc3339(fraction: true) == "2023-11-14T22:13:20.000000001Z")
    }

    @Test func pathsNormalize() {
        #expect(PathBytes.normalize("/alice//docs/") == Array("alice/docs".utf8))
        #expect(PathBytes.normalize("/") == [])
        #expect(PathBytes.normalize("/a/../b") == Array("b".utf8))
        #expect(PathBytes.normalize("/../etc") == nil)
    }
}

@Suite struct LZMATests {
    @Test func storedStreamsAreXZThatAnyReaderReads() throws {
        var rng = SplitMix(seed: 7)
        let random = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let stored = try LZMA.store(random)
        #expect(stored.count < random.count + 200)
        #expect(try LZMA.decompress(stored[...], size: random.count) == random)
        // The real xz tool reads it too.
        let tmp = TempDir()
        let file = tmp.sub("part.xz")
        try Data(stored).write(to: URL(fileURLWithPath: file))
        let xz = Process()
        xz.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        xz.arguments = ["-dc", file]
        let pipe = Pipe()
        xz.standardOutput = pipe
        try xz.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        xz.waitUntilExit()
        #expect(xz.terminationStatus == 0)
        #expect(Array(out) == random)
        #expect(try LZMA.decompress(try LZMA.store([])[...], size: 0) == [])
    }

    /// A stream of compressed and stored blocks: random bytes kept as they are between runs
    /// that still shrink, readable by `decompress` and by the xz tool.
    @Test func streamsWithStoredRangesAreXZThatAnyReaderReads() throws {
        var rng = SplitMix(seed: 11)
        let random = (0..<50_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let zeros = [UInt8](repeating: 0, count: 40_000)
        let input = zeros + random + zeros + random
        let plain = [40_000..<90_000, 130_000..<180_000]
        let mixed = try LZMA.compress(input, preset: 1, storing: plain)
        #expect(mixed.count > 100_000 && mixed.count < 100_000 + 500)
        #expect(try LZMA.decompress(mixed[...], size: input.count) == input)
        #expect(try LZMA.compress(input, preset: 1, storing: []) == LZMA.compress(input, preset: 1))
        #expect(try LZMA.compress(random, preset: 1, storing: [0..<random.count]) == LZMA.store(random))
        let tmp = TempDir()
        let file = tmp.sub("mixed.xz")
        try Data(mixed).write(to: URL(fileURLWithPath: file))
        let xz = Process()
        xz.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        xz.arguments = ["-dc", file]
        let pipe = Pipe()
        xz.standardOutput = pipe
        try xz.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        xz.waitUntilExit()
        #expect(xz.terminationStatus == 0)
        #expect(Array(out) == input)
        // Ranges out of order or past the end are refused, never a trap.
        #expect(throws: LZMA.Failure.self) { try LZMA.compress(input, preset: 1, storing: [10..<20, 5..<8]) }
        #expect(throws: LZMA.Failure.self) { try LZMA.compress(input, preset: 1, storing: [0..<(input.count + 1)]) }
    }

    /// Columns of random sizes and nanosecond mtimes are stored; a column of repeated
    /// values (hash kinds, package-manager mtimes) is compressed.
    @Test func randomColumnsAreStoredAndRepetitiveOnesCompressed() {
        var rng = SplitMix(seed: 5)
        func group(randomTimes: Bool) -> DirectoryGroup {
            DirectoryGroup(path: Array("d".utf8), entries: (0..<8_000).map { i in
                FileEntry(name: Array(String(format: "f%06d", i).utf8), type: .file,
                          size: randomTimes ? rng.next() % 1_000_000 : 4096,
                          mtime: FileTime(nanoseconds: 1_600_000_000_000_000_000 + Int64(randomTimes ? rng.next() % 1_000_000_000_000_000 : 0)))
            })
        }
        let random = ChunkCodec.encode([group(randomTimes: true)])
        let ranges = IncompressibleColumns.ranges(in: random[Int(PartKind.content.rawValue)])
        // Sizes and mtimes: one stored run (the length prefix between them joined in).
        #expect(ranges.count == 1)
        #expect(ranges.reduce(0) { $0 + $1.count } > 8_000 * 8)
        #expect(IncompressibleColumns.ranges(in: random[Int(PartKind.names.rawValue)]).isEmpty)
        let calm = ChunkCodec.encode([group(randomTimes: false)])
        for part in calm { #expect(IncompressibleColumns.ranges(in: part).isEmpty) }
        #expect(IncompressibleColumns.ranges(in: []).isEmpty)
        #expect(IncompressibleColumns.ranges(in: [9, 1, 2]).isEmpty)
    }
}
