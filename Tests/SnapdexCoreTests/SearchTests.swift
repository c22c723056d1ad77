import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// `find` scans names parts in place and prefilters globs by a literal; these check that it
/// gives exactly what a straightforward scan gives: every chunk decoded, every entry tested
/// with `FindQuery.matches`, in catalog order, point after point.
@Suite struct SearchTests {
    /// Three points of a tree spanning several chunks: the second changes some files in place
    /// (patched content, shared names), the third renames and adds some (new names blocks).
    static func chain(_ tmp: TempDir) throws -> Repository {
        let snap = tmp.sub("snap")
        let words = ["Budget", "report", "notes", "Kilo", "icon", "data", "a*b", "x[1]", "back\\slash", "MiXeD"]
        let exts = [".txt", ".xlsx", ".md", ".TXT", ""]
        for d in 0..<60 {
            let dir = snap + "/\(words[d % words.count])-dir\(d)" + (d % 3 == 0 ? "/Sub\(d)" : "")
            for f in 0..<200 {
                Tree.write(dir + "/\(words[(d + f) % words.count])_\(f)\(exts[f % exts.count])", "\(d) \(f)")
            }
        }
        // Names that are not UTF-8, and letters fnmatch's case folding maps from outside ASCII
        // in a UTF-8 locale (U+212A KELVIN SIGN to k, U+0130 to i).
        Tree.mkdir(snap + "/odd")
        Tree.write(dir: snap + "/odd", name: Array("caf".utf8) + [0xE9, 0x2E, 0x74, 0x78, 0x74], "latin-1")
        Tree.write(dir: snap + "/odd", name: [0x62, 0x61, 0x64, 0xFF, 0xFE], "bytes")
        Tree.write(snap + "/odd/\u{212A}ilo.txt", "kelvin")
        Tree.write(snap + "/odd/\u{130}con.md", "dotted I")
        Tree.write(dir: snap + "/odd", name: Array("new\nline.txt".utf8), "newline")
        symlink("report_1.txt", snap + "/odd/link.txt")
        mkfifo(snap + "/odd/fifo", 0o644)

        let repo = try tmp.makeRepository()
        var options = IndexOptions(source: "home", directory: snap)
        options.hash = true
        options.at = Timestamp(seconds: 1_700_000_000)
        _ = try Indexer(repository: repo).run(options)
        for f in stride(from: 0, to: 200, by: 37) {
            Tree.write(snap + "/report-dir1/\(words[(1 + f) % words.count])_\(f)\(exts[f % exts.count])", "changed \(f), longer")
        }
        options.at = Timestamp(seconds: 1_700_086_400)
        _ = try Indexer(repository: repo).run(options)
        for f in 0..<40 { Tree.write(snap + "/notes-dir2/added \(f).txt", "new") }
        rename(snap + "/icon-dir4", snap + "/Icon-renamed")
        options.at = Timestamp(seconds: 1_700_172_800)
        _ = try Indexer(repository: repo).run(options)
        return repo
    }

    struct Hit: Equatable, CustomStringConvertible {
        var point: String
        var path: [UInt8]
        var entry: FileEntry
        var description: String { "\(point.prefix(6)) \(PathString.string(path))" }
    }

    /// Every entry of the points, by the straightforward way: each chunk decoded whole.
    static func decodeAll(_ repo: Repository, _ points: [PointRecord]) throws -> [(point: String, dir: [UInt8], entry: FileEntry)] {
        var all: [(point: String, dir: [UInt8], entry: FileEntry)] = []
        for point in points {
            let reader = try repo.reader(for: point)
            for i in reader.manifest.chunks.indices {
                for g in try reader.chunk(i, level: .content) {
                    for e in g.entries { all.append((point.id, g.path, e)) }
                }
            }
        }
        return all
    }

    /// What `find` gives, by the straightforward way.
    static func reference(_ all: [(point: String, dir: [UInt8], entry: FileEntry)], _ query: FindQuery) -> [Hit] {
        all.filter { query.matches(dir: $0.dir, $0.entry) }.map { Hit(point: $0.point, path: PathBytes.join($0.dir, $0.entry.name), entry: $0.entry) }
    }

    static func found(_ repo: Repository, _ query: FindQuery, _ points: [PointRecord]) throws -> [Hit] {
        var hits: [Hit] = []
        try repo.find(query, in: points) { hits.append(Hit(point: $0.point.id, path: $0.path, entry: $0.entry)) }
        return hits
    }

    @Test func findGivesWhatAStraightforwardScanGives() throws {
        let tmp = TempDir()
        let repo = try Self.chain(tmp)
        let points = try repo.points()
        #expect(points.count == 3)
        // The tree spans several chunks, in every point.
        for p in points { #expect(try repo.manifest(of: p).chunks.count >= 2) }

        var queries: [FindQuery] = []
        let globs = ["*", "report_1.txt", "Budget_*", "budget_*", "*.txt", "*.TXT", "*_1?.md", "[Bb]udget*", "[!a-z]*",
                     "*a\\*b*", "x\\[1\\]*", "*back\\\\slash*", "kilo*", "*KILO*", "Kilo_*", "*ilo*", "icon*", "*con*",
                     "caf\u{F7E9}.txt", "caf?.txt", "bad*", "new\nline.txt", "*[[:upper:]]*_3.md", "added 1*", "nothing-matches*",
                     "link.txt", "fifo", "*dir*"]
        for g in globs {
            for ignoreCase in [false, true] {
                queries.append(FindQuery(pattern: try FindQuery.glob(g, path: false), ignoreCase: ignoreCase))
            }
        }
        for g in ["/report-dir1/*", "*/Sub*/*_1*", "*-dir2/*", "/odd/*", "*ICON*/*", "*r/report*"] {
            for ignoreCase in [false, true] {
                queries.append(FindQuery(pattern: try FindQuery.glob(g, path: true), ignoreCase: ignoreCase))
            }
        }
        for (r, path) in [("^report_1[0-9]\\.txt$", false), ("budget", false), ("^/odd/", true)] {
            for ignoreCase in [false, true] {
                queries.append(FindQuery(pattern: try FindQuery.regex(r, path: path, ignoreCase: ignoreCase), ignoreCase: ignoreCase))
            }
        }
        var typed = FindQuery(pattern: try FindQuery.glob("*", path: false))
        typed.type = .directory
        queries.append(typed)
        typed.type = .symlink
        queries.append(typed)
        var sized = FindQuery(pattern: try FindQuery.glob("*_1*", path: false))
        sized.larger = 5
        sized.smaller = 12
        queries.append(sized)
        var timed = FindQuery(pattern: try FindQuery.glob("report*", path: false))
        timed.newer = FileTime(Timestamp(seconds: 1_700_000_000))
        queries.append(timed)

        var total = 0
        let all = try Self.decodeAll(repo, points)
        for (n, q) in queries.enumerated() {
            let expected = Self.reference(all, q)
            let got = try Self.found(repo, q, points)
            #expect(got == expected, "\(q.pattern) ignoreCase \(q.ignoreCase): \(got.count) hits, expected \(expected.count)")
            total += expected.count
            // One point alone gives the same as that point's share of all of them.
            if n % 5 == 0 {
                let last = try Self.found(repo, q, [points[2]])
                #expect(last == expected.filter { $0.point == points[2].id })
            }
        }
        #expect(total > 100_000)
        // The awkward names are found, not just agreed on.
        let kelvin = try Self.found(repo, FindQuery(pattern: try FindQuery.glob("kilo.txt", path: false), ignoreCase: true), points)
        #expect(kelvin.isEmpty || kelvin.allSatisfy { $0.path.starts(with: Array("odd/".utf8)) })
        let latin = try Self.found(repo, FindQuery(pattern: try FindQuery.glob("caf\u{F7E9}.txt", path: false)), points)
        #expect(latin.count == 3)
    }

    /// The whole blocks a search keeps for later points' deltas only save reading them again:
    /// with room for none, or for a few (so that they are dropped and read again), `find`
    /// gives the same hits.
    @Test func keptBasesChangeNoHit() throws {
        let tmp = TempDir()
        let repo = try Self.chain(tmp)
        let points = try repo.points()
        // Later points' content parts are built on the first point's blocks.
        #expect(try points.contains { try repo.manifest(of: $0).chunks.contains { $0.parts[1].base != nil } })
        let all = try Self.decodeAll(repo, points)
        for g in ["*", "*_1*", "report*"] {
            let q = FindQuery(pattern: try FindQuery.glob(g, path: false))
            let expected = Self.reference(all, q)
            #expect(try Self.found(repo, q, points) == expected)
            for limit in [0, 60_000] {
                let search = try Search(q, filterFile: tmp.path + "/filters-\(limit)", baseBytes: limit)
                var hits: [Hit] = []
                for p in points {
                    try search.run(in: p, reader: try repo.reader(for: p, cache: ChunkCache(limit: 1))) {
                        hits.append(Hit(point: $0.point.id, path: $0.path, entry: $0.entry))
                    }
                }
                #expect(hits == expected, "\(g) with \(limit) bytes of bases: \(hits.count) hits, expected \(expected.count)")
            }
        }
    }

    /// The block a search said was damaged (nil when it did not fail, or failed otherwise).
    static func damagedBlock(_ body: () throws -> Void) -> String? {
        do {
            try body()
        } catch SnapdexError.blockDamaged(let hash, _) {
            return hash
        } catch {}
        return nil
    }

    /// Hits found by `Search` itself, point after point, with or without the helper thread.
    static func searched(_ repo: Repository, _ query: FindQuery, _ points: [PointRecord], filterFile: String,
                         baseBytes: Int = BlockMemo.defaultLimit, helper: Bool) throws -> [Hit] {
        let search = try Search(query, filterFile: filterFile, baseBytes: baseBytes, helper: helper)
        var hits: [Hit] = []
        for p in points {
            try search.run(in: p, reader: try repo.reader(for: p, cache: ChunkCache(limit: 1))) {
                hits.append(Hit(point: $0.point.id, path: $0.path, entry: $0.entry))
            }
        }
        return hits
    }

    /// With the helper thread working ahead or without it, the same hits in the same order,
    /// and a damaged chunk stops the search at the same hit: the hits of the chunks before it
    /// are given, then the damage, never a hit found after it.
    @Test func theHelperThreadChangesNoHitNorWhereDamageStops() throws {
        let tmp = TempDir()
        let repo = try Self.chain(tmp)
        let points = try repo.points()
        let all = try Self.decodeAll(repo, points)
        for (n, g) in ["*", "*_1*", "report*", "Budget_3.md"].enumerated() {
            let q = FindQuery(pattern: try FindQuery.glob(g, path: false))
            let expected = Self.reference(all, q)
            for helper in [false, true] {
                // A filters file of its own each time, so that both build filters as they scan.
                let hits = try Self.searched(repo, q, points, filterFile: tmp.path + "/filters-\(n)-\(helper)", helper: helper)
                #expect(hits == expected, "\(g) helper \(helper): \(hits.count) hits, expected \(expected.count)")
            }
        }
        // Damage in a content block of the last point's middle chunk.
        let last = try #require(points.max { $0.time < $1.time })
        let manifest = try repo.manifest(of: last)
        #expect(manifest.chunks.count >= 3)
        let damaged = manifest.chunks[manifest.chunks.count / 2].parts[1].block.hash
        try DamageTests.flip(repo, damaged) { $0 - 2 }
        let q = FindQuery(pattern: try FindQuery.glob("*", path: false))
        var given: [[Hit]] = []
        for helper in [false, true] {
            let search = try Search(q, filterFile: tmp.path + "/filters-damage-\(helper)", helper: helper)
            var hits: [Hit] = []
            #expect(Self.damagedBlock {
                try search.run(in: last, reader: try repo.reader(for: last, cache: ChunkCache(limit: 1))) {
                    hits.append(Hit(point: $0.point.id, path: $0.path, entry: $0.entry))
                }
            } == damaged.hex)
            given.append(hits)
        }
        #expect(given[0] == given[1] && !given[0].isEmpty)
    }

    /// Points whose names parts are level-2 deltas (format 4) over one level-1 delta: `find` keeps the
    /// intermediate part that level 1 rebuilds for the points after the first that needs it,
    /// and gives what a straightforward scan gives with any room for kept blocks; a damaged
    /// level-1 delta is damage of every point that needs it, kept or not.
    @Test func findOverLevelTwoDeltasGivesWhatAStraightforwardScanGives() throws {
        let tmp = TempDir()
        let (repo, points, _) = try DeltaLevelTests.chain(tmp)
        let manifests = try points.map { try repo.manifest(of: $0) }
        #expect(manifests[2...].allSatisfy { $0.chunks.contains { $0.parts[0].form == 3 } })
        let all = try Self.decodeAll(repo, points)
        for (n, g) in ["*", "file1*", "*-2.txt", "more-*"].enumerated() {
            let q = FindQuery(pattern: try FindQuery.glob(g, path: false))
            let expected = Self.reference(all, q)
            #expect(!expected.isEmpty)
            #expect(try Self.found(repo, q, points) == expected)
            for limit in [0, 60_000, BlockMemo.defaultLimit] {
                for helper in [false, true] {
                    let hits = try Self.searched(repo, q, points, filterFile: tmp.path + "/filters-\(n)", baseBytes: limit, helper: helper)
                    #expect(hits == expected, "\(g) with \(limit) bytes kept, helper \(helper)")
                }
            }
        }
        let level1 = try #require(manifests[3].chunks.first { $0.parts[0].form == 3 }?.parts[0].level1).hash
        try DamageTests.flip(repo, level1) { $0 - 3 }
        let q = FindQuery(pattern: try FindQuery.glob("*", path: false))
        for p in points[1...] {
            #expect(Self.damagedBlock { _ = try Self.found(repo, q, [p]) } == level1.hex)
        }
        #expect(throws: SnapdexError.self) { _ = try Self.found(repo, q, points) }
        #expect(try Self.found(repo, q, [points[0]]) == Self.reference(all, q).filter { $0.point == points[0].id })
    }

    /// `find` reads a content part's varints eight bytes at a time where it can: sizes of
    /// every length (1 to 10 bytes) and mtimes far apart give what the whole decoder gives,
    /// at any entry, including the last ones, whose varints end near the column's end.
    @Test func contentValuesReadVarintsOfEveryLength() throws {
        var rng = SeededRandom(seed: 0x5eed_0012)
        var entries: [FileEntry] = []
        for i in 0..<2_000 {
            let bits = i % 65
            let size = bits == 0 ? 0 : UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64(64 - bits) | 1 << UInt64(bits - 1)
            let mtime = FileTime(nanoseconds: Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64(i % 63))
            entries.append(FileEntry(name: Array(String(format: "f%05d", i).utf8), type: .file, size: size, mtime: mtime))
        }
        #expect(Set(entries.map { $0.size.leadingZeroBitCount / 7 }).count == 10)
        let parts = ChunkCodec.encode([DirectoryGroup(path: Array("d".utf8), entries: entries)])
        for wanted in [Array(0..<entries.count), Array(stride(from: 1, to: entries.count, by: 7)), [entries.count - 1], [entries.count - 2, entries.count - 1]] {
            let values = try ChunkCodec.contentValues(parts[1], count: entries.count, at: wanted)
            #expect(values.map(\.size) == wanted.map { entries[$0].size })
            #expect(values.map(\.mtime) == wanted.map { entries[$0].mtime })
        }
    }

    @Test func blockMemoKeepsWhatFitsAndDropsTheOldest() throws {
        let memo = BlockMemo(limit: 400)
        var loads: [Digest] = []
        let blocks = (0..<4).map { i in (Digest.of([UInt8(i)]), [UInt8](repeating: UInt8(i), count: 100)) }
        func get(_ i: Int) throws -> [UInt8] {
            try memo.get(blocks[i].0) { h in
                loads.append(h)
                return blocks[i].1
            }
        }
        for i in [0, 1, 2, 3, 0, 1] { #expect(try get(i) == blocks[i].1) }
        #expect(loads.count == 4)
        // A fifth block of 100 bytes pushes out the one used longest ago (2).
        let big = (Digest.of([9]), [UInt8](repeating: 9, count: 100))
        #expect(try memo.get(big.0) { _ in big.1 } == big.1)
        _ = try get(0)
        _ = try get(2)
        #expect(loads.count == 5 && loads.last == blocks[2].0)
        // A block larger than a quarter of the room is given, never kept.
        var bigLoads = 0
        for _ in 0..<2 { _ = try memo.get(Digest.of([7])) { _ in bigLoads += 1; return [UInt8](repeating: 7, count: 101) } }
        #expect(bigLoads == 2)
    }

    /// Every string a glob matches holds the literal the prefilter takes from it: checked with
    /// fnmatch itself on generated globs and names, in the C locale and in C.UTF-8 (where case
    /// folding reaches beyond ASCII).
    @Test func everyMatchHoldsTheGlobsLiteral() throws {
        let pieces: [[UInt8]] = ["a", "b", "K", "k", "i", "I", "x", "*", "?", "[ab]", "[!a]", "[[:alpha:]]", "\\*", "\\", "]", ".", "/"]
            .map { Array($0.utf8) }
        let letters: [[UInt8]] = ["a", "b", "k", "K", "i", "I", "x", "*", ".", "/", "]", "\\"].map { Array($0.utf8) }
            + [Array("\u{212A}".utf8), Array("\u{130}".utf8), [0xE9], [0xFF]]
        var rng = SystemRandomNumberGenerator()
        for localeName in ["C", "C.UTF-8"] {
            let loc = newlocale(1 << LC_CTYPE, localeName, nil)
            #expect(loc != nil)
            let old = uselocale(loc)
            defer {
                uselocale(old)
                freelocale(loc)
            }
            for _ in 0..<3000 {
                let glob = (0..<Int.random(in: 1...5, using: &rng)).flatMap { _ in pieces.randomElement(using: &rng)! }
                for ignoreCase in [false, true] {
                    let literal = GlobLiteral.longest(in: glob, ignoreCase: ignoreCase)
                    if literal.isEmpty { continue }
                    for _ in 0..<30 {
                        let subject = (0..<Int.random(in: 1...7, using: &rng)).flatMap { _ in letters.randomElement(using: &rng)! }
                        let matched = FS.withCName(glob) { g in FS.withCName(subject) { fnmatch(g, $0, ignoreCase ? FindQuery.caseFold : 0) == 0 } }
                        guard matched else { continue }
                        let held = subject.withUnsafeBufferPointer { GlobLiteral.contains($0, literal, ignoreCase: ignoreCase) }
                        #expect(held, "\(localeName): '\(PathString.string(glob))' matched '\(PathString.string(subject))' without '\(PathString.string(literal))'")
                    }
                }
            }
        }
    }

    @Test func literalsFollowFnmatchSyntax() {
        func lit(_ g: String, _ i: Bool = false) -> String { String(decoding: GlobLiteral.longest(in: Array(g.utf8), ignoreCase: i), as: UTF8.self) }
        #expect(lit("budget*.xlsx") == "budget")
        #expect(lit("*.conf") == ".conf")
        #expect(lit("a\\*bc?d") == "a*bc")
        #expect(lit("[abc]def") == "def")
        #expect(lit("[]x]yz") == "yz")
        #expect(lit("[[:alpha:]]xyz") == "")
        #expect(lit("abc\\") == "")
        #expect(lit("README.md", true) == "readme.md")
        #expect(lit("Kilo.TXT", true) == "lo.txt")
        #expect(lit("caf\u{E9}s", true) == "caf")
    }

    /// A names filter never says "no" for a name or literal its block holds.
    @Test func namesFiltersNeverRuleOutWhatABlockHolds() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("abcKkIiXY-_.0123".utf8) + [0xE9, 0xC3, 0xFF]
        for _ in 0..<20 {
            var groups: [DirectoryGroup] = []
            var names: [[UInt8]] = []
            for d in 0..<Int.random(in: 1...6, using: &rng) {
                let dir: [UInt8] = d == 0 ? [] : Array("d\(d)/".utf8) + (0..<Int.random(in: 1...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
                var seen = Set<[UInt8]>()
                for _ in 0..<Int.random(in: 1...300, using: &rng) {
                    seen.insert((0..<Int.random(in: 1...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                }
                let entries = seen.sorted { $0.lexicographicallyPrecedes($1) }.map { FileEntry(name: $0, type: .file) }
                groups.append(DirectoryGroup(path: dir, entries: entries))
                names += entries.map { PathBytes.display(PathBytes.join(dir, $0.name)) }
                names += entries.map(\.name)
            }
            let scan = try NamesScan(ChunkCodec.encode(groups)[0])
            let builder = NamesFilterBuilder()
            while try scan.next() { builder.add(scan) }
            let filter = builder.finish()
            for g in groups {
                for e in g.entries { #expect(filter.mayHoldName(NamesFilter.nameHash(e.name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }))) }
            }
            for s in names where s.count >= 3 {
                let from = Int.random(in: 0...(s.count - 3), using: &rng)
                let to = Int.random(in: (from + 3)...s.count, using: &rng)
                let literal = s[from..<to].map(NamesFilter.lower)
                #expect(filter.mayHold(literal: literal), "\(PathString.string(s)) holds \(PathString.string(literal))")
            }
        }
    }

    /// After one find, a block that cannot hold the name is not read at all; the filters file
    /// is a cache: damaged, it is ignored and written anew, and answers stay the same.
    @Test func namesFiltersSkipBlocksAndAreOnlyACache() throws {
        let tmp = TempDir()
        let repo = try Self.chain(tmp)
        let points = try repo.points()
        let filterFile = NamesFilterFile.path(in: repo.root)
        let plain = FindQuery(pattern: try FindQuery.glob("notes_2.md", path: false))
        let expected = Self.reference(try Self.decodeAll(repo, points), plain)
        #expect(!expected.isEmpty)
        #expect(!FileIO.exists(filterFile))
        #expect(try Self.found(repo, plain, points) == expected)
        #expect(FileIO.exists(filterFile))
        let saved = try FileIO.readAll(filterFile)
        #expect(try NamesFilterFile.decode(saved).count >= 2)

        // Damaged in any way, the file is ignored (same answers) and written anew.
        var flipped = saved
        flipped[saved.count / 2] ^= 0x10
        for bad in [flipped, Array(saved.prefix(40)), Array("not a filter file".utf8)] {
            try FileIO.writeAtomically(filterFile, bad, durable: false)
            #expect(try Self.found(repo, plain, points) == expected)
            #expect(try FileIO.readAll(filterFile) == saved)
        }

        // A names block whose filter rules the name out is never read: with its file gone, a
        // search for a name it cannot hold still answers, one for a name it holds does not.
        let manifest = try repo.manifest(of: points[0])
        let filters = try NamesFilterFile.decode(saved)
        let holder = try #require(manifest.chunks.first { c in
            try ChunkCodec.decode(names: repo.blocks.read(c.parts[0].block.hash), content: nil, state: nil)
                .contains { g in g.entries.contains { $0.name == Array("Budget_0.txt".utf8) } }
        })
        let block = holder.parts[0].block.hash
        #expect(filters[block] != nil)
        let absent = FindQuery(pattern: try FindQuery.glob("no-such-name-anywhere.txt", path: false))
        let other = try FindQuery.glob("*.nothing-has-this-extension", path: false)
        chmod(repo.blocks.path(of: block), 0o600)
        rename(repo.blocks.path(of: block), repo.blocks.path(of: block) + ".away")
        #expect(try Self.found(repo, absent, points).isEmpty)
        #expect(try Self.found(repo, FindQuery(pattern: other), points).isEmpty)
        #expect(throws: SnapdexError.self) { try Self.found(repo, FindQuery(pattern: try FindQuery.glob("Budget_0.txt", path: false)), points) }
        rename(repo.blocks.path(of: block) + ".away", repo.blocks.path(of: block))
    }

    /// A string length that reaches past its column is damage, as `ChunkCodec.decode` says,
    /// not a read into the next column (the fuzzer found this).
    @Test func namesScanRejectsAStringPastItsColumn() throws {
        func part(name: [UInt8]) -> [UInt8] {
            var w = ByteWriter()
            w.byte(PartKind.names.rawValue)
            w.varint(1)
            w.varint(8)
            var runs = ByteWriter()
            runs.varint(0)
            runs.string([UInt8]())
            runs.varint(1)
            let columns: [[UInt8]] = [runs.bytes, [EntryType.file.rawValue], name, [0x24], [0], [0], [], []]
            for c in columns { w.string(c) }
            return w.bytes
        }
        let good = part(name: [0, 1, UInt8(ascii: "a")])
        let scan = try NamesScan(good)
        #expect(try scan.next())
        #expect(Array(scan.name) == [UInt8(ascii: "a")])
        #expect(try !scan.next())
        // The name's length says 2; one byte follows it in the column.
        let bad = part(name: [0, 2, UInt8(ascii: "a")])
        #expect(throws: (any Error).self) { try ChunkCodec.decode(names: bad, content: nil, state: nil) }
        #expect(throws: ChunkCodec.Damaged.self) {
            let s = try NamesScan(bad)
            while try s.next() {}
        }
    }
}
