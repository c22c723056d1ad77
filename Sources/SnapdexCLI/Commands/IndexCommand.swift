import ArgumentParser
import SnapdexCore

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index snapshot directories into full catalogs (restore points).",
        discussion: """
            With DIR, indexes that one directory as a restore point of --source at --at (default: \
            the time in the directory's name, else its mtime); a source that does not exist yet \
            is created. Without DIR, indexes every directory under the source's snapshots folder \
            that has no index yet and that the source's --include/--exclude globs allow, oldest \
            first.

            Point times come from the snapshot's name, in the forms snapshot tools write \
            (text before and after the time is allowed):
              sanoid             autosnap_2026-11-21_03:00:01_daily   UTC (sanoid runs with TZ=UTC)
              pyznap             pyznap_2026-11-21_03:00:01_daily     local time
              syncoid            syncoid_HOST_2026-11-21:03:00:01-GMT+01:00
              zfs-auto-snapshot  zfs-auto-snap_daily-2026-11-21-0300  UTC
              zrepl              zrepl_20261121_030001_000            UTC
              znapzend           2026-11-21-030000                    local time
              btrbk              home.20261121T0300, home.20261121T030001+0100
              NetApp / ONTAP     .snapshot/daily.2026-11-21_0010      local time
              Samba / Windows    @GMT-2026.11.21-03.00.00             UTC
              Synology           #snapshot/GMT+01-2026.11.21-03.00.00 the zone named
              QNAP               @Recently-Snapshot/GMT+01_2026-11-21_0300
              snapper            .snapshots/42/snapshot               info.xml's <date> (UTC)
              Timeshift          snapshots/2026-11-21_03-00-01/localhost (rsync) or /@ (btrfs)
              LVM, scripts, ISO  home-2026-11-21, 20261122, 2026-11-20_0300, 2026-11-21T03:00:00Z

            A time without a zone is local time. snapper's N/snapshot and Timeshift's \
            NAME/localhost (or NAME/@) are indexed, never the info.xml or info.json beside \
            them; DIR may name either level. A date that does not exist (2026-13-45) is not a \
            time. With --time-from auto (the default) a snapshot whose name holds no time gets \
            its folder's mtime and a warning, printed even with -q; --time-from name makes it \
            an error; --time-from mtime always uses the mtime (rsnapshot's daily.0).

            Each point records its snapshot folder's identity (device, inode, and the names and \
            inodes of a few entries). When a rotation renames a snapshot (rsnapshot's daily.0 \
            becoming daily.1), the next run finds the folder that now holds it and records the \
            new path ("moved ..."); a new folder under an old name (`cp -al daily.1 daily.0`) \
            is a new snapshot and is indexed, whatever its name and mtime.

            Symlinks are never followed: a symlink in the snapshots folder (`latest`) is skipped \
            with a warning. An empty snapshot folder (a snapshot that failed to mount) is not \
            indexed: `index --source` skips it with a warning, `index DIR` refuses it unless \
            --allow-empty. Every warning printed is counted in the summary. Files that vanish during the walk are warnings, stored \
            with the session. A directory or entry that cannot be read (permissions, I/O errors) \
            makes the point partial: it is published without what could not be read, records \
            which paths those are (`snapdex points` shows it as partial; `ls` and `info` say so \
            on those paths), and each is printed even with -q. With --hash, files unchanged since \
            the previous index (same inode, size, mtime and ctime) reuse its hash without being read.

            Examples:
              snapdex index --source home
              snapdex index /mnt/snap/2026-11-21 --source web --at 2026-11-21T03:00:00Z --hash
              snapdex index /srv/rsnapshot/daily.0 --source backup --manual --label "before upgrade"

            EXIT STATUS: 0 indexed; 1 failure (nothing is published); 2 bad option; 4 partial \
            (published, but some paths could not be read: run it again as a user who can read \
            them, with --replace for a point that has an index: `snapdex index --source S \
            --replace` indexes every partial point of S again).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Argument(help: ArgumentHelp("One snapshot directory to index (default: every new one of the source).", valueName: "dir"), completion: .directory)
    var directory: String?
    @Option(help: "The source the restore point belongs to.", completion: .sourceName)
    var source: String
    @Option(help: ArgumentHelp("The point time, ISO 8601; a date alone means its midnight (default: from the directory name, else its mtime).", valueName: "time"))
    var at: String?
    @Option(help: ArgumentHelp(TimeSourceHelp.text + " Default: the source's (see source add).", valueName: "auto|name|mtime"))
    var timeFrom: String?
    @Flag(help: "Make a manual point, never expired by retention policy.")
    var manual = false
    @Flag(help: "Record the SHA-256 of every regular file.")
    var hash = false
    @Option(name: .customLong("exclude"), help: ArgumentHelp("Skip entries whose name (or, with a '/', whose path from the root) matches this glob. Repeatable.", valueName: "glob"))
    var excludes: [String] = []
    @Flag(help: "Do not descend into other file systems.")
    var oneFileSystem = false
    @Option(help: ArgumentHelp("A label stored with the point.", valueName: "text"))
    var label: String?
    @Flag(help: "Index again a source and point time that already have an index, replacing it; without DIR, index again the source's partial points.")
    var replace = false
    @Option(help: ArgumentHelp("Keep this point at least until this time (a date alone means the end of that day), or 'never', whatever the policy.", valueName: "time"))
    var keepUntil: String?
    @Flag(help: "Index DIR even when it is empty (by default an empty folder is taken for a snapshot that failed to mount).")
    var allowEmpty = false
    @Flag(help: "Print the summary as one JSON object per point (a summary object when nothing was indexed).")
    var json = false

    func validate() throws {
        try refuseEmptyPaths(["DIR": directory])
        if directory == nil && at != nil { throw ValidationError("--at needs a DIR: it names the time of that one snapshot") }
        if let timeFrom { try TimeSourceHelp.validate(timeFrom) }
    }

    func run() throws {
        let repo = try repository.open()
        var options = IndexOptions(source: source, directory: directory)
        options.at = try parseTime(at)
        options.timeFrom = timeFrom.flatMap(TimeSource.init(rawValue:))
        options.manual = manual
        options.hash = hash
        options.walk = WalkOptions(excludes: excludes, oneFileSystem: oneFileSystem)
        options.label = label
        options.replace = replace
        options.keepUntil = try parseHold(keepUntil, option: "--keep-until")
        options.wait = wait.wait
        options.allowEmpty = allowEmpty
        options.commandLine = SnapdexCommand.typed
        let out = Output.current
        let indexer = Indexer(repository: repo)
        indexer.willIndex = { dir, time in Log.info("indexing \(dir) as \(source)@\(TimeDisplay.reference(time))") }
        // A guessed point time or a skipped folder is a result people must see, so -q does not
        // hide it; each one printed is counted in the summary.
        var runWarnings = 0
        indexer.warning = { w in
            runWarnings += 1
            out.error("snapdex: warning: \(w)")
        }
        // A run of several points prints one line per point and a total; one DIR, a summary.
        var many = false
        var progress = ProgressLine()
        progress.expected = (try? repo.points(source: source))?.max { $0.pointTime < $1.pointTime }.map { UInt64($0.entries) }
        indexer.planned = { n in
            many = n > 1
            progress.points = n
        }
        let drawProgress = out.stderrIsTerminal && !Log.quiet
        if drawProgress {
            indexer.progress = { p in out.error("\r\(progress.text(entries: p.entries, bytes: p.bytes, seconds: p.seconds))\u{1B}[K", newline: false) }
        }
        indexer.didIndex = { s in
            if drawProgress { out.error("\r\u{1B}[K", newline: false) }
            for w in s.warnings where !s.unreadablePaths.contains(w) { Log.warning(w) }
            // What the point lacks is a result, not chatter: printed even with -q.
            for w in s.unreadablePaths { out.error("snapdex: warning: \(w)") }
            if s.isPartial {
                out.error("snapdex: \(s.source)@\(s.time) is partial: \(s.unreadable) path(s) could not be read and are missing from it")
            }
            if json {
                out.line(bytes: IndexCommand.json(s))
            } else if !Log.quiet {
                IndexCommand.report(s, brief: many, runWarnings: many ? 0 : runWarnings).forEach(out.line)
            }
            out.flush()
            progress.point += 1
            progress.expected = UInt64(s.entries)
        }
        indexer.didRelocate = { r in
            if json {
                var o = JSONObject()
                o.string("relocated", r.id)
                o.string("source", r.source)
                o.string("time", r.time.exactRFC3339())
                o.string("from", r.from)
                o.string("to", r.to)
                out.line(bytes: o.encoded)
            } else {
                out.line("moved \(r.source)@\(TimeDisplay.reference(r.time)) (\(r.id.prefix(12))): its snapshot is now \(r.to), was \(r.from)")
            }
        }
        let summaries = try indexer.run(options)
        for path in indexer.filteredOut { Log.info("not indexing \(path): the source's --include/--exclude globs leave it out") }
        if summaries.isEmpty {
            let skipped = indexer.filteredOut.count
            let message = skipped == 0 ? "nothing to index: every snapshot of \(source) has an index"
                : "nothing to index: every snapshot of \(source) that its filters allow has an index (\(skipped) left out by --include/--exclude; see `snapdex source list`)"
            if json {
                var o = JSONObject()
                o.string("source", source)
                o.number("indexed", 0)
                o.number("filtered_out", skipped)
                o.number("warnings", runWarnings)
                o.string("message", message)
                StoreUsage.attach(to: &o)
                out.line(bytes: o.encoded)
            } else if !Log.quiet {
                out.advice(message)
            }
        }
        if summaries.count > 1 && !json && !Log.quiet { out.line(IndexCommand.total(summaries, runWarnings: runWarnings)) }
        if summaries.contains(where: \.isPartial) { throw CommandExit(ExitStatus.partial) }
    }

    static func json(_ s: IndexSummary) -> [UInt8] {
        var o = JSONObject()
        o.string("id", s.id)
        o.string("source", s.source)
        o.string("time", s.time)
        o.string("snapshot", s.snapshot)
        o.number("entries", s.entries)
        o.number("files", s.files)
        o.number("directories", s.directories)
        o.number("bytes", s.bytes)
        o.number("new_blocks", s.newBlocks)
        o.number("reused_blocks", s.reusedBlocks)
        o.number("bytes_written", s.bytesWritten)
        o.number("catalog_bytes", s.catalogBytes)
        o.number("hashed_files", s.hashedFiles)
        o.number("hashes_reused", s.hashesReused)
        o.double("seconds", s.seconds)
        o.number("warnings", s.warnings.count)
        o.string("replaced", s.replaced)
        o.string("status", s.isPartial ? "partial" : "ok")
        o.number("unreadable", s.unreadable)
        return o.encoded
    }

    /// One point's report: a line in a run of several (`brief`), else a short summary.
    /// `runWarnings`: the warnings printed before the walk (a guessed time), counted with the point's.
    static func report(_ s: IndexSummary, brief: Bool, runWarnings: Int = 0) -> [String] {
        let time = (try? TimeParser.read(s.time)).map(TimeDisplay.reference) ?? s.time
        let head = "indexed \(s.source)@\(time) as \(s.id.prefix(12)) from \(s.snapshot)"
        if brief {
            return ["\(head): \(Format.count(s.entries, "entry", "entries")), \(Format.bytes(s.bytes)), "
                    + "\(Format.count(s.newBlocks, "new block")), \(String(format: "%.2f", s.seconds)) s"
                    + (s.warnings.isEmpty ? "" : ", \(Format.count(s.warnings.count, "warning"))")]
        }
        let other = s.entries - s.files - s.directories
        var lines = [head,
                     "  \(Format.count(s.entries, "entry", "entries")) (\(Format.count(s.files, "file")), \(Format.count(s.directories, "dir")), \(other) other), \(Format.bytes(s.bytes))",
                     "  \(Format.count(s.newBlocks, "new block")), \(s.reusedBlocks) reused; \(Format.bytes(UInt64(s.bytesWritten))) written; catalog \(Format.bytes(UInt64(s.catalogBytes)))"]
        if s.hashedFiles > 0 { lines.append("  \(Format.count(s.hashedFiles, "file")) hashed, \(Format.count(s.hashesReused, "hash", "hashes")) reused from the previous index") }
        if let r = s.replaced { lines.append("  replaced index \(r.prefix(12))") }
        lines.append("  \(String(format: "%.2f", s.seconds)) s, \(Format.count(s.warnings.count + runWarnings, "warning"))")
        if s.isPartial { lines.append("  partial: \(s.unreadable) path(s) could not be read") }
        return lines
    }

    /// The last line of a run of several points.
    static func total(_ all: [IndexSummary], runWarnings: Int = 0) -> String {
        let entries = all.reduce(0) { $0 + $1.entries }
        let written = all.reduce(0) { $0 + UInt64($1.bytesWritten) }
        let blocks = all.reduce(0) { $0 + $1.newBlocks }
        let seconds = all.reduce(0) { $0 + $1.seconds }
        let warnings = all.reduce(runWarnings) { $0 + $1.warnings.count }
        let sources = Set(all.map(\.source)).sorted().joined(separator: ", ")
        return "total: \(Format.count(all.count, "point")) of \(sources), \(Format.count(entries, "entry", "entries")), "
            + "\(Format.count(blocks, "new block")), \(Format.bytes(written)) written, \(String(format: "%.2f", seconds)) s, \(Format.count(warnings, "warning"))"
    }
}
