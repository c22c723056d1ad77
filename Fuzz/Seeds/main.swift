import Foundation

/// Writes the seed corpus for the decoder fuzzer into the directory named by the first
/// argument: valid manifests and chunks (with patches) in the harness's input format.
let dir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Fuzz/corpus"

func save(_ name: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
}

func entry(_ i: Int, _ type: EntryType) -> FileEntry {
    var e = FileEntry(name: Array("name-\(i)".utf8), type: type)
    e.permissions = i % 3 == 0 ? 0o4755 : 0o644
    e.uid = UInt32(1000 + i)
    e.gid = 100
    e.size = UInt64(i * 4096)
    e.mtime = FileTime(nanoseconds: 1_763_700_000_000_000_000 + Int64(i) * 1_000_003)
    e.ctime = FileTime(nanoseconds: 1_763_700_000_000_000_000 + Int64(i) * 1_000_003 + Int64(i % 4) * 17)
    e.inode = UInt64(5000 + i * 3)
    e.nlink = type == .directory ? 2 : UInt64(1 + i % 2)
    if type == .symlink { e.target = Array("../target-\(i)".utf8) }
    if type == .charDevice || type == .blockDevice { e.device = UInt64(0x0801 + i) }
    if type == .directory {
        e.children = 3
        e.treeFiles = 7
        e.treeBytes = 12345
    }
    if type == .file && i % 2 == 0 { e.hash = Digest.of(e.name) }
    return e
}

let types: [EntryType] = [.file, .directory, .symlink, .fifo, .socket, .charDevice, .blockDevice]
var runs: [DirectoryGroup] = []
for d in 0..<3 {
    runs.append(DirectoryGroup(path: Array("home/dir-\(d)".utf8), entries: (0..<12).map { entry($0 + d, types[($0 + d) % types.count]) }))
}
runs.append(DirectoryGroup(path: [], entries: [FileEntry(name: [], type: .directory, permissions: 0o755), entry(99, .directory)]))
let parts = ChunkCodec.encode(runs)
var changed = runs
changed[1].entries[4].size += 1
changed[1].entries[4].mtime = FileTime(nanoseconds: changed[1].entries[4].mtime.storedNanoseconds + 1)
changed[2].entries[1].ctime = FileTime(nanoseconds: changed[2].entries[1].ctime.storedNanoseconds + 9)
changed[2].entries[1].inode += 1
let contentPatch = try ChunkCodec.patch(kind: .content, names: parts[0], content: parts[1], base: parts[1], current: changed)!
let stateParts = ChunkCodec.encode(changed)
let statePatch = try ChunkCodec.patch(kind: .state, names: parts[0], content: stateParts[1], base: parts[2], current: changed)!

func chunkInput(_ strings: [[UInt8]]) -> [UInt8] {
    var w = ByteWriter()
    w.byte(1)
    for s in strings { w.string(s) }
    return w.bytes
}
save("chunk-whole", chunkInput([parts[0], parts[1], parts[2]]))
save("chunk-patched", chunkInput([parts[0], parts[1], parts[2], contentPatch, statePatch]))
save("chunk-names-only", chunkInput([parts[0]]))
// A names part with an entry added and one removed, as a delta of the first (kind 4).
var churned = runs
churned[0].entries.remove(at: 3)
churned[2].entries.insert(entry(50, .file), at: 5)
let churnedParts = ChunkCodec.encode(churned)
let namesDelta = PartDelta.make(base: parts[0], target: churnedParts[0], entries: 38)!
var deltaInput = ByteWriter()
deltaInput.byte(3)
deltaInput.string(namesDelta)
deltaInput.string(parts[0])
save("delta-names", deltaInput.bytes)
// A second day: one more entry added, as a level-2 delta over that delta (format 4).
var churnedAgain = churned
churnedAgain[1].entries.insert(entry(60, .file), at: 2)
let againParts = ChunkCodec.encode(churnedAgain)
let namesLevel2 = PartDelta.make(base: churnedParts[0], target: againParts[0], entries: 39)!
var level2Input = ByteWriter()
level2Input.byte(3)
level2Input.string(namesDelta)
level2Input.string(parts[0])
level2Input.string(namesLevel2)
save("delta-names-level2", level2Input.bytes)

// File times outside 64-bit nanoseconds (catalog format 3): exceptions columns in the
// content and state parts and in both patches.
var farRuns = runs
farRuns[0].entries[2].mtime = FileTime(seconds: 20_000_000_000, nanos: 7)!
farRuns[0].entries[5].ctime = FileTime(seconds: -20_000_000_000, nanos: 0)!
farRuns[1].entries[0].mtime = FileTime(seconds: .min, nanos: 999_999_999)!
let farParts = ChunkCodec.encode(farRuns)
var farChanged = farRuns
farChanged[1].entries[4].mtime = FileTime(seconds: .max, nanos: 1)!
farChanged[2].entries[1].ctime = FileTime(seconds: -30_000_000_000, nanos: 3)!
let farNew = ChunkCodec.encode(farChanged)
let farContentPatch = try ChunkCodec.patch(kind: .content, names: farParts[0], content: farParts[1], base: farParts[1], current: farChanged)!
let farStatePatch = try ChunkCodec.patch(kind: .state, names: farParts[0], content: farNew[1], base: farParts[2], current: farChanged)!
save("chunk-far-times", chunkInput([farParts[0], farParts[1], farParts[2], farContentPatch, farStatePatch]))

var m = Manifest(id: Array(0..<16), source: "home", pointTime: Timestamp(seconds: 1_763_700_000),
                 indexedAt: Timestamp(seconds: 1_763_700_100, nanos: 5), kind: .manual, snapshotPath: "/tank/home/.zfs/snapshot/daily")
m.label = "before upgrade"
m.retainUntil = Timestamp(seconds: 1_900_000_000)
m.hashed = true
m.policy = [.init(name: "keep-days", value: 30), .init(name: "weekly", value: 8)]
m.counts.entries = 38
m.counts.files = 12
func ref(_ raw: [UInt8]) -> BlockRef { BlockRef(hash: Digest.of(raw), rawSize: raw.count, storedSize: raw.count / 2) }
m.chunks = [
    ChunkRef(firstDir: Array("home/dir-0".utf8), firstName: Array("name-0".utf8), entries: 24, parts: parts.map { PartRef(block: ref($0)) }),
    ChunkRef(firstDir: Array("home/dir-2".utf8), firstName: Array("name-2".utf8), entries: 14,
             parts: [PartRef(block: ref(parts[0])), PartRef(block: ref(contentPatch), base: ref(parts[1]), whole: Digest.of(stateParts[1])),
                     PartRef(block: ref(statePatch), base: ref(parts[2]), whole: Digest.of(stateParts[2]))]),
    ChunkRef(firstDir: Array("home/dir-3".utf8), firstName: Array("name-3".utf8), entries: 38,
             parts: [PartRef(block: ref(namesDelta), base: ref(parts[0]), whole: Digest.of(churnedParts[0]), delta: true),
                     PartRef(block: ref(churnedParts[1])), PartRef(block: ref(churnedParts[2]))]),
    ChunkRef(firstDir: Array("home/dir-4".utf8), firstName: Array("name-4".utf8), entries: 39,
             parts: [PartRef(block: ref(namesLevel2), base: ref(parts[0]), whole: Digest.of(againParts[0]), delta: true,
                             level1: ref(namesDelta), intermediate: Digest.of(churnedParts[0])),
                     PartRef(block: ref(againParts[1])), PartRef(block: ref(againParts[2]))]),
]
save("manifest", [0] + m.encode().dropLast(Digest.byteCount))
m.chunks = []
m.label = nil
m.retainUntil = nil
m.policy = []
save("manifest-empty", [0] + m.encode().dropLast(Digest.byteCount))
