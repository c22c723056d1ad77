/// Whether a point was made on schedule (subject to retention) or by hand (kept until forgotten).
public enum PointKind: String, Sendable, Codable {
    case scheduled
    case manual
}

/// One block as a manifest names it: its hash (SHA-256 of its uncompressed bytes), its
/// uncompressed size and its size on disk.
public struct BlockRef: Equatable, Hashable, Sendable {
    public var hash: Digest
    public var rawSize: Int
    public var storedSize: Int
    public init(hash: Digest, rawSize: Int, storedSize: Int) {
        self.hash = hash
        self.rawSize = rawSize
        self.storedSize = storedSize
    }
}

/// One part of a chunk: a whole block, or a patch block applied to a base block of the same
/// kind (a part from an earlier index of the same entries). Both blocks are referenced by
/// the manifest, so deleting the earlier index never breaks this one.
public struct PartRef: Equatable, Sendable {
    public var block: BlockRef
    public var base: BlockRef?
    /// For a patched part: the SHA-256 of the whole part it stands for, so that the next
    /// index can tell an unchanged part without decoding it, and a reader can check a part
    /// rebuilt from a delta.
    public var whole: Digest?
    /// Whether `block` is a delta (part kind 4, chunk table form 2) of `base`'s bytes, rather
    /// than a patch of its entries' values (kind 3, form 1, written before format 3).
    public var delta: Bool
    /// For a level-2 delta (chunk table form 3, format 4): the level-1 delta that rebuilds the
    /// intermediate part from `base`, which `block` is a delta of, and that part's SHA-256.
    public var level1: BlockRef?
    public var intermediate: Digest?
    public init(block: BlockRef, base: BlockRef? = nil, whole: Digest? = nil, delta: Bool = false,
                level1: BlockRef? = nil, intermediate: Digest? = nil) {
        self.block = block
        self.base = base
        self.whole = whole
        self.delta = delta
        self.level1 = level1
        self.intermediate = intermediate
    }

    /// The chunk table form: 0 whole, 1 patched, 2 delta, 3 level-2 delta.
    public var form: Int { base == nil ? 0 : level1 != nil ? 3 : delta ? 2 : 1 }
    /// The blocks this part needs, in the order a reader applies them.
    public var blocks: [BlockRef] {
        guard let base else { return [block] }
        return level1.map { [base, $0, block] } ?? [base, block]
    }
    /// The whole block a patch of this part would apply to.
    public var root: BlockRef { base ?? block }
}

/// A row of the manifest's chunk table: the key of the chunk's first entry, how many entries
/// it holds, and its three parts (names, content, state).
public struct ChunkRef: Equatable, Sendable {
    public var firstDir: [UInt8]
    public var firstName: [UInt8]
    public var entries: Int
    public var parts: [PartRef]
}

/// Totals over one catalog.
public struct CatalogCounts: Equatable, Sendable {
    public var entries: UInt64 = 0
    public var files: UInt64 = 0
    public var directories: UInt64 = 0
    public var symlinks: UInt64 = 0
    public var others: UInt64 = 0
    /// Bytes in regular files.
    public var bytes: UInt64 = 0
    public var hashedFiles: UInt64 = 0
    public var hashesReused: UInt64 = 0
    public var warnings: UInt64 = 0
    public init() {}
}

/// Everything that describes one index, stored beside its blocks in
/// `catalogs/SOURCE/ID.manifest`. It is self-describing: the database can be rebuilt from
/// manifests alone. Layout in docs/FORMAT.md.
public struct Manifest: Equatable, Sendable {
    public var formatVersion: UInt16 = FormatConstants.catalogVersion
    /// 16 random bytes; shown as hex.
    public var id: [UInt8]
    public var source: String
    public var pointTime: Timestamp
    public var indexedAt: Timestamp
    public var kind: PointKind
    public var label: String?
    public var snapshotPath: String
    public var toolVersion: String = SnapdexVersion.tool
    /// The retention settings in force at creation, as (name, value) pairs.
    public var policy: [PolicySetting] = []
    /// The zone the policy counts calendar periods in (`Europe/Berlin`, `+01:00`); nil when
    /// none was stored (Snapdex 0.1, or no policy).
    public var calendarZone: String?
    public var retainUntil: Timestamp?
    public var hashed = false
    /// What identifies the snapshot folder (tag 13); nil in manifests written before 0.2.0.
    public var identity: SnapshotIdentity?
    public var counts = CatalogCounts()
    public var chunks: [ChunkRef] = []
    /// Paths the walk could not read (tag 15); a point with any is partial.
    public var unreadable = UnreadableList()
    /// For a point a copy job brought here: where it came from and when (tag 18).
    public var copiedFrom: CopyOrigin?
    /// For a copied point: the retention policy it had where it was indexed (tag 19), kept
    /// when the copy's own policy (tag 9) is the target's.
    public var originPolicy: OriginPolicy?

    /// The repository a copied point came from (its id, 16 bytes) and when it landed.
    public struct CopyOrigin: Equatable, Sendable {
        public var repository: [UInt8]
        public var copiedAt: Timestamp
        public init(repository: [UInt8], copiedAt: Timestamp) {
            self.repository = repository
            self.copiedAt = copiedAt
        }
        public var repositoryHex: String { Hex.encode(repository) }
    }

    /// A retention policy as tag 9 stores it, with the zone of tag 14.
    public struct OriginPolicy: Equatable, Sendable {
        public var settings: [PolicySetting]
        public var zone: String?
        public init(settings: [PolicySetting], zone: String?) {
            self.settings = settings
            self.zone = zone
        }
    }

    public struct PolicySetting: Equatable, Sendable {
        public var name: String
        public var value: Int64
        public init(name: String, value: Int64) {
            self.name = name
            self.value = value
        }
    }

    public init(id: [UInt8], source: String, pointTime: Timestamp, indexedAt: Timestamp, kind: PointKind, snapshotPath: String) {
        self.id = id
        self.source = source
        self.pointTime = pointTime
        self.indexedAt = indexedAt
        self.kind = kind
        self.snapshotPath = snapshotPath
    }

    public var idHex: String { Hex.encode(id) }

    /// Every distinct block this index references.
    public var blockHashes: Set<Digest> { Set(blocks.map(\.hash)) }

    /// Every block reference of the chunk table (repeats included).
    public var blocks: [BlockRef] { chunks.flatMap { $0.parts.flatMap(\.blocks) } }

    /// The oldest catalog format whose readers can read this manifest: 4 with a level-2 delta
    /// part, 3 with a delta part, else 1 (docs/FORMAT.md, "Manifests").
    public var oldestReader: UInt16 {
        let forms = Set(chunks.flatMap { $0.parts.map(\.form) })
        return forms.contains(3) ? 4 : forms.contains(2) ? 3 : 1
    }

    // Field tags. Never reuse a number; readers skip tags they do not know.
    enum Tag: UInt64 {
        case id = 1, source = 2, pointTime = 3, indexedAt = 4, kind = 5, label = 6, snapshotPath = 7
        case toolVersion = 8, policy = 9, retainUntil = 10, counts = 11, hashed = 12, identity = 13
        case calendarZone = 14, unreadable = 15
        case copiedFrom = 18, originPolicy = 19
        case chunks = 32
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 256 + chunks.count * 120)
        w.raw(FormatConstants.manifestMagic)
        w.uint16LE(formatVersion)
        // The oldest reader version that can read this manifest: deltas (format 3) are a part
        // form older readers would take for damage; without them a version-1 reader reads it.
        // Level-2 deltas (format 4) likewise for version-3 readers.
        w.uint16LE(oldestReader)
        func field(_ tag: Tag, _ body: (inout ByteWriter) -> Void) {
            var f = ByteWriter()
            body(&f)
            w.varint(tag.rawValue)
            w.string(f.bytes)
        }
        field(.id) { $0.raw(id) }
        field(.source) { $0.raw(Array(source.utf8)) }
        field(.pointTime) { $0.zigzag(pointTime.nanoseconds) }
        field(.indexedAt) { $0.zigzag(indexedAt.nanoseconds) }
        field(.kind) { $0.byte(kind == .manual ? 1 : 0) }
        if let label { field(.label) { $0.raw(Array(label.utf8)) } }
        field(.snapshotPath) { $0.raw(PathString.bytes(snapshotPath)) }
        field(.toolVersion) { $0.raw(Array(toolVersion.utf8)) }
        field(.policy) { f in
            f.varint(policy.count)
            for p in policy {
                f.string(Array(p.name.utf8))
                f.zigzag(p.value)
            }
        }
        if let calendarZone { field(.calendarZone) { $0.raw(Array(calendarZone.utf8)) } }
        if let retainUntil { field(.retainUntil) { $0.zigzag(retainUntil.nanoseconds) } }
        field(.hashed) { $0.byte(hashed ? 1 : 0) }
        if let identity {
            field(.identity) { f in
                f.varint(identity.device)
                f.varint(identity.inode)
                f.varint(identity.samples.count)
                for s in identity.samples {
                    f.string(s.name)
                    f.varint(s.inode)
                    f.zigzag(s.mtime)
                }
            }
        }
        field(.counts) { f in
            for v in [counts.entries, counts.files, counts.directories, counts.symlinks, counts.others,
                      counts.bytes, counts.hashedFiles, counts.hashesReused, counts.warnings] { f.varint(v) }
        }
        if !unreadable.isEmpty {
            field(.unreadable) { f in
                f.varint(unreadable.total)
                f.varint(unreadable.listed.count)
                for u in unreadable.listed {
                    f.string(u.path)
                    f.varint(UInt64(UInt32(bitPattern: u.errno.code)))
                    f.byte(u.what.rawValue)
                }
            }
        }
        if let copiedFrom {
            field(.copiedFrom) { f in
                f.string(copiedFrom.repository)
                f.zigzag(copiedFrom.copiedAt.nanoseconds)
            }
        }
        if let originPolicy {
            field(.originPolicy) { f in
                f.varint(originPolicy.settings.count)
                for p in originPolicy.settings {
                    f.string(Array(p.name.utf8))
                    f.zigzag(p.value)
                }
                f.string(Array((originPolicy.zone ?? "").utf8))
            }
        }
        field(.chunks) { f in
            f.varint(chunks.count)
            var prevDir: [UInt8] = []
            for c in chunks {
                let s = ChunkCodec.commonPrefix(prevDir, c.firstDir)
                f.varint(s)
                f.string(c.firstDir[s...])
                f.string(c.firstName)
                f.varint(c.entries)
                f.varint(c.parts.count)
                for p in c.parts {
                    f.varint(p.form)
                    for b in p.blocks {
                        f.raw(b.hash.bytes)
                        f.varint(b.rawSize)
                        f.varint(b.storedSize)
                    }
                    if p.level1 != nil { f.raw((p.intermediate ?? p.block.hash).bytes) }
                    if p.base != nil { f.raw((p.whole ?? p.block.hash).bytes) }
                }
                prevDir = c.firstDir
            }
        }
        w.raw(Digest.of(w.bytes).bytes)
        return w.bytes
    }

    /// Reads a manifest; `path` only names it in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        func damaged(_ why: String) -> SnapdexError { .manifestDamaged(path: path, reason: why) }
        guard bytes.count >= 12 + Digest.byteCount, Array(bytes[0..<8]) == FormatConstants.manifestMagic else {
            throw damaged("not a Snapdex manifest")
        }
        let body = bytes.count - Digest.byteCount
        guard Digest.of(bytes[0..<body]).bytes == Array(bytes[body...]) else { throw damaged("checksum mismatch") }
        var r = ByteReader(bytes, offset: 8, end: body)
        do {
            let version = try r.uint16LE()
            let minReader = try r.uint16LE()
            guard minReader <= FormatConstants.catalogMaxReadVersion else {
                // Name the version it needs, which is above ours (its writer's may not be).
                throw SnapdexError.catalogNewerFormat(path: path, found: Int(max(version, minReader)), supported: Int(FormatConstants.catalogMaxReadVersion))
            }
            var m = Manifest(id: [], source: "", pointTime: Timestamp(nanoseconds: 0), indexedAt: Timestamp(nanoseconds: 0),
                             kind: .scheduled, snapshotPath: "")
            m.formatVersion = version
            var seen = Set<UInt64>()
            while !r.isAtEnd {
                let tag = try r.varint()
                let value = try r.string()
                seen.insert(tag)
                var f = ByteReader(value)
                switch Tag(rawValue: tag) {
                case .id: m.id = value
                case .source: m.source = String(decoding: value, as: UTF8.self)
                case .pointTime: m.pointTime = Timestamp(nanoseconds: try f.zigzag())
                case .indexedAt: m.indexedAt = Timestamp(nanoseconds: try f.zigzag())
                case .kind: m.kind = try f.byte() == 1 ? .manual : .scheduled
                case .label: m.label = String(decoding: value, as: UTF8.self)
                case .snapshotPath: m.snapshotPath = PathString.string(value)
                case .toolVersion: m.toolVersion = String(decoding: value, as: UTF8.self)
                case .policy:
                    let n = try f.count(limit: 64)
                    m.policy = try (0..<n).map { _ in
                        PolicySetting(name: String(decoding: try f.string(), as: UTF8.self), value: try f.zigzag())
                    }
                case .retainUntil: m.retainUntil = Timestamp(nanoseconds: try f.zigzag())
                case .calendarZone: m.calendarZone = String(decoding: value, as: UTF8.self)
                case .hashed: m.hashed = try f.byte() == 1
                case .identity:
                    let device = try f.varint()
                    let inode = try f.varint()
                    let n = try f.count(limit: SnapshotIdentity.maxSamples)
                    let samples = try (0..<n).map { _ in
                        SnapshotIdentity.Sample(name: Array(try f.string()), inode: try f.varint(), mtime: try f.zigzag())
                    }
                    m.identity = SnapshotIdentity(device: device, inode: inode, samples: samples)
                case .counts:
                    // The database stores counts as signed 64-bit integers: a larger one is damage.
                    func count() throws -> UInt64 {
                        let v = try f.varint()
                        guard v <= UInt64(Int64.max) else { throw damaged("count out of range") }
                        return v
                    }
                    m.counts.entries = try count()
                    m.counts.files = try count()
                    m.counts.directories = try count()
                    m.counts.symlinks = try count()
                    m.counts.others = try count()
                    m.counts.bytes = try count()
                    m.counts.hashedFiles = try count()
                    m.counts.hashesReused = try count()
                    m.counts.warnings = try count()
                case .unreadable:
                    m.unreadable.total = try f.varint()
                    let n = try f.count(limit: f.remaining)
                    guard UInt64(n) <= m.unreadable.total else { throw damaged("more unreadable paths listed than counted") }
                    m.unreadable.listed = try (0..<n).map { _ in
                        let path = try f.string()
                        guard let code = Int32(exactly: try f.varint()) else { throw damaged("errno out of range") }
                        // A kind this version does not know still names a path that is missing.
                        let what = UnreadablePath.What(rawValue: try f.byte()) ?? .entry
                        return UnreadablePath(path: path, what: what, errno: Errno(code))
                    }
                case .copiedFrom:
                    m.copiedFrom = CopyOrigin(repository: try f.string(), copiedAt: Timestamp(nanoseconds: try f.zigzag()))
                case .originPolicy:
                    let n = try f.count(limit: 64)
                    let settings = try (0..<n).map { _ in
                        PolicySetting(name: String(decoding: try f.string(), as: UTF8.self), value: try f.zigzag())
                    }
                    let zone = String(decoding: try f.string(), as: UTF8.self)
                    m.originPolicy = OriginPolicy(settings: settings, zone: zone.isEmpty ? nil : zone)
                case .chunks:
                    let n = try f.count(limit: f.remaining)
                    var prevDir: [UInt8] = []
                    m.chunks.reserveCapacity(n)
                    for _ in 0..<n {
                        let s = try f.count(limit: prevDir.count)
                        let dir = Array(prevDir[0..<s]) + (try f.string())
                        let name = try f.string()
                        let entries = try f.count()
                        let k = try f.count(limit: 8)
                        var parts: [PartRef] = []
                        func block() throws -> BlockRef {
                            let h = Digest(trusted: Array(try f.raw(Digest.byteCount)))
                            return BlockRef(hash: h, rawSize: try f.count(), storedSize: try f.count())
                        }
                        for _ in 0..<k {
                            switch try f.varint() {
                            case 0: parts.append(PartRef(block: try block()))
                            case let form where form == 1 || form == 2:
                                let base = try block()
                                let patch = try block()
                                let whole = Digest(trusted: Array(try f.raw(Digest.byteCount)))
                                parts.append(PartRef(block: patch, base: base, whole: whole, delta: form == 2))
                            case 3:
                                let base = try block(), level1 = try block(), delta = try block()
                                let intermediate = Digest(trusted: Array(try f.raw(Digest.byteCount)))
                                let whole = Digest(trusted: Array(try f.raw(Digest.byteCount)))
                                parts.append(PartRef(block: delta, base: base, whole: whole, delta: true, level1: level1, intermediate: intermediate))
                            default: throw damaged("unknown part form")
                            }
                        }
                        guard parts.count == 3 else { throw damaged("chunk with \(parts.count) parts") }
                        m.chunks.append(ChunkRef(firstDir: dir, firstName: name, entries: entries, parts: parts))
                        prevDir = dir
                    }
                case nil: break
                }
            }
            for required in [Tag.id, .source, .pointTime, .indexedAt, .kind, .snapshotPath, .chunks] where !seen.contains(required.rawValue) {
                throw damaged("missing field \(required)")
            }
            guard m.id.count == 16 else { throw damaged("index id is \(m.id.count) bytes") }
            return m
        } catch is ByteReader.Truncated {
            throw damaged("truncated field")
        }
    }
}
