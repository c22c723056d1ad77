import ArgumentParser
import Foundation
import SnapdexCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every catalog block decodes and matches its hash.",
        discussion: """
            Reads, decompresses, re-hashes and decodes every block of the named points (all \
            points when none is named), checks that every name in the catalogs is one a file \
            system can hold (not empty, '.', '..', nor with '/' or NUL, never twice in a \
            directory), and names each damaged block and every point it affects. Points expired \
            or forgotten while they are verified are skipped with a warning. Every source's \
            source.json is read as writers read it (its checksum matches, it is a regular \
            file), and one that is damaged or missing is named. A damaged config is named too, and \
            the rest is verified all the same (unless it still says a newer format).

            With --repair, each damaged or missing block is written again: the newest point that \
            uses it and whose snapshot directory still exists is indexed again in memory, and \
            when that gives back the block's exact bytes, the block file is rewritten (a block \
            stored as a change to another is written after that one). A folder, FIFO or \
            symbolic link where a block file belongs is never followed: a folder is moved aside \
            to HASH.damaged beside it, the others are replaced, and the line says which. Blocks \
            no snapshot gives back are named, with why, the points that use them and one \
            `snapdex forget` command for them all; when those points' snapshots are still there \
            (a hard-link copy such as `cp -al` changed only their files' change times and link \
            counts, which a state block records), also the `snapdex index --source` that indexes \
            them again afterwards, with the same names and contents. A damaged journal \
            (what a killed writer was changing, which writers refuse to finish) is removed, and \
            every point whose manifest is on disk is kept. A damaged config or source.json \
            is written anew: exactly as it was when one flipped bit explains the damage (its \
            checksum finds it), else a source.json from the source's points (its policy from \
            the newest, its snapshots folder from where they all lie; the live path, time source \
            and filters that the damaged file still holds readably are carried over and named; \
            the rest is named for `snapdex source set`), a config keeping the id it still holds. The damaged file (or \
            a folder or link in its place) is moved aside to NAME.damaged first.

            Examples:
              snapdex verify
              snapdex verify home@latest
              snapdex verify --repair

            EXIT STATUS: 0 no damage (or all of it repaired); 3 damage found (or left); 1 other \
            failure.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Flag(help: "Write damaged or missing blocks again from the snapshots that still hold them, and a damaged config or source.json anew.")
    var repair = false
    @Argument(help: "Points to verify (default: all).", completion: .pointReference)
    var points: [String] = []

    func run() throws {
        let out = Output.current
        // A damaged config stops every command, this one's opening included: repaired first.
        if repair, case .folder(let dir) = RepositoryAddress(repository.path), let fixed = try Repository.repairConfig(at: dir, wait: wait.wait) {
            show(fixed)
        }
        if repair, case .folder(let dir) = RepositoryAddress(repository.path) {
            for m in try Repository.repairBlockFolders(at: dir, wait: wait.wait) {
                out.result("moved \(m.path) (\(m.kind) where a folder of blocks belongs) aside to \(m.aside); what it hid is written again below from the snapshots that still hold it")
            }
        }
        // Without --repair a damaged config does not stop the run: every other damaged file
        // is named too, so the extent is known before anything is repaired.
        var configDamage: SnapdexError?
        let repo: Repository
        do {
            repo = try repository.open()
        } catch let e as SnapdexError {
            guard !repair, case .configDamaged = e, case .folder(let dir) = RepositoryAddress(repository.path) else { throw e }
            repo = try Repository.openDespiteDamagedConfig(at: dir, e)
            for note in repo.notes { Log.warning(note) }
            configDamage = e
        }
        let selected = try points.map { try repo.resolve($0) }
        if repair, let mirror = repo.mirror {
            // There only a source.json is written anew; blocks are not (yet).
            let refused = SnapdexError.notOnObjectStorage(what: "`snapdex verify --repair`", location: mirror.store.location)
            let fixed = try repo.repairSourceConfigs(wait: wait.wait)
            guard !fixed.isEmpty else { throw refused }
            for f in fixed { show(f) }
            let report = try repo.verify(points: selected)
            show(report)
            if !report.isClean { throw refused }
            return
        }
        var report = try repo.verify(points: selected)
        report.damagedRepositoryConfig = configDamage
        show(report)
        guard !report.isClean else { return }
        guard repair else {
            if let first = report.damagedRepositoryConfig ?? report.journalDamage ?? report.irregularManifests.first ?? report.irregularFiles.first ?? report.damagedConfigs.first {
                // Its own advice: neither is fixed by writing blocks or forgetting points.
                out.error("snapdex: damage found; \(first)")
            } else if !report.damagedBlocks.isEmpty, repo.mirror != nil {
                let ids = Set(report.damagedBlocks.flatMap(\.points)).map { String($0.prefix(12)) }.sorted().joined(separator: " ")
                out.error("snapdex: damage found; on object storage damaged blocks cannot be written again yet: remove the points that use them with `snapdex forget \(ids)` and index their snapshots again")
            } else if !report.damagedBlocks.isEmpty {
                out.error("snapdex: damage found; run `snapdex verify --repair` to write the damaged blocks again from the snapshots that still hold them")
            } else {
                let ids = report.damagedManifests.map(\.point).joined(separator: " ")
                out.error("snapdex: damage found; a point whose manifest is damaged cannot be read (other points are unaffected): restore the file from a copy of the repository, or remove it with `snapdex forget \(ids)` and index its snapshot again")
            }
            throw CommandExit(ExitStatus.damaged)
        }
        let repairs = try repo.repair(report, wait: wait.wait)
        if report.journalDamage != nil {
            out.result("dropped the damaged journal: every point whose manifest is on disk was kept; a command that was killed may be half done, so run it again")
        }
        for fixed in try repo.repairSourceConfigs(wait: wait.wait) { show(fixed) }
        var lost: [String] = []
        var lostPoints: Set<String> = []
        for r in repairs {
            if let from = r.repairedFrom {
                out.result("repaired block \(r.hash) from point \(from.prefix(12))" + (r.cleared.map { " (\($0))" } ?? ""))
            } else {
                let ids = r.points.map { String($0.prefix(12)) }
                let users = ids.isEmpty ? "no remaining point uses it" : "used by point(s) \(ids.joined(separator: ", "))"
                out.line("could not repair block \(r.hash): \(r.reason ?? "unknown"); \(users)")
                for id in ids where !lost.contains(id) { lost.append(id) }
                lostPoints.formUnion(r.points)
            }
        }
        // One command for them all: per block, the second would name points the first forgot.
        // Snapshots still there (only their files' state changed) are indexed again after it.
        if !lost.isEmpty {
            let forget = "forget the points that use them (`snapdex forget \(lost.sorted().joined(separator: " "))`)"
            if let sources = repo.sourcesIndexingAgain(points: lostPoints.sorted()), !sources.isEmpty {
                let index = sources.map { "`snapdex index --source \(ShellWord.quoted($0))`" }.joined(separator: ", ")
                out.advice("those blocks cannot be written again; \(forget), then index their snapshots, which are still there, again (\(index)): the new points get the same names and contents")
            } else {
                out.advice("no snapshot gives those blocks back; \(forget)")
            }
        }
        report = try repo.verify(points: selected.filter { p in (try? repo.point(id: p.id)) != nil })
        show(report)
        if !report.isClean {
            out.error("snapdex: damage remains after repair; see the lines above")
            throw CommandExit(ExitStatus.damaged)
        }
    }

    /// What `--repair` did about a config or source.json.
    private func show(_ fixed: ConfigFileRepair) {
        let out = Output.current
        if let aside = fixed.movedAside { out.result("moved the damaged \(fixed.path) aside to \(aside)") }
        switch fixed.how {
        case .corrected:
            out.result("repaired \(fixed.path): one flipped bit put back (its checksum matches again)")
        case .removedEmptySource:
            out.result("removed the empty folder of \(fixed.path) (no configuration, no points: a killed `source add` or `source remove` left it)")
        case .rewritten(let restored, let lost, let setWith):
            out.result("wrote \(fixed.path) anew: " + restored.joined(separator: "; "))
            if !lost.isEmpty, let setWith {
                let kept = fixed.movedAside.map { " (the damaged file, kept as \($0), may still show them)" } ?? ""
                out.line("  not known: \(lost.joined(separator: ", ")); if it had them\(kept), set them with `\(setWith)` and its options")
            }
        }
    }

    private func show(_ report: VerifyReport) {
        let out = Output.current
        for id in report.skipped { Log.warning("skipped: \(SnapdexError.pointExpired(String(id.prefix(12))))") }
        for m in report.damagedManifests { out.line("damaged manifest of point \(m.point.prefix(12)): \(m.reason)") }
        if let c = report.damagedRepositoryConfig { out.line("damaged repository configuration: \(c)") }
        if let j = report.journalDamage { out.line("damaged journal: \(j)") }
        for m in report.irregularManifests { out.line("not a manifest: \(m)") }
        for f in report.irregularFiles { out.line("not a regular file: \(f)") }
        for c in report.damagedConfigs { out.line("damaged source configuration: \(c)") }
        if report.wrongNamesFilters > 0 {
            Log.warning("\(report.wrongNamesFilters) filter(s) in find's cache names-filters did not match their names blocks (they hide hits); removed it, and the next `snapdex find` builds it again from the blocks")
        }
        for b in report.damagedBlocks {
            out.line("damaged block \(b.hash): \(b.reason); affects points: \(b.points.map { String($0.prefix(12)) }.joined(separator: ", "))")
        }
        let others = (report.damagedRepositoryConfig == nil ? "" : ", a damaged config")
            + (report.journalDamage == nil ? "" : ", a damaged journal")
            + (report.irregularManifests.isEmpty ? "" : ", \(report.irregularManifests.count) manifest name(s) that are not regular files")
            + (report.irregularFiles.isEmpty ? "" : ", \(report.irregularFiles.count) repository file(s) that are not regular files")
            + (report.damagedConfigs.isEmpty ? "" : ", \(report.damagedConfigs.count) damaged source configuration(s)")
        let verdict = report.isClean ? "no damage found" : "\(report.damagedBlocks.count) damaged block(s), \(report.damagedManifests.count) damaged manifest(s)" + others
        // Clean is the quiet case; damage is printed even with -q.
        if report.isClean && Log.quiet { return }
        out.line("verified \(report.pointsChecked) point(s), \(report.blocksChecked) block(s): \(verdict)")
    }
}
