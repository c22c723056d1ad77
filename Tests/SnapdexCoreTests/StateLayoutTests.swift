import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// State parts of format 4 (docs/FORMAT.md, "Part 2: state"): a table of a chunk's few
/// distinct ctimes with an index per entry, and inodes of directories apart from the others'.
@Suite struct StateLayoutTests {
    static func entries(ticks: [Int64], count: Int, far: Bool = false) -> [DirectoryGroup] {
        var out: [FileEntry] = []
        for i in 0..<count {
            var e = FileEntry(name: Array(String(format: "n%05d", i).utf8), type: i % 9 == 0 ? .directory : .file)
            e.permissions = 0o644
            e.mtime = FileTime(nanoseconds: 1_700_000_000_000_000_000 + Int64(i) * 7_919_000_003)
            e.ctime = FileTime(nanoseconds: ticks[(i * 7 + i / 5) % ticks.count])
            if far && i == 3 { e.ctime = FileTime(seconds: 20_000_000_000, nanos: 5)! }
            e.inode = e.type == .directory ? UInt64(900_000 + i * 5) : UInt64(5_000 + i)
            e.nlink = 2
            out.append(e)
        }
        return [DirectoryGroup(path: Array("d".utf8), entries: out)]
    }

    static func layout(_ state: [UInt8]) throws -> UInt8 {
        var c = try ChunkCodec.columns(state, kind: .state, expected: nil).columns[0]
        return try c.byte()
    }

    @Test func aFewSharedCtimesAreATableAndDirectoriesInodesAreApart() throws {
        let ticks: [Int64] = [1_790_000_000_004_000_000, 1_790_000_000_000_000_000, 1_790_000_000_008_000_000]
        for far in [false, true] {
            let runs = Self.entries(ticks: ticks, count: 3_000, far: far)
            let parts = ChunkCodec.encode(runs)
            #expect(try Self.layout(parts[2]) == 2 | 4)
            #expect(ChunkCodec.stateNeedsFormat4(parts[2]))
            let back = try ChunkCodec.decode(names: parts[0], content: parts[1], state: parts[2])
            #expect(back.map(\.entries) == runs.map(\.entries))
        }
        // A tree written in one go keeps the format 3 layout (and its blocks).
        var plain = Self.entries(ticks: ticks, count: 100)
        for i in plain[0].entries.indices {
            plain[0].entries[i].ctime = plain[0].entries[i].mtime
            plain[0].entries[i].inode = UInt64(5_000 + i)
        }
        let parts = ChunkCodec.encode(plain)
        #expect(try Self.layout(parts[2]) == 0)
        #expect(!ChunkCodec.stateNeedsFormat4(parts[2]))
    }

    @Test func aDamagedTableIsDamageNeverATrap() throws {
        let runs = Self.entries(ticks: [1_000, 2_000], count: 50)
        let parts = ChunkCodec.encode(runs)
        let (count, cols) = try ChunkCodec.columns(parts[2], kind: .state, expected: nil)
        func state(_ ctimes: [UInt8]) -> [UInt8] {
            var w = ByteWriter()
            w.byte(PartKind.state.rawValue)
            w.varint(count)
            w.varint(cols.count)
            w.string(ctimes)
            for c in cols.dropFirst() { w.string(Array(c.bytes[c.offset..<c.end])) }
            return w.bytes
        }
        // A table of `first` and then `steps`, and `index` for every entry.
        func ctimes(_ first: [Int64], steps: [UInt64] = [], index: UInt64 = 0, layout: UInt8 = 2 | 4) -> [UInt8] {
            var w = ByteWriter()
            w.byte(layout)
            w.varint(first.count + steps.count)
            if let first = first.first { w.zigzag(first) }
            for s in steps { w.varint(s) }
            for _ in 0..<count { w.varint(index) }
            return w.bytes
        }
        #expect(throws: Never.self) { try ChunkCodec.decode(names: parts[0], content: parts[1], state: state(ctimes([1_000], steps: [1_000]))) }
        for bad in [ctimes([1_000], steps: [0]), ctimes([1_000], steps: [5], index: 2), ctimes([]), ctimes([1_000], steps: [5], layout: 3 | 4),
                    ctimes([1_000], steps: [5], layout: 8 | 2), ctimes([Int64.max - 1], steps: [5])] {
            #expect(throws: ChunkCodec.Damaged.self) { try ChunkCodec.decode(names: parts[0], content: parts[1], state: state(bad)) }
        }
    }

    /// A hard-link copy (`cp -al`) gives every entry one of a few new ctimes and every
    /// directory a new inode: its state parts take the format 4 layout, and its manifest says 4
    /// as its oldest reader.
    @Test func aHardLinkCopyIsIndexedWithTheNewLayoutAndReadsBack() throws {
        let tmp = TempDir()
        let repo = try tmp.makeRepository()
        let first = tmp.sub("day0"), copy = tmp.sub("day1")
        for d in 0..<30 { for f in 0..<200 { Tree.write(first + "/d\(d)/f\(f * 7_919 % 100_003)", "\(d) \(f)") } }
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-al", first, copy]
        try cp.run()
        cp.waitUntilExit()
        #expect(cp.terminationStatus == 0)
        var options = IndexOptions(source: "s", directory: copy)
        options.at = Timestamp(seconds: 1_000)
        _ = try Indexer(repository: repo).run(options)
        let point = try repo.resolve("s@latest")
        let m = try repo.manifest(of: point)
        #expect(m.chunks.count >= 2)
        let layouts = try m.chunks.map { try Self.layout(try repo.blocks.read($0.parts[2].block.hash)) }
        #expect(layouts.contains { $0 > 1 }, "\(layouts)")
        #expect(Array(try FileIO.readAll(repo.manifestPath(source: "s", id: point.id))[10..<12]) == [4, 0])
        #expect(try IndexerTests.catalogItems(repo, point) == ReferenceWalk.walk(copy))
        #expect(try repo.verify().isClean)
        // A rewrite of the manifest (a hold) keeps its oldest reader.
        try repo.keep(point, until: Timestamp.never)
        #expect(Array(try FileIO.readAll(repo.manifestPath(source: "s", id: point.id))[10..<12]) == [4, 0])
    }
}
