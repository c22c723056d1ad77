import ArgumentParser
import Foundation
import SnapdexCore

struct RescanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescan",
        abstract: "Rebuild the database from the catalog files.",
        discussion: """
            The catalog files (source.json and manifests) are the truth; the database only \
            indexes them. rescan replaces snapdex.db with one rebuilt from them alone, so a \
            deleted or damaged database loses nothing, and rescan never changes a catalog file. \
            (Every command also brings the database up to date with the catalog files when it \
            opens the repository, so rescan is needed only for a damaged database.)

            Examples:
              snapdex rescan --repo /srv/snapdex

            A damaged journal (what a killed writer was changing) does not stop the rebuild: \
            the new database holds every point whose manifest is on disk, and rescan then says \
            to run `snapdex verify --repair`, which drops the journal.

            A point the old database records whose manifest is missing (and which no snapdex \
            command removed) is carried over to the new database, with its blocks: it is \
            damage, which rescan reports, not a point to lose.

            EXIT STATUS: 0 rebuilt; 3 some manifests were damaged and skipped, missing, or the \
            journal is damaged; 1 failure.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions

    func run() throws {
        repository.configureLogging()
        let r: RescanReport
        if case .objectStore = RepositoryAddress(repository.path) {
            // On object storage the database is this host's cache: rebuilt in it.
            r = try repository.open(rebuild: true).rescan(wait: wait.wait)
        } else {
            r = try Repository.rebuildDatabase(at: repository.path, wait: wait.wait)
        }
        let out = Output.current
        for s in r.skipped { out.error("snapdex: skipped: \(s)") }
        out.result("rebuilt the database: \(r.sources) source(s), \(r.points) point(s), \(r.blocks) block(s)")
        if let journal = r.journalDamage { out.error("snapdex: \(journal)") }
        if !r.missing.isEmpty {
            out.error("snapdex: kept the record of \(r.missing.count) point(s) whose manifest is missing (\(r.missing.map { String($0.prefix(12)) }.joined(separator: ", "))), and their blocks: put each manifest back from a copy target or a backup, or drop the point with `snapdex forget \(r.missing.joined(separator: " "))`")
        }
        if !r.skipped.isEmpty || r.journalDamage != nil || !r.missing.isEmpty { throw CommandExit(ExitStatus.damaged) }
    }
}
