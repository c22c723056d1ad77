import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore files and folders of a restore point from its snapshot.",
        discussion: """
            Reads from the snapshot directory the point was indexed from. With --to DIR each \
            restored path keeps its path under DIR (/alice/docs/a.txt lands at \
            DIR/alice/docs/a.txt); --in-place writes under the source's live path. Folders restore \
            recursively. Types, modes, mtimes and atimes, symlinks, hard links among restored files, \
            extended attributes, empty directories and sparse holes are kept; owners too when run \
            as root. Every file is checked against the catalog (size and mtime, and SHA-256 when \
            recorded); a file that changed since indexing fails and the rest goes on. Every entry's \
            type, mode bits, owner, device numbers and link target must also be what the snapshot \
            holds (even with --no-verify); an entry where they disagree fails.

            Nothing is ever written outside the target, and no symlink in the target is followed: \
            every component is opened relative to its directory with O_NOFOLLOW.

            Conflicts: --skip (the default) leaves what is there; --overwrite replaces it; \
            --if-newer replaces it only when the snapshot's copy is newer; --keep-both writes \
            NAME.restored-YYYYMMDDTHHMMSS beside it (then -2, -3... when that name is taken). \
            --overwrite never replaces a directory with a file (the entry fails, in a --dry-run \
            too). Directories always merge. Temporary files \
            (.snapdex-PID-N.tmp) that a killed restore left in a directory restored into are removed, \
            and so are those (.snapdex-tar-PID-N.tmp) a killed --tar FILE left beside FILE.

            --in-place refuses when the live path is missing or not a directory (an unmounted \
            file system). --tar FILE writes beside FILE and renames the archive into place only \
            when every entry was archived; an existing FILE is replaced only with --overwrite. \
            --tar - refuses a terminal. With --dry-run nothing is written. Archive times are \
            exact; GNU tar extracts them exactly but warns "implausibly old time stamp" for any \
            time before 1970, and bsdtar 3.6.2 misreads a time before 1970 with a fraction of a \
            second (1969-12-31 23:59:59.123456789 comes out as 1970-01-01 00:00:00.876543211).

            From a partial point (see `snapdex points`), what could not be read when it was \
            indexed cannot be restored: each such path in the restored folders is named on \
            standard error (even with -q), and a path under a folder that could not be read is \
            an error that says so.

            Examples:
              snapdex restore home@2026-11-19 /alice/docs --to /tmp/rescue
              snapdex restore home@2026-11-19 /alice/docs/budget.xlsx --in-place --keep-both
              snapdex restore home@latest /alice --tar - | ssh backup 'cat > alice.tar'

            EXIT STATUS: 0 restored; 4 partial (some entries failed, others were restored or skipped); \
            1 failure (no path is in the point, every entry failed, or the archive was not written); \
            2 bad option.
            """)

    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The restore point.", completion: .pointReference)
    var point: String
    @Argument(help: "Paths within the snapshot to restore.", completion: .catalogPath)
    var paths: [String]
    @Option(help: ArgumentHelp("Restore under this directory.", valueName: "dir"), completion: .directory)
    var to: String?
    @Flag(help: "Restore under the source's live path.")
    var inPlace = false
    @OptionGroup var conflicts: ConflictOptions
    @Option(help: ArgumentHelp("Write a POSIX pax archive to FILE ('-' for standard output) instead.", valueName: "file"), completion: .file())
    var tar: String?
    @Flag(help: "Print JSON Lines: one object per entry and a summary object (not with --tar -, whose archive is standard output).")
    var json = false

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one path to restore") }
        try refuseEmptyPaths(["--to": to])
        if tar?.isEmpty == true { throw ValidationError("--tar is an empty path; name the archive file, or - for standard output") }
        if [to != nil, inPlace, tar != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --to DIR, --in-place or --tar FILE")
        }
        if json && tar == "-" {
            throw ValidationError("--json and --tar - both want standard output; write the archive with --tar FILE to get JSON")
        }
    }

    func run() throws {
        let repo = try repository.open()
        let p = try repo.resolve(point)
        let rels = try paths.map { try PathArgument.parse($0) }
        try Self.restore(repo: repo, point: p, paths: rels, to: to, inPlace: inPlace, tar: tar, conflicts: conflicts, json: json)
    }

    /// Shared with the browse shell's `restore`, whose `shouldStop` is Ctrl-C: the restore
    /// stops between entries and this throws `Interrupt.Cancelled`.
    static func restore(repo: Repository, point p: PointRecord, paths rels: [[UInt8]], to: String?, inPlace: Bool, tar: String?,
                        conflicts: ConflictOptions, json: Bool, shouldStop: (() -> Bool)? = nil) throws {
        let dryRun = conflicts.dryRun
        let out = Output.current
        var target: RestoreTarget
        if let tar {
            if tar == "-" {
                out.flush()
                target = .tar(1)
            } else {
                target = .tarFile(tar)
            }
        } else if let to {
            target = .directory(to)
        } else {
            target = .inPlace
        }
        var options = RestoreOptions(paths: rels, target: target)
        options.policy = conflicts.policy
        options.dryRun = dryRun
        options.verify = !conflicts.noVerify
        // Events go to stdout only when stdout is not the archive.
        let printer: ((RestoreEvent) -> Void)? = (tar == "-") ? nil : { ev in
            guard dryRun || ev.action == "fail" || json else { return }
            if json {
                var o = JSONObject()
                o.string("path", bytes: ev.path)
                if !EntryJSON.isUTF8(ev.path) { o.string("path_b64", Data(ev.path).base64EncodedString()) }
                o.string("action", ev.action)
                o.string("reason", ev.reason)
                o.string("type", ev.type.word)
                o.number("size", ev.size)
                out.line(bytes: o.encoded)
            } else if ev.action != "fail" {
                out.line(bytes: Array("\(ev.action) ".utf8) + Format.quoted(ev.path) + Array((ev.reason.map { "  (\($0))" } ?? "").utf8))
            }
        }
        let progress: ((Int, UInt64, Double) -> Void)? = out.stderrIsTerminal ? { n, bytes, secs in
            out.error("\r\(n) entries  \(Format.bytes(bytes))  \(Format.bytes(UInt64(Double(bytes) / max(secs, 0.001))))/s   ", newline: false)
        } : nil
        Log.info("restoring \(rels.count) path(s) of \(p.source)@\(TimeDisplay.reference(p.pointTime)) from \(p.snapshot)")
        let s = try repo.restore(point: p, options: options, events: printer, progress: progress, shouldStop: shouldStop)
        if progress != nil { out.error("\r\u{1B}[K", newline: false) }
        if s.cancelled {
            let done = "\(Format.count(s.files, "file")), \(Format.count(s.directories, "dir")), \(Format.count(s.links, "link")), \(s.others) other"
            if let tar {
                out.error("\nrestore stopped: \(tar) was not written (\(done) had been archived)")
            } else {
                out.error("\nrestore stopped: \(done) restored before it, the rest not")
            }
            throw Interrupt.Cancelled()
        }
        // A partial point lacks what could not be read: say what the restored subtrees lack.
        if p.unreadable > 0 {
            let lacking = try repo.manifest(of: p).unreadable.listed.filter { u in
                rels.isEmpty || rels.contains { PathBytes.isWithin(u.path, $0) }
            }
            for u in lacking { out.error("snapdex: warning: \(u.note)") }
        }
        // Paths quoted as `ls` does: a newline or a byte that is not UTF-8 in a name stays visible.
        func shown(_ path: [UInt8]) -> String { String(decoding: Format.quoted(path), as: UTF8.self) }
        for f in s.failures { out.error("snapdex: error: \(shown(f.path)): \(f.message)") }
        // Even with -q: what was written is not what the point recorded.
        for d in s.differences { out.error("snapdex: warning: \(shown(d.path)): \(d.message)") }
        for w in s.warnings { Log.warning(w) }
        if s.staleTempFilesRemoved > 0 {
            Log.warning("removed \(s.staleTempFilesRemoved) temporary file(s) left by an interrupted restore")
        }
        let summaryLine = "\(dryRun ? "would restore" : "restored") \(Format.count(s.files, "file")), \(Format.count(s.directories, "dir")), "
            + "\(Format.count(s.links, "link")), \(s.others) other (\(Format.bytes(s.bytes))); \(s.skipped) skipped, \(s.replaced) replaced, \(s.failed) failed"
        if json && tar != "-" {
            var o = JSONObject()
            o.bool("dry_run", dryRun)
            o.number("files", s.files)
            o.number("directories", s.directories)
            o.number("links", s.links)
            o.number("others", s.others)
            o.number("bytes", s.bytes)
            o.number("skipped", s.skipped)
            o.number("replaced", s.replaced)
            o.number("failed", s.failed)
            o.double("seconds", s.seconds)
            StoreUsage.attach(to: &o)
            out.line(bytes: o.encoded)
        } else if tar == "-" {
            if !Log.quiet { out.error(summaryLine) }
        } else if s.unwrittenArchive == nil, dryRun || !Log.quiet {
            out.line(summaryLine)
        }
        if let path = s.unwrittenArchive {
            throw SnapdexError.archiveNotWritten(path: path, reason: "\(s.failed) of its entries failed (see above)", oldKept: FileManager.default.fileExists(atPath: path))
        }
        if s.exitStatus != ExitStatus.success { throw CommandExit(s.exitStatus) }
    }
}

/// How restore treats what is already there; shared by `restore` and the shell's `restore`.
struct ConflictOptions: ParsableArguments {
    @Flag(help: "Leave existing entries alone (default).")
    var skip = false
    @Flag(help: "Replace existing entries (and an existing --tar FILE).")
    var overwrite = false
    @Flag(help: "Replace existing entries only when the snapshot's copy is newer.")
    var ifNewer = false
    @Flag(help: "Keep existing entries and write the restored ones beside them.")
    var keepBoth = false
    @Flag(help: "Print what would be written, skipped or replaced, and why; write nothing.")
    var dryRun = false
    @Flag(help: "Restore files even if they no longer match the catalog.")
    var noVerify = false

    var policy: ConflictPolicy {
        overwrite ? .overwrite : ifNewer ? .ifNewer : keepBoth ? .keepBoth : .skip
    }

    func validate() throws {
        if [skip, overwrite, ifNewer, keepBoth].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --skip, --overwrite, --if-newer, --keep-both")
        }
    }
}
