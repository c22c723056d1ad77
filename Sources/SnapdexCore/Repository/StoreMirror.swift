import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A repository on object storage as one host sees it: a local repository folder (the
/// per-host cache, `$XDG_CACHE_HOME/snapdex/REPO-ID/`) that mirrors the store's catalog files,
/// keeps the blocks it has read under a size cap, and sends a writer's changes back.
///
/// The store is the truth. `pull` makes the cache's `catalogs/` equal to the store's (fetching
/// only what is new or changed since the last pull, dropping what is gone, including what a
/// killed writer of this host published here but never sent); the existing reconcile then
/// brings the cache's snapdex.db up to date. `push` sends what a writer changed in the cache
/// since its pull: new blocks first, then source.json files, then manifests (the commit
/// point: a point exists in the store once its manifest does), then removals.
public final class StoreMirror: @unchecked Sendable {
    public let store: any ObjectStore
    /// The cache folder, laid out as a local repository.
    public let root: String
    /// Bytes of cached blocks kept; the least recently used go first.
    public let cacheLimit: Int64
    /// The lock object this process holds, while it writes.
    public private(set) var heldLock: LockObject?
    /// What people should know (stale locks ignored, a pull skipped); the CLI prints them.
    public internal(set) var notes: [String] = []
    /// Told each note made after the repository was opened (a stale lock met by a writer).
    public var warn: (@Sendable (String) -> Void)?

    /// What the cache holds of each store object of `catalogs/`, as of the last pull or push.
    private var state: MirrorState
    /// Blocks the store's manifests referenced when this writer pulled: never sent again.
    private var storeBlocks: Set<Digest> = []
    private let started = Timestamp.now
    private let trimLock = NSLock()
    /// Bytes this process added to the block cache since it last trimmed it (nil: never).
    private var addedSinceTrim: Int64?
    /// Listings of the whole block cache this process made (tests: an open makes none).
    private(set) var cacheListings = 0
    private var sentCount = 0
    /// This process has pulled (opening, or taking a writer lock): `catalogKeys` are then the
    /// store's as of that listing.
    private(set) var pulled = false
    static let crashAfterBlocks = ProcessInfo.processInfo.environment["SNAPDEX_CRASH_AFTER_BLOCKS_SENT"].flatMap(Int.init)

    var statePath: String { root + "/mirror.json" }
    /// The total size of the cached blocks, so that the cap costs no listing.
    var cacheIndex: BlockCacheIndex { BlockCacheIndex(path: root + "/block-cache") }
    /// Blocks sent by a run that did not finish (one hex hash a line): a rerun asks the store
    /// (HEAD) for these few instead of sending them again.
    var sentPath: String { root + "/sent-blocks" }

    public static let defaultCacheLimit: Int64 = 1 << 30

    /// The cache folder of the repository with `id`: `$XDG_CACHE_HOME/snapdex/ID`, else
    /// `~/.cache/snapdex/ID`.
    public static func cacheDirectory(id: String, environment: [String: String] = PathString.environment(["XDG_CACHE_HOME", "HOME"])) -> String {
        cacheBase(environment) + "/" + id
    }

    private static func cacheBase(_ environment: [String: String]) -> String {
        if let x = environment["XDG_CACHE_HOME"], x.hasPrefix("/") { return x + "/snapdex" }
        return (environment["HOME"] ?? "/root") + "/.cache/snapdex"
    }

    /// `snapdex/locations/NAME`: the id of the repository last found in a store, so that an
    /// open finds its cache (and the config in it) before it asks the store anything. NAME is
    /// the first 32 hex digits of the SHA-256 of the store's identity (endpoint and URL).
    static func locationFile(of store: any ObjectStore, environment: [String: String]) -> String {
        cacheBase(environment) + "/locations/" + String(Digest.of(Array(store.identity.utf8)).hex.prefix(32))
    }

    /// The cache folder of the repository last found in `store`, if this host remembers one.
    /// Only a hint: the open checks the config cached there against the store's.
    static func rememberedCache(of store: any ObjectStore, environment: [String: String] = PathString.environment(["XDG_CACHE_HOME", "HOME"])) -> String? {
        guard let bytes = try? FileIO.readAll(locationFile(of: store, environment: environment)), bytes.last == 10 else { return nil }
        let id = String(decoding: bytes.dropLast(), as: UTF8.self)
        return PointID.isValid(id) ? cacheDirectory(id: id, environment: environment) : nil
    }

    /// Remembers that `store` holds the repository `id` (best effort: without it an open
    /// only costs a request more).
    static func remember(id: String, of store: any ObjectStore, environment: [String: String] = PathString.environment(["XDG_CACHE_HOME", "HOME"])) {
        let file = locationFile(of: store, environment: environment)
        let folder = String(file[..<file.lastIndex(of: "/")!])
        guard case .success = PathCalls.makeDirectories(folder) else { return }
        try? FileIO.writeAtomically(file, Array((id + "\n").utf8), durable: false)
    }

    init(store: any ObjectStore, root: String, cacheLimit: Int64) {
        self.store = store
        self.root = root
        self.cacheLimit = cacheLimit
        state = (try? FileIO.readAll(root + "/mirror.json")).flatMap { try? JSONDecoder().decode(MirrorState.self, from: Data($0)) } ?? MirrorState()
    }

    /// Makes the cache folder a local repository with the store's config.
    func prepare(config: [UInt8]) throws {
        if case .failure(let e) = PathCalls.makeDirectories(root) { throw SnapdexError.io("cannot create directory", root, e) }
        try FileIO.makeDirectory(root + "/catalogs")
        try FileIO.makeDirectory(root + "/blocks")
        if (try? FileIO.readAll(root + "/config")) != config { try FileIO.writeAtomically(root + "/config", config, durable: false) }
        if !FileIO.exists(root + "/lock") { try FileIO.write(root + "/lock", [], exclusive: false, durable: false) }
    }

    // MARK: Catalog files

    /// A store key of `catalogs/` this mirror takes: `catalogs/SOURCE/source.json` or
    /// `catalogs/SOURCE/ID.manifest` with a valid source name and point id. Nothing read from
    /// the store is used as a path unchecked.
    static func isCatalogKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "catalogs", (try? SourceConfig.validate(name: String(parts[1]))) != nil else { return false }
        if parts[2] == "source.json" { return true }
        return parts[2].hasSuffix(".manifest") && PointID.isValid(String(parts[2].dropLast(".manifest".count)))
    }

    /// Makes the cache's catalog files those of the store: one LIST (or the one `listing` the
    /// open made), a GET for each object that is new or changed (or whose cached copy was
    /// changed here and never sent).
    func pull(listing: [ObjectInfo]? = nil) throws {
        var wanted: [String: ObjectInfo] = [:]
        for info in try listing ?? store.list(prefix: "catalogs/") where StoreMirror.isCatalogKey(info.key) { wanted[info.key] = info }
        var next = MirrorState()
        for (key, info) in wanted.sorted(by: { $0.key < $1.key }) {
            let path = root + "/" + key
            if let e = state.objects[key], e.size == info.size, e.modified != nil, e.modified == info.modifiedSeconds,
               let stamp = ManifestFile.stamp(of: path), stamp == e.stamp {
                next.objects[key] = e
                continue
            }
            // Gone between the listing and now: as if it had not been listed.
            guard let bytes = try store.get(key) else { continue }
            try FileIO.makeDirectory(String(path[..<path.lastIndex(of: "/")!]))
            try FileIO.writeAtomically(path, bytes, durable: false)
            next.objects[key] = MirrorState.Entry(size: Int64(bytes.count), modified: info.modifiedSeconds, stamp: ManifestFile.stamp(of: path) ?? "")
        }
        // Whatever the cache holds that the store does not: gone there, or never sent.
        // Each source folder is opened without following a symbolic link (RepositoryFolder).
        for source in FileIO.names(in: root + "/catalogs") {
            let dir = root + "/catalogs/" + source, folder = "catalogs/" + source
            guard FileIO.isDirectory(dir) else { continue }
            let stale = try RepositoryFolder.names(folder, in: root).filter { next.objects["catalogs/\(source)/\($0)"] == nil }
            try RepositoryFolder.remove(stale, from: folder, in: root)
            if try RepositoryFolder.names(folder, in: root).isEmpty { _ = PathCalls.rmdir(dir) }
        }
        // Rewritten only when it changed: an open that found nothing new writes nothing.
        if next != state {
            state = next
            try saveState()
        }
        pulled = true
    }

    /// The store's keys under `catalogs/` as of the last pull or push (see `pulled`).
    var catalogKeys: [String] { Array(state.objects.keys) }

    /// The catalog files the cache holds now, by store key, with their stamps.
    private func localCatalog() -> [String: String] {
        var out: [String: String] = [:]
        for source in FileIO.names(in: root + "/catalogs") {
            for name in FileIO.names(in: root + "/catalogs/" + source) {
                let key = "catalogs/\(source)/\(name)"
                guard StoreMirror.isCatalogKey(key), let stamp = ManifestFile.stamp(of: root + "/" + key) else { continue }
                out[key] = stamp
            }
        }
        return out
    }

    private func manifest(_ key: String) -> Manifest? {
        guard key.hasSuffix(".manifest"), let bytes = try? FileIO.readAll(root + "/" + key) else { return nil }
        return try? Manifest.decode(bytes, path: root + "/" + key)
    }

    /// Blocks referenced by the catalog files the cache holds now.
    private func referencedBlocks(_ keys: some Sequence<String>) throws -> Set<Digest> {
        var out = Set<Digest>()
        var unreadable: [String] = []
        for key in keys where key.hasSuffix(".manifest") {
            guard let m = manifest(key) else { unreadable.append(store.location + "/" + key); continue }
            out.formUnion(m.blockHashes)
        }
        if !unreadable.isEmpty { throw SnapdexError.catalogsUnreadable(paths: unreadable.sorted()) }
        return out
    }

    /// Called by a writer right after its pull: what the store holds now, to compare with.
    func beginWrite() throws {
        storeBlocks = try referencedBlocks(state.objects.keys)
    }

    /// Sends what the writer changed in the cache since `beginWrite`. Blocks go first and a
    /// manifest last, so a run killed at any instant leaves nothing half-visible; blocks sent
    /// by a run that never finished are asked for (HEAD), not sent again.
    func push() throws {
        let local = localCatalog()
        let changed = local.filter { state.objects[$0.key]?.stamp != $0.value }.map(\.key).sorted()
        let removed = state.objects.keys.filter { local[$0] == nil }.sorted()
        guard !changed.isEmpty || !removed.isEmpty else { return }
        var needed = Set<Digest>()
        for key in changed where key.hasSuffix(".manifest") {
            guard let m = manifest(key) else { throw SnapdexError.manifestDamaged(path: root + "/" + key, reason: "it does not decode; nothing was sent") }
            needed.formUnion(m.blockHashes.subtracting(storeBlocks))
        }
        let sentBefore = Set(((try? FileIO.readAll(sentPath)) ?? []).split(separator: 10).compactMap { Digest(hex: String(decoding: $0, as: UTF8.self)) })
        let blocks = BlockStore(directory: root + "/blocks", known: [:])
        for h in needed.sorted() {
            let key = StoreMirror.blockKey(h)
            if sentBefore.contains(h), try store.head(key) != nil { continue }
            let bytes: [UInt8]
            do {
                bytes = try FileIO.readAll(blocks.path(of: h))
            } catch SnapdexError.io(_, _, let e) where e == .noEntry {
                throw SnapdexError.blockMissing(hash: h.hex)
            }
            try store.put(key, bytes)
            try appendSent(h)
            sentCount += 1
            // Tests kill a real process here, part way through sending (like SNAPDEX_CRASH_AT).
            if sentCount == StoreMirror.crashAfterBlocks { _exit(137) }
        }
        for key in changed where key.hasSuffix("/source.json") { try send(key) }
        for key in changed where key.hasSuffix(".manifest") { try send(key) }
        for key in removed where key.hasSuffix(".manifest") {
            try store.delete(key)
            state.objects[key] = nil
        }
        for key in removed where key.hasSuffix("/source.json") {
            try store.delete(key)
            state.objects[key] = nil
        }
        // Blocks only removed points used: the writer holds the exclusive lock, so no index
        // elsewhere can be reusing them.
        if heldLock?.scope == .exclusive {
            let live = try referencedBlocks(local.keys)
            let doomed = storeBlocks.subtracting(live).sorted()
            if !doomed.isEmpty { try bumpGeneration() }
            for h in doomed { try store.delete(StoreMirror.blockKey(h)) }
            storeBlocks = live
        } else {
            storeBlocks.formUnion(needed)
        }
        FileIO.remove(sentPath)
        try saveState()
    }

    private func send(_ key: String) throws {
        let path = root + "/" + key
        let bytes = try FileIO.readAll(path)
        try store.put(key, bytes)
        // The store's time of the new object, so the next pull does not fetch it back.
        let info = try store.head(key)
        state.objects[key] = MirrorState.Entry(size: Int64(bytes.count), modified: info?.modifiedSeconds, stamp: ManifestFile.stamp(of: path) ?? "")
    }

    private func appendSent(_ h: Digest) throws {
        let fd = try FileIO.openRegular(sentPath, O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        let line = Array((h.hex + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    private func saveState() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileIO.writeAtomically(statePath, Array(try encoder.encode(state)), durable: false)
    }

    // MARK: Blocks

    static func blockKey(_ h: Digest) -> String {
        let hex = h.hex
        return "blocks/\(hex.prefix(2))/\(hex)"
    }

    /// A block file's bytes from the store, for the cache (BlockStore checks them).
    func fetchBlock(_ h: Digest) throws -> [UInt8]? {
        try store.get(StoreMirror.blockKey(h))
    }

    /// Called once a block file of `bytes` is in the cache (fetched, or written by an index
    /// here): counts it in the cache index, and trims the cache when that passes the cap, at
    /// most once per tenth of the cap added, so a cache that cannot shrink (a writer's own new
    /// blocks) is not listed again for every block.
    func didCache(bytes: Int) {
        let total = cacheIndex.update { ($0 ?? self.cachedBlocks().total) + Int64(bytes) }
        let due = trimLock.withLock { () -> Bool in
            let first = addedSinceTrim == nil
            let added = (addedSinceTrim ?? 0) + Int64(bytes)
            addedSinceTrim = added
            guard total > cacheLimit, first || added >= cacheLimit / 10 else { return false }
            addedSinceTrim = 0
            return true
        }
        if due { trimCache() }
    }

    /// Trims the cache when its index says it is over the cap, or is missing or damaged (then
    /// it is counted again): one small read when the cache fits.
    func trimCacheIfFull(holdingLock: Bool = false) {
        if let total = cacheIndex.read(), total <= cacheLimit { return }
        trimCache(holdingLock: holdingLock)
    }

    /// Every cached block file: its path, size and last use (mtime, touched on each read).
    private func cachedBlocks() -> (files: [(path: String, size: Int64, used: Int64)], total: Int64) {
        trimLock.withLock { cacheListings += 1 }
        var files: [(path: String, size: Int64, used: Int64)] = []
        var total: Int64 = 0
        let blocks = root + "/blocks"
        for sub in FileIO.names(in: blocks) where sub.utf8.count == 2 {
            for n in FileIO.names(in: blocks + "/" + sub) where Digest(hex: n) != nil {
                var st = stat()
                let p = blocks + "/" + sub + "/" + n
                guard PathCalls.lstat(p, &st) == 0 else { continue }
                let used = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
                files.append((p, Int64(st.st_size), used))
                total += Int64(st.st_size)
            }
        }
        return (files, total)
    }

    /// Lists the cache, deletes the least recently used cached blocks until they fit the cap
    /// (to 90% of it) and records the true total in the cache index. Only while no writer of
    /// this host holds the cache (its new blocks are not sent yet), unless it is this process,
    /// whose own new blocks are younger than it and kept.
    func trimCache(holdingLock: Bool = false) {
        var lock: WriterLock?
        if !holdingLock {
            guard let l = try? WriterLock(path: root + "/lock", wait: 0) else { return }
            lock = l
        }
        defer { lock?.release() }
        // Under the index's lock: a block cached meanwhile (here or by another process) is
        // either in the listing or counted after it, never lost.
        cacheIndex.update { _ in
            let (files, listed) = cachedBlocks()
            var total = listed
            guard total > cacheLimit else { return total }
            let goal = cacheLimit / 10 * 9
            for f in files.sorted(by: { $0.used < $1.used }) {
                if total <= goal { break }
                if holdingLock && f.used >= started.nanoseconds { continue }
                FileIO.remove(f.path)
                total -= f.size
            }
            return total
        }
    }

    // MARK: Garbage

    /// Deletes the store's block objects no manifest references, except those newer than the
    /// oldest live lock's start (less a minute for clocks that differ): an index elsewhere may
    /// have sent them for a manifest it has not published yet. Needs the exclusive lock.
    func collectGarbage() throws -> Int {
        guard let held = heldLock, held.scope == .exclusive else { return 0 }
        let live = try referencedBlocks(localCatalog().keys)
        let locks = try LockObject.all(in: store, skipping: held.key)
        let horizon = (locks.filter { !$0.isStale() }.map(\.startedSeconds) + [held.startedSeconds]).min()! - 60
        var doomed: [String] = []
        for info in try store.list(prefix: "blocks/") {
            let name = info.key.split(separator: "/").last.map(String.init) ?? ""
            guard info.key == "blocks/\(name.prefix(2))/\(name)", let h = Digest(hex: name), !live.contains(h) else { continue }
            guard let t = info.modifiedSeconds, t < horizon else { continue }
            doomed.append(info.key)
        }
        if !doomed.isEmpty { try bumpGeneration() }
        for key in doomed { try store.delete(key) }
        let removed = doomed.count
        // `storeBlocks` stays as pulled: the push after a removal deletes the blocks only the
        // removed manifests used, which are too new for the horizon above.
        return removed
    }

    // MARK: Generation

    /// Raises the store's generation (the object `generation`, see RepositoryMarks) before
    /// block objects are deleted: a copy job's archive index of this repository, which may
    /// list them, is then known to be stale whatever instant a kill stops the deletion at.
    /// Only a holder of the exclusive lock deletes blocks, so no other writer raises it at
    /// the same time.
    func bumpGeneration() throws {
        let key = RepositoryMarks.generationFile
        let old = RepositoryMarks.generation(try store.get(key))
        // A damaged number is replaced by one no index can have recorded.
        let next = old.map { $0 &+ 1 } ?? UInt64(max(Timestamp.now.nanoseconds, 1))
        try store.put(key, Array("\(next)\n".utf8))
    }

    // MARK: Locks

    /// Takes the lock object for `scope`, waiting up to `wait` seconds for conflicting ones.
    func lock(_ scope: LockScope, wait: Double) throws {
        let lock = try LockObject.acquire(scope, in: store, wait: wait) { [weak self] note in
            self?.notes.append(note)
            self?.warn?(note)
        }
        heldLock = lock
    }

    func unlock() {
        heldLock?.release()
        heldLock = nil
    }
}

/// What the cache holds of each store object of `catalogs/` (`mirror.json` in the cache).
struct MirrorState: Codable, Equatable {
    struct Entry: Codable, Equatable {
        var size: Int64
        /// The store's time of the object when it was fetched or sent.
        var modified: Int64?
        /// The cached file's inode, size and mtime: a file changed here differs.
        var stamp: String
    }
    var objects: [String: Entry] = [:]
}
