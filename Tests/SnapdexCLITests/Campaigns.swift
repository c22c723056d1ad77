import Foundation
import Testing
import SnapdexTestSupport
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Standing trust campaigns (issue 8): the real binary, run as processes against damaged
/// repositories, killed writers and readers racing writers. land.sh skips them (`--skip
/// Campaign`); `make test` runs them. `SNAPDEX_CAMPAIGN=long` runs more; every failure names
/// the seed (`SNAPDEX_CAMPAIGN_SEED`) and the case, so it can be replayed.
@Suite(.serialized) struct CampaignTests {
    let mode = CampaignMode.current

    // MARK: Damage matrix

    enum FileKind: String, CaseIterable { case block, manifest, database, journal, lock, config, sourceJSON = "source.json", sessions }
    enum Damage: String, CaseIterable { case bitFlip = "bit flip", truncate, zero, random, delete, swap }

    /// A reader and how its output is judged against the intact repository's.
    struct Reader {
        /// lines: exit 0 prints what the intact repository prints, exit 3 only lines it prints;
        /// status: only the exit status counts (its report names the damage).
        enum Judge { case lines, status, prefix, restoreTo, tar }
        var args: [String]
        var judge: Judge = .lines
    }

    static let readers: [Reader] = [
        Reader(args: ["sessions"]), Reader(args: ["points"]), Reader(args: ["points", "--json"]),
        Reader(args: ["ls", "home@latest", "/d01"]), Reader(args: ["ls", "home@latest", "/", "-R"]),
        Reader(args: ["find", "f01*"]), Reader(args: ["info", "home@latest", "/"]), Reader(args: ["info", "home@latest", "/d02/f002"]),
        Reader(args: ["versions", "home", "/d01/f000"]), Reader(args: ["diff", "home@2026-11-01", "home@latest"]),
        Reader(args: ["cat", "home@latest", "/d03/f007"], judge: .prefix),
        Reader(args: ["restore", "home@latest", "/d04", "--to", "TARGET"], judge: .restoreTo),
        Reader(args: ["restore", "home@latest", "/d05", "--tar", "TARGET"], judge: .tar),
        Reader(args: ["verify"], judge: .status), Reader(args: ["expire", "--dry-run"]),
        Reader(args: ["source", "list"]), Reader(args: ["policy", "show", "home"]),
    ]

    /// Writers, each run on its own copy of the damaged repository. `mayRemove`: it removes
    /// points by design, so an intact manifest going is not a loss.
    static func writers(_ fx: CampaignFixture) -> [(args: [String], mayRemove: Bool)] {
        [
            (["verify", "--repair"], false), (["index", fx.freshSnapshot, "--source", "home", "--hash"], false),
            (["index", "--source", "home"], false), (["expire"], true), (["forget", "home@2026-11-01", "--nearest"], true),
            (["gc"], false), (["rescan"], false), (["policy", "set", "home", "--keep-last", "3", "--apply-to-existing"], false),
            (["source", "remove", "work", "--purge"], true), (["point", "keep", "home@latest", "--until", "2027-01-01"], false),
        ]
    }

    /// What the cases found wrong, with enough to replay each; shared by parallel workers.
    final class Findings: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var lines = [String]()
        private(set) var runs = 0
        func fail(_ context: String, _ r: ToolRun, _ why: String) {
            note("\(context): `\(r.line)` exit \(r.status): \(why); stderr: \(r.err.prefix(300))")
        }
        func note(_ line: String) { lock.withLock { lines.append(line) } }
        func ran(_ count: Int = 1) { lock.withLock { runs += count } }
    }

    @Test func damageMatrixCampaign() throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = CampaignFixture()
        // What each reader prints on the intact repository.
        var expected = [Int: ToolRun]()
        var expectedTrees = [Int: [String: Data]]()
        let copy = fx.root + "/expect"
        RepoFiles.copy(fx.base, copy)
        for (i, reader) in Self.readers.enumerated() {
            let target = fx.root + "/expect-target-\(i)"
            let r = Snapdex(repo: copy, scratch: fx.root).run(reader.args.map { $0 == "TARGET" ? target : $0 })
            #expect(r.status == 0, "\(r.line): \(r.err)")
            expected[i] = r
            if reader.judge == .restoreTo { expectedTrees[i] = RepoFiles.tree(target) }
            if reader.judge == .tar { expected[i]?.out = RepoFiles.read(target) ?? Data() }
        }
        let writers = Self.writers(fx)
        let perCase = mode.pick(1, long: 3)  // targets drawn per kind and damage
        let writersPerCase = mode.pick(4, long: writers.count)
        var cases: [(FileKind, Damage)] = []
        for kind in FileKind.allCases { for damage in Damage.allCases { for _ in 0..<perCase { cases.append((kind, damage)) } } }
        let only = ProcessInfo.processInfo.environment["SNAPDEX_CAMPAIGN_CASE"].flatMap(Int.init)
        let findings = Findings()
        let started = Date()
        let (allCases, goodRuns, goodTrees) = (cases, expected, expectedTrees)
        // Two workers, each on its own folders; a case's random choices depend only on the
        // seed and its number, so `SNAPDEX_CAMPAIGN_CASE=N` replays case N alone.
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for (n, c) in allCases.enumerated() where n % 2 == worker && (only == nil || only == n) {
                var rng = SeededRandom(seed: mode.seed &+ UInt64(n) &* 0x9E37_79B9)
                let chosen = (0..<writersPerCase).map { writers[(n * writersPerCase + $0) % writers.count] }
                runCase(n, c.0, c.1, fx, slot: fx.root + "/w\(worker)", &rng, goodRuns, goodTrees, chosen, findings)
            }
        }
        // Cases that once failed, replayed on every run whatever the seed: zeros over a page of
        // snapdex.db that left NULLs in a row (a GRDB trap) or a unique index that disagreed
        // with its table (exit 1 where damage is 3); zeros in the manifest of the point expire
        // dooms, which expire removed on the database's word (exit 0 where its dry run said 3);
        // a deleted manifest, whose point `forget` then rightly called unknown (exit 1; found
        // in long mode). Each is followed by every writer, as in long mode.
        let regressions: [(seed: UInt64, n: Int, kind: FileKind, damage: Damage)] = [
            (577399, 14, .database, .zero), (48880, 14, .database, .zero), (48880, 8, .manifest, .zero),
            (70300, 30, .manifest, .delete),
        ]
        for r in regressions where only == nil {
            var rng = SeededRandom(seed: r.seed &+ UInt64(r.n) &* 0x9E37_79B9)
            runCase(r.n, r.kind, r.damage, fx, slot: fx.root + "/w0", &rng, goodRuns, goodTrees, writers, findings)
        }
        print("damage matrix campaign: \(cases.count) cases (\(FileKind.allCases.count) file kinds x \(Damage.allCases.count) damages x \(perCase)), each followed by \(Self.readers.count) readers, \(writersPerCase) of \(writers.count) writers (each on its own copy) and every advice printed: \(findings.runs) runs in \(Int(Date().timeIntervalSince(started))) s; \(findings.lines.count) failures; \(mode)")
        for line in findings.lines { print("campaign failure: \(line)") }
        for line in findings.lines.prefix(40) { Issue.record("\(line) [\(mode)]") }
    }

    /// Damages one file of a copy of the fixture, then runs every reader, the chosen writers
    /// and every advice printed.
    func runCase(_ n: Int, _ kind: FileKind, _ damage: Damage, _ fx: CampaignFixture, slot: String, _ rng: inout SeededRandom,
                 _ expected: [Int: ToolRun], _ expectedTrees: [Int: [String: Data]],
                 _ writers: [(args: [String], mayRemove: Bool)], _ findings: Findings) {
        try? FileManager.default.createDirectory(atPath: slot, withIntermediateDirectories: true)
        let damaged = slot + "/case"
        try? FileManager.default.removeItem(atPath: damaged)
        RepoFiles.copy(fx.base, damaged)
        if kind == .journal { rename(damaged + "/journal.at-rest", damaged + "/journal") }
        unlink(damaged + "/journal.at-rest")
        let (target, deleted) = apply(damage, to: kind, in: damaged, fx, &rng)
        let context = "case \(n) (\(kind.rawValue) \(damage.rawValue) of \(target))"
        // A deleted manifest is damage (REV11): its blocks stay until its point is forgotten,
        // so that putting it back helps, and verify says so (exit 3).
        let lostManifest = damage == .delete && kind == .manifest
        let missingBlocks = lostManifest ? fx.references[target] ?? [] : []
        let intact = Set(RepoFiles.manifests(damaged).map { RepoFiles.relative($0, to: damaged) }.filter {
            RepoFiles.read(damaged + "/" + $0) == RepoFiles.read(fx.base + "/" + $0)
        })
        var advice = [[String]]()
        var dryRunStatus: Int32?

        // Readers, in turn on one copy of the damaged repository.
        let work = slot + "/work"
        try? FileManager.default.removeItem(atPath: work)
        RepoFiles.copy(damaged, work)
        let s = Snapdex(repo: work, scratch: slot)
        for (i, reader) in Self.readers.enumerated() {
            let out = slot + "/target"
            try? FileManager.default.removeItem(atPath: out)
            let r = s.run(reader.args.map { $0 == "TARGET" ? out : $0 })
            advice += adviceCommands(in: r.err)
            if reader.args == ["expire", "--dry-run"] { dryRunStatus = r.status }
            // The session log has no checksum: a flipped letter inside a value, or an older copy
            // of the file, still reads as a valid (other) value. config and source.json do.
            if lostManifest && reader.args == ["verify"] && r.status != 3 { findings.fail(context, r, "a deleted manifest is damage: verify must exit 3") }
            // A deleted manifest's point is listed as missing (other lines than the intact ones).
            let undetectable = lostManifest || kind == .sessions && reader.args[0] == "sessions"
            judge(r, reader, expected[i]!, expectedTrees[i], output: out, context, undetectable: undetectable, findings)
        }
        findings.ran(Self.readers.count)
        checkBlocks(work, fx, deleted, context, "after the readers", findings, also: missingBlocks)

        // Writers, each on its own copy.
        for (args, mayRemove) in writers {
            try? FileManager.default.removeItem(atPath: work)
            RepoFiles.copy(damaged, work)
            let r = s.run(args)
            findings.ran()
            advice += adviceCommands(in: r.err)
            if r.trapped { findings.fail(context, r, "trapped") }
            // A deleted manifest's point stays recorded (missing): naming it names a known point.
            if r.status != 0 && r.status != 3 { findings.fail(context, r, "exit neither 0 nor 3") }
            if r.status == 3 && r.err.isEmpty { findings.fail(context, r, "exit 3 without a message") }
            // Damage stops expire and its dry run alike (case 8 once removed a damaged manifest
            // that retention doomed, on the database's word, and exited 0).
            if args == ["expire"], let dry = dryRunStatus, (dry == 3) != (r.status == 3) { findings.fail(context, r, "expire --dry-run exited \(dry)") }
            checkBlocks(work, fx, deleted, context, "after `\(r.line)`", findings, also: args[0] == "forget" ? [] : missingBlocks)
            if !mayRemove { checkManifests(work, intact, except: [], context, r, findings) }
            let v = s.run(["verify"])
            if v.trapped { findings.fail(context, v, "trapped after `\(r.line)`") }
        }

        // Every advice printed, run as printed (the repository from SNAPDEX_REPO).
        var seen = Set<[String]>()
        for words in advice where seen.insert(words).inserted {
            try? FileManager.default.removeItem(atPath: work)
            RepoFiles.copy(damaged, work)
            let r = s.run(words, passRepo: false)
            findings.ran()
            if r.trapped { findings.fail(context, r, "advice trapped") }
            if r.status == 2 { findings.fail(context, r, "advice is not a valid command line") }
            // Advice names the repository (`--repo R forget ...`) when it came from one the
            // default would not find; the command is what follows.
            let command = words.first == "--repo" ? Array(words.dropFirst(2)) : words
            checkBlocks(work, fx, deleted, context, "after advice `\(r.line)`", findings, also: command.first == "forget" ? [] : missingBlocks)
            let forgotten = command.first == "forget" ? Array(command.dropFirst()) : []
            checkManifests(work, intact, except: forgotten, context, r, findings)
        }
    }

    /// Damages one file of `kind`; returns its name and the blocks the damage itself removed.
    func apply(_ damage: Damage, to kind: FileKind, in repo: String, _ fx: CampaignFixture, _ rng: inout SeededRandom) -> (String, Set<String>) {
        let path: String, other: String?
        switch kind {
        case .block:
            let blocks = fx.present(fx.blockOrder, in: repo)
            path = blocks.randomElement(using: &rng)!
            other = blocks.filter { $0 != path }.randomElement(using: &rng)
        case .manifest:
            let manifests = fx.present(fx.manifestOrder, in: repo)
            path = manifests.randomElement(using: &rng)!
            other = manifests.filter { $0 != path }.randomElement(using: &rng)
        case .database: path = repo + "/snapdex.db"; other = fx.older + "/snapdex.db"
        case .journal: path = repo + "/journal"; other = fx.older + "/journal"
        case .lock: path = repo + "/lock"; other = fx.older + "/lock"
        case .config: path = repo + "/config"; other = fx.older + "/config"
        case .sourceJSON: path = repo + "/catalogs/home/source.json"; other = repo + "/catalogs/work/source.json"
        case .sessions: path = repo + "/sessions.jsonl"; other = fx.older + "/sessions.jsonl"
        }
        var bytes = [UInt8](RepoFiles.read(path) ?? Data())
        var deleted = Set<String>()
        switch damage {
        case .bitFlip:
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng) }
        case .truncate:
            bytes = Array(bytes.prefix(bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)))
        case .zero:
            if !bytes.isEmpty {
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                for i in start..<min(bytes.count, start + Int.random(in: 1...4096, using: &rng)) { bytes[i] = 0 }
            }
        case .random:
            bytes = (0..<max(bytes.count, 16)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case .delete: break
        case .swap:
            bytes = [UInt8](other.flatMap(RepoFiles.read) ?? Data())
        }
        if damage == .delete {
            chmod(path, 0o600)
            unlink(path)
            if kind == .database { unlink(path + "-wal"); unlink(path + "-shm") }
            if kind == .block { deleted.insert((path as NSString).lastPathComponent) }
        } else {
            RepoFiles.overwrite(path, Data(bytes))
            if kind == .block { chmod(path, 0o400) }
        }
        return (RepoFiles.relative(path, to: repo), deleted)
    }

    /// Judges one reader's run on a damaged repository against its run on the intact one.
    func judge(_ r: ToolRun, _ reader: Reader, _ good: ToolRun, _ goodTree: [String: Data]?, output: String, _ context: String,
               undetectable: Bool, _ findings: Findings) {
        if r.trapped { return findings.fail(context, r, "trapped") }
        // A deleted manifest's point is listed as missing (verify's exit 3 is checked by the
        // caller), and a deleted, older or bit-flipped session log is one with other lines:
        // only the exit status and traps count.
        if undetectable {
            if r.status != 0 && r.status != 3 && !r.err.contains("no restore point") { findings.fail(context, r, "exit neither 0 nor 3") }
            return
        }
        guard r.status == 0 || r.status == 3 else { return findings.fail(context, r, "exit neither 0 nor 3") }
        if r.status == 3 && r.err.isEmpty { findings.fail(context, r, "exit 3 without a message") }
        switch reader.judge {
        case .status:
            if r.status == 0 && r.out != good.out { findings.fail(context, r, "exit 0 but output differs from the intact repository's: \(r.text.prefix(200))") }
        case .lines:
            if r.status == 0 && r.out != good.out { return findings.fail(context, r, "exit 0 but output differs from the intact repository's: \(r.text.prefix(200))") }
            // Table columns are as wide as their widest cell, so spacing may differ.
            func squeezed(_ text: String) -> [String] { text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") } }
            let known = Set(squeezed(good.text))
            // `points` marks a point whose manifest it cannot read "damaged" (and exits 3): that
            // row is otherwise the intact one's, whose status was "ok".
            func undamaged(_ line: String) -> String {
                line.replacingOccurrences(of: " damaged ", with: " ok ").replacingOccurrences(of: "\"status\":\"damaged\"", with: "\"status\":\"ok\"")
            }
            if let bad = squeezed(r.text).first(where: { !known.contains($0) && !(r.status == 3 && known.contains(undamaged($0))) }) { findings.fail(context, r, "printed a line the intact repository does not: \(bad.prefix(200))") }
        case .prefix:
            if r.status == 0 ? r.out != good.out : !good.out.starts(with: r.out) { findings.fail(context, r, "wrong bytes: \(r.text.prefix(100))") }
        case .restoreTo:
            let tree = RepoFiles.tree(output)
            if r.status == 0 && tree != goodTree! { findings.fail(context, r, "exit 0 but restored other files") }
            for (name, data) in tree where goodTree![name] != data { findings.fail(context, r, "restored wrong bytes or names: \(name)") }
        case .tar:
            let tar = RepoFiles.read(output)
            if r.status == 0 && tar != good.out { findings.fail(context, r, "exit 0 but another archive") }
            if r.status != 0 && tar != nil { findings.fail(context, r, "left a failed archive") }
        }
    }

    /// No block that a manifest on disk references is gone (other than what the damage removed),
    /// nor any of `also` (those of a deleted manifest, whose point is not forgotten).
    func checkBlocks(_ repo: String, _ fx: CampaignFixture, _ deleted: Set<String>, _ context: String, _ when: String, _ findings: Findings,
                     also: Set<String> = []) {
        let present = Set(RepoFiles.blocks(repo).map { ($0 as NSString).lastPathComponent })
        let lost = fx.protectedBlocks(repo).union(also).subtracting(present).subtracting(deleted)
        if !lost.isEmpty { findings.note("\(context): \(when): \(lost.count) referenced block(s) deleted, e.g. \(lost.first!)") }
    }

    /// No intact manifest is gone, except those of points named in `except` (id prefixes).
    func checkManifests(_ repo: String, _ intact: Set<String>, except: [String], _ context: String, _ r: ToolRun, _ findings: Findings) {
        for m in intact where !FileManager.default.fileExists(atPath: repo + "/" + m) {
            let id = (m as NSString).lastPathComponent
            if except.contains(where: { id.hasPrefix($0) }) { continue }
            findings.fail(context, r, "an intact point's manifest is gone: \(m)")
        }
    }
}

// MARK: Kill loop

extension CampaignTests {
    /// A writer to kill, and how to set its stage on a fresh copy of the fixture.
    struct Victim {
        var name: String
        var args: (_ fx: CampaignFixture, _ repo: String, _ target: String) -> [String]
        var prepare: (_ repo: String, _ rng: inout SeededRandom) -> Void = { _, _ in }
    }

    static var victims: [Victim] { [
        Victim(name: "index") { fx, _, _ in ["index", fx.freshSnapshot, "--source", "home", "--hash"] },
        Victim(name: "expire") { _, _, _ in ["expire"] },
        Victim(name: "forget") { _, _, _ in ["forget", "home@2026-11-02", "--nearest"] },
        Victim(name: "gc", args: { _, _, _ in ["gc"] }, prepare: { repo, rng in
            // Blocks no manifest references, for gc to delete.
            for _ in 0..<200 {
                let name = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
                let dir = repo + "/blocks/" + name.prefix(2)
                try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: dir + "/" + name, contents: Data("orphan".utf8))
            }
        }),
        Victim(name: "policy set --apply-to-existing") { _, _, _ in ["policy", "set", "home", "--keep-last", "1", "--weekly", "2", "--apply-to-existing"] },
        Victim(name: "source remove --purge") { _, _, _ in ["source", "remove", "home", "--purge"] },
        Victim(name: "restore") { _, _, target in ["restore", "home@latest", "/d10", "/d11", "/d12", "/d13", "--to", target] },
    ] }

    @Test func killLoopCampaign() throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = CampaignFixture()
        var rng = SeededRandom(seed: mode.seed &+ 1)
        let trials = mode.pick(4, long: 30)
        let findings = Findings()
        var summary = [String]()
        for victim in Self.victims {
            // How long it runs unkilled, to spread the kills over its whole run.
            let repo = fx.root + "/kill", target = fx.root + "/kill-target"
            try? FileManager.default.removeItem(atPath: repo)
            try? FileManager.default.removeItem(atPath: target)
            RepoFiles.copy(fx.base, repo)
            victim.prepare(repo, &rng)
            let s = Snapdex(repo: repo, scratch: fx.root)
            let full = s.run(victim.args(fx, repo, target))
            #expect(full.status == 0, "\(full.line): \(full.err)")
            for trial in 0..<trials {
                try? FileManager.default.removeItem(atPath: repo)
                try? FileManager.default.removeItem(atPath: target)
                RepoFiles.copy(fx.base, repo)
                victim.prepare(repo, &rng)
                let delay = Double.random(in: 0...(full.seconds * 1.1), using: &rng)
                let context = "kill -9 of \(victim.name) after \(String(format: "%.3f", delay)) s (trial \(trial + 1))"
                let killed = s.run(victim.args(fx, repo, target), killAfter: delay)
                if killed.trapped { findings.fail(context, killed, "trapped") }
                checkAfterKill(victim, fx, s, repo, target, context, findings)
            }
            summary.append("\(victim.name) \(trials) (unkilled run \(String(format: "%.2f", full.seconds)) s)")
        }
        print("kill loop campaign: \(Self.victims.count * trials) trials (\(summary.joined(separator: ", "))); \(findings.lines.count) failures; \(mode)")
        for line in findings.lines.prefix(40) { Issue.record("\(line) [\(mode)]") }
    }

    /// After a kill: every published point verifies, the next restore and writer clean up.
    func checkAfterKill(_ victim: Victim, _ fx: CampaignFixture, _ s: Snapdex, _ repo: String, _ target: String, _ context: String, _ findings: Findings) {
        var v = s.run(["verify"])
        if v.status != 0 { findings.fail(context, v, "a published point does not verify before the next writer") }
        if victim.name == "restore" {
            let again = s.run(["restore", "home@latest", "/d10", "/d11", "/d12", "/d13", "--to", target, "--overwrite"])
            if again.status != 0 { findings.fail(context, again, "the next restore failed") }
            let left = RepoFiles.tmpFiles(target)
            if !left.isEmpty { findings.fail(context, again, "left \(left.count) temporary file(s), e.g. \(left[0])") }
            let restored = RepoFiles.tree(target)
            var snapshot = [String: Data]()
            for (name, data) in RepoFiles.tree(fx.snaps + "/home/" + fx.days[2]) where ["d10/", "d11/", "d12/", "d13/"].contains(where: name.hasPrefix) { snapshot[name] = data }
            if restored != snapshot { findings.fail(context, again, "the restored tree differs from the snapshot") }
        }
        let gc = s.run(["gc"])
        if gc.status != 0 { findings.fail(context, gc, "the next writer failed") }
        let tmp = RepoFiles.tmpFiles(repo)
        if !tmp.isEmpty { findings.fail(context, gc, "\(tmp.count) temporary file(s) left after the next writer, e.g. \(tmp[0])") }
        if FileManager.default.fileExists(atPath: repo + "/journal") { findings.fail(context, gc, "the journal is still there after the next writer") }
        var referenced = Set<String>()
        for m in RepoFiles.manifests(repo) {
            guard let refs = RepoFiles.references(ofManifest: m) else { findings.fail(context, gc, "manifest \(m) does not decode"); continue }
            referenced.formUnion(refs)
        }
        let present = Set(RepoFiles.blocks(repo).map { ($0 as NSString).lastPathComponent })
        if !present.subtracting(referenced).isEmpty { findings.fail(context, gc, "\(present.subtracting(referenced).count) unreferenced block(s) after gc") }
        if !referenced.subtracting(present).isEmpty { findings.fail(context, gc, "\(referenced.subtracting(present).count) referenced block(s) missing") }
        v = s.run(["verify"])
        if v.status != 0 { findings.fail(context, v, "does not verify after the next writer") }
    }
}

// MARK: Readers racing writers

extension CampaignTests {
    /// Runs writers in a loop on another thread until told to stop.
    final class WriterLoop: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        private(set) var runs = 0
        private(set) var failures = [String]()

        /// Without a snapshot, only rescans.
        func start(_ s: Snapdex, snapshot: String?) -> Thread {
            let t = Thread { [self] in
                var n = 0
                while !(lock.withLock { stopped }) {
                    n += 1
                    let day = String(format: "2026-12-%02d", 1 + n % 28), hour = String(format: "%02d", n / 28 % 24)
                    let rounds: [[String]] = snapshot.map { [["index", $0, "--source", "home", "--at", "\(day)T\(hour):00:00Z"], ["expire"],
                                 ["forget", "home@2026-11-03", "--nearest"], ["gc"], ["rescan"]] } ?? [["rescan"]]
                    for args in rounds {
                        let r = s.run(args + ["--wait", "30"])
                        lock.withLock {
                            runs += 1
                            if r.trapped || (r.status != 0 && !(args[0] == "forget" && r.status == 1)) { failures.append("`\(r.line)` exit \(r.status): \(r.err.prefix(300))") }
                        }
                    }
                }
            }
            t.start()
            return t
        }

        func stop() { lock.withLock { stopped = true } }
        var isDone: Bool { lock.withLock { stopped } }
    }

    @Test func readersRacingWritersCampaign() throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built in .build/debug; run `swift build`"); return }
        let fx = CampaignFixture()
        let repo = fx.root + "/race"
        RepoFiles.copy(fx.base, repo)
        let s = Snapdex(repo: repo, scratch: fx.root)
        s.ok(["policy", "set", "home", "--keep-last", "2"])
        let seconds = Double(mode.pick(15, long: 180))
        let readers: [[String]] = [["find", "f01*"], ["ls", "home@latest", "/", "-R"], ["verify"], ["points"],
                                   ["versions", "home", "/d01/f000"], ["diff", "home@2026-11-01", "home@latest"]]
        let loop = WriterLoop()
        let thread = loop.start(s, snapshot: fx.freshSnapshot)
        // Rescan (what every database error advises) also runs on its own, two at once.
        let rescans = WriterLoop()
        let rescanThread = rescans.start(s, snapshot: nil)
        let deadline = Date().addingTimeInterval(seconds)
        var iterations = 0, failures = [String]()
        var rng = SeededRandom(seed: mode.seed &+ 2)
        while Date() < deadline {
            let args = readers.randomElement(using: &rng)!
            let r = s.run(args)
            iterations += 1
            let vanished = r.err.contains("expired or forgotten") || r.err.contains("no restore point")
            if r.trapped || (r.status != 0 && !vanished) || (r.reportsDamage && !vanished) {
                failures.append("`\(r.line)` exit \(r.status) while writers ran: \(r.err.prefix(300))")
            }
        }
        loop.stop()
        rescans.stop()
        while !thread.isFinished || !rescanThread.isFinished { usleep(20_000) }
        let v = s.run(["verify"])
        #expect(v.status == 0, "after the race: \(v.err)")
        print("readers racing writers campaign: \(iterations) reader runs against \(loop.runs) writer runs in \(Int(seconds)) s; \(failures.count + loop.failures.count) failures; \(mode)")
        for f in (failures + loop.failures + rescans.failures).prefix(40) { Issue.record("\(f) [\(mode)]") }
    }
}
