import Foundation
import Testing
@testable import SnapdexCore

/// A repository on object storage: the store holds the files of a local repository, each
/// host a cache of them. Hosts are separate cache folders over one store.
@Suite struct StoreRepositoryTests {
    static func snapshot(_ dir: String, files: Int, variant: Int = 0) {
        for d in 0..<(files / 100) {
            for f in 0..<100 { Tree.write(dir + "/d\(d)/file\(f).txt", "content \(d) \(f) \(d == 0 ? variant : 0)") }
        }
    }

    static func index(_ repo: Repository, _ source: String, _ dir: String, at seconds: Int64) throws {
        var o = IndexOptions(source: source, directory: dir)
        o.at = Timestamp(seconds: seconds)
        _ = try Indexer(repository: repo).run(o)
    }

    static func keys(_ store: TestFolderStore, _ prefix: String) throws -> [String] { try store.list(prefix: prefix).map(\.key) }

    @Test func aSecondHostSeesWhatTheFirstIndexedAndReadsItsBlocksFromTheStore() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let hostA = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheA")))
        Self.snapshot(tmp.sub("s1"), files: 6_000)
        try Self.index(hostA, "home", tmp.sub("s1"), at: 1_000)
        // The bucket holds a local repository's files: config, manifests, blocks.
        #expect(try Self.keys(store, "catalogs/home/").count == 2)
        #expect(try !Self.keys(store, "blocks/").isEmpty)
        #expect(try Repository.open(at: tmp.sub("bucket")).points().count == 1)

        let hostB = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB")))
        #expect(try hostB.points().map(\.id) == hostA.points().map(\.id))
        let before = store.requestCounts()
        #expect(try hostB.verify().isClean)
        let fetched = store.requestCounts().get - before.get
        #expect(fetched == (try Self.keys(store, "blocks/").count))
        // Cached now: a second read asks the store for nothing.
        let again = store.requestCounts()
        #expect(try hostB.verify().isClean)
        #expect(store.requestCounts().get == again.get)
    }

    /// Lock objects let hosts write other sources at once; the writers of one host share its
    /// cache and take turns at it. The refusal says so (not "repository CACHE is locked"), and
    /// the --wait it suggests goes on once the other writer is done.
    @Test func aSecondWriterOfOneHostIsToldItSharesTheCacheAndWaitsWithWait() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let repo = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        // Another writer of this host: a process holding the cache's flock for a while.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [repo.root + "/lock", "sleep", "2"]
        try holder.run()
        defer { holder.waitUntilExit() }
        var held = false
        for _ in 0..<200 where !held {
            held = (try? WriterLock(path: repo.root + "/lock", wait: 0)).map { $0.release(); return false } ?? true
            if !held { usleep(10_000) }
        }
        #expect(held, "flock never took the cache's lock")
        var said = ""
        do {
            try repo.withWriterLock(scope: .source("mail")) {}
            Issue.record("a second writer of the host was not refused")
        } catch let e as SnapdexError {
            guard case .storeCacheLocked(let location, let cache, _) = e else { Issue.record("wrong error \(e)"); return }
            #expect(location == store.location && cache == repo.root)
            said = e.description
        }
        #expect(said.contains("writers of one host take turns") && said.hasSuffix("retry with --wait SECONDS"), "\(said)")
        // Its lock object is gone with it: a writer of another source elsewhere is not kept waiting.
        #expect(try store.list(prefix: "locks/").isEmpty)
        try repo.withWriterLock(wait: 60, scope: .source("mail")) {}
    }

    @Test func openingFetchesOnlyWhatChanged() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let hostA = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheA")))
        Self.snapshot(tmp.sub("s1"), files: 200)
        try Self.index(hostA, "home", tmp.sub("s1"), at: 1_000)
        _ = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB")))
        Self.snapshot(tmp.sub("s2"), files: 200, variant: 1)
        try Self.index(hostA, "home", tmp.sub("s2"), at: 2_000)
        let before = store.requestCounts()
        let hostB = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB")))
        let used = store.requestCounts().get - before.get
        // The config and the one new manifest.
        #expect(used == 2)
        #expect(try hostB.points().count == 2)
        // A point forgotten elsewhere is gone here at the next open.
        let first = try hostA.points()[0]
        _ = try hostA.forget([first])
        let reopened = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB")))
        #expect(try reopened.points().map(\.id) == hostA.points().map(\.id))
        #expect(try reopened.verify().isClean)
    }

    @Test func indexSendsOnlyNewBlocksAndForgetDeletesWhatOnlyItUsed() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let repo = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        Self.snapshot(tmp.sub("s1"), files: 6_000)
        try Self.index(repo, "home", tmp.sub("s1"), at: 1_000)
        let blocks1 = Set(try Self.keys(store, "blocks/"))
        Self.snapshot(tmp.sub("s2"), files: 6_000, variant: 1)
        let before = store.requestCounts()
        let sentBefore = store.sentKeys.count
        try Self.index(repo, "home", tmp.sub("s2"), at: 2_000)
        let blocks2 = Set(try Self.keys(store, "blocks/"))
        let sentBlocks = blocks2.subtracting(blocks1).count
        #expect(sentBlocks > 0 && sentBlocks < blocks1.count)
        // Only the new blocks, then the manifest; no HEAD per block to find out what the store has.
        let sent = store.sentKeys[sentBefore...]
        #expect(sent.filter { $0.hasPrefix("blocks/") }.count == sentBlocks)
        #expect(sent.filter { $0.hasSuffix(".manifest") }.count == 1)
        #expect(sent.last { !$0.hasPrefix("locks/") }?.hasSuffix(".manifest") == true)
        #expect(store.requestCounts().head - before.head <= 1)

        let points = try repo.points()
        _ = try repo.forget([points[1]])
        #expect(try Self.keys(store, "catalogs/home/").count == 2)
        #expect(Set(try Self.keys(store, "blocks/")) == blocks1)
        // Another host agrees: every point left verifies from the store alone.
        let other = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("other")))
        #expect(try other.verify().isClean)
    }

    @Test func indexOnAHostWithAColdCacheReadsNoBlockItReuses() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let hostA = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheA")))
        Self.snapshot(tmp.sub("s1"), files: 6_000)
        try Self.index(hostA, "home", tmp.sub("s1"), at: 1_000)
        let blocks = try Self.keys(store, "blocks/").count
        let hostB = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB")))
        let before = store.requestCounts()
        try Self.index(hostB, "home", tmp.sub("s1"), at: 2_000)
        // The manifests say what the store holds: no GET (or HEAD) per block to check it.
        #expect(store.requestCounts().get - before.get < blocks / 2)
        #expect(store.requestCounts().head - before.head <= 1)
        #expect(try hostB.points().count == 2)
    }

    @Test func aRunCutOffWhileSendingPublishesNothingAndItsRerunSendsNothingTwice() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let repo = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        Self.snapshot(tmp.sub("s1"), files: 6_000)
        // The lock object, then two blocks, then the connection is gone.
        store.putsBeforeFailure = 3
        #expect(throws: SnapdexError.self) { try Self.index(repo, "home", tmp.sub("s1"), at: 1_000) }
        // The manifest is the commit point: no point is visible, on any host.
        #expect(try Self.keys(store, "catalogs/home/").filter { $0.hasSuffix(".manifest") }.isEmpty)
        #expect(try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("other"))).points().isEmpty)
        let sent = Set(try Self.keys(store, "blocks/"))
        #expect(sent.count == 2)

        store.putsBeforeFailure = nil
        let again = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        #expect(try again.points().isEmpty)
        try Self.index(again, "home", tmp.sub("s1"), at: 1_000)
        // Every block once: the two sent before are asked for (HEAD), not sent again.
        let blockPuts = store.sentKeys.filter { $0.hasPrefix("blocks/") }
        #expect(blockPuts.count == Set(blockPuts).count)
        #expect(Set(blockPuts) == Set(try Self.keys(store, "blocks/")))
        #expect(try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("other"))).verify().isClean)
    }

    @Test func locksLetIndexesOfOtherSourcesRunAndKeepExclusiveWritersAlone() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let repo = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        Self.snapshot(tmp.sub("s1"), files: 100)
        // Another host indexing source 'mail', alive.
        let other = try LockObject.acquire(.source("mail"), in: store, wait: 0) { _ in }
        try Self.index(repo, "home", tmp.sub("s1"), at: 1_000)
        #expect(try repo.points().count == 1)
        // gc and forget are exclusive: they wait for it, then refuse naming the holder.
        #expect {
            try repo.withWriterLock(wait: 0.5) { try repo.collectGarbage() }
        } throws: { e in
            guard case SnapdexError.repositoryBusy(_, let holder) = e else { return false }
            return holder.contains(other.key) && holder.contains("source 'mail'")
        }
        other.release()
        #expect(try repo.withWriterLock { try repo.collectGarbage() } == 0)
        #expect(try Self.keys(store, "locks/").isEmpty)
    }

    @Test func aDeadHostsLockGoesStaleAndIsNamed() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let repo = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        let now = LockObject.nowSeconds
        let dead = LockObject.Record(id: "00112233445566778899aabbccddeeff", scope: "exclusive", source: nil, host: "gone-host", pid: 4242,
                                     startedSeconds: now - 600, heartbeatSeconds: now - 500, expiresSeconds: now - 380)
        try store.put("locks/" + dead.id, Array(try JSONEncoder().encode(dead)))
        _ = try repo.withWriterLock { try repo.collectGarbage() }
        #expect(repo.mirror!.notes.contains { $0.contains("locks/" + dead.id) && $0.contains("gone-host") && $0.contains("presumed dead") })
        #expect(try Self.keys(store, "locks/").isEmpty)
    }

    @Test func gcDeletesUnreferencedBlocksButNotThoseNewerThanTheOldestLiveLock() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let repo = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cache")))
        Self.snapshot(tmp.sub("s1"), files: 100)
        try Self.index(repo, "home", tmp.sub("s1"), at: 1_000)
        let live = Set(try Self.keys(store, "blocks/"))
        let old = "blocks/ab/" + String(repeating: "ab", count: 32)
        let fresh = "blocks/cd/" + String(repeating: "cd", count: 32)
        try store.put(old, [1, 2, 3])
        try store.put(fresh, [4, 5, 6])
        store.age(old, seconds: 3_600)
        #expect(try repo.withWriterLock { try repo.collectGarbage() } == 1)
        #expect(Set(try Self.keys(store, "blocks/")) == live.union([fresh]))
    }

    @Test func aDamagedBlockObjectIsReportedAndNeverCached() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let hostA = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheA")))
        Self.snapshot(tmp.sub("s1"), files: 200)
        try Self.index(hostA, "home", tmp.sub("s1"), at: 1_000)
        let key = try Self.keys(store, "blocks/")[0]
        try store.put(key, Array("not a block".utf8))
        let hostB = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB")))
        let report = try hostB.verify()
        #expect(report.damagedBlocks.map(\.hash) == [String(key.split(separator: "/").last!)])
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("cacheB/") + key))
    }

    @Test func theBlockCacheKeepsToItsCap() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let writer = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheA")))
        Self.snapshot(tmp.sub("s1"), files: 6_000)
        try Self.index(writer, "home", tmp.sub("s1"), at: 1_000)
        let total = try store.list(prefix: "blocks/").reduce(Int64(0)) { $0 + $1.size }
        let cap = total / 2
        let reader = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB"), limit: cap))
        #expect(try reader.verify().isClean)
        _ = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB"), limit: cap))
        var cached: Int64 = 0
        let e = FileManager.default.enumerator(atPath: tmp.sub("cacheB/blocks"))
        while let rel = e?.nextObject() as? String {
            if let a = try? FileManager.default.attributesOfItem(atPath: tmp.sub("cacheB/blocks/") + rel), a[.type] as? FileAttributeType == .typeRegular {
                cached += (a[.size] as? Int64) ?? 0
            }
        }
        #expect(cached > 0 && cached <= cap)
    }

    /// The cap is kept from the cache index, not a listing of every cached block: an open of a
    /// cache that fits lists nothing; one over the cap, or whose index is missing or damaged,
    /// lists it once, trims it, and records the true total.
    @Test func theBlockCacheIndexKeepsTheCapWithoutListingAndIsNeverTrustedDamaged() throws {
        let tmp = TempDir()
        let store = TestFolderStore(root: tmp.sub("bucket"))
        let writer = try Repository.create(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheA")))
        // Many blocks: five snapshots of 6,000 files whose contents all differ.
        for i in 0..<5 {
            for d in 0..<60 { for f in 0..<100 { Tree.write(tmp.sub("s\(i)/d\(d)/f\(f).txt"), String(repeating: "\(i)", count: f + d + i)) } }
            try Self.index(writer, "home", tmp.sub("s\(i)"), at: 1_000 + Int64(i))
        }
        let objects = try store.list(prefix: "blocks/")
        let total = objects.reduce(Int64(0)) { $0 + $1.size }
        #expect(objects.count >= 20)
        func cached() -> Int64 {
            var sum: Int64 = 0
            let e = FileManager.default.enumerator(atPath: tmp.sub("cacheB/blocks"))
            while let rel = e?.nextObject() as? String {
                if let a = try? FileManager.default.attributesOfItem(atPath: tmp.sub("cacheB/blocks/") + rel), a[.type] as? FileAttributeType == .typeRegular {
                    sum += (a[.size] as? Int64) ?? 0
                }
            }
            return sum
        }
        let index = BlockCacheIndex(path: tmp.sub("cacheB/block-cache"))
        func open(cap: Int64) throws -> StoreMirror {
            try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB"), limit: cap)).mirror!
        }
        // A reader that reads every block keeps near the cap as it goes, counting each block.
        var cap = total / 3
        let reader = try Repository.open(store: store, cache: StoreCacheOptions(directory: tmp.sub("cacheB"), limit: cap))
        #expect(try reader.verify().isClean)
        #expect(reader.mirror!.cacheListings >= 2, "it trimmed as it read")
        #expect(cached() <= cap + objects.map(\.size).max()!)
        #expect(try #require(index.read()) >= cached(), "never counted too low")
        // The next open trims it under the cap if it is over, and records the true total.
        _ = try open(cap: cap)
        #expect(cached() <= cap && index.read() == cached())
        // A cache that fits: no listing.
        #expect(try open(cap: cap).cacheListings == 0)
        // A damaged index is counted again, whatever it claims.
        for damage in ["snapdex-block-cache 1 0 0000000000000000\n", "snapdex-block-cache 1 0", "", "\u{0}\u{1}"] {
            try Data(damage.utf8).write(to: URL(fileURLWithPath: index.path))
            cap = cached() - 1
            #expect(try open(cap: cap).cacheListings == 1, "\(damage.debugDescription)")
            #expect(cached() <= cap && cached() > 0 && index.read() == cached())
        }
        try FileManager.default.removeItem(atPath: index.path)
        #expect(try open(cap: cap).cacheListings == 1)
        #expect(index.read() == cached())
        #expect(try open(cap: cap).cacheListings == 0)
    }
}
