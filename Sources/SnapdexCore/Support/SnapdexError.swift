/// Everything that can go wrong, each case worded as what happened and what to do about it.
///
/// `exitCode` is the one place that maps failures to exit statuses:
/// 1 failure, 2 usage, 3 damaged data found, 4 partial (some items failed).
public enum SnapdexError: Error, CustomStringConvertible, Equatable {
    case repositoryMissing(path: String)
    /// `--repo` names something that exists but is no repository (a file, a folder of other
    /// things): `init` would refuse it, so the advice is only to name the right one.
    case notARepository(path: String, what: String)
    case repositoryExists(path: String)
    case repositoryLocked(path: String, pid: Int32?)
    /// Another writer of this host holds its cache of a repository on object storage.
    case storeCacheLocked(location: String, cache: String, pid: Int32?)
    case repositoryNewerFormat(path: String, found: Int, supported: Int)
    case invalidSourceName(String)
    case sourceUnknown(String)
    case sourceExists(String)
    case sourceHasIndexes(String, count: Int)
    case sourceHasNoSnapshotsFolder(String)
    case snapshotDirectoryMissing(String)
    /// `source add/set --live-path` names a directory that does not exist.
    case livePathNotFound(String)
    /// `--time-from name` and a snapshot whose name holds no time (`why` says what was wrong);
    /// `retry` is the index command that uses the folder's mtime instead.
    case snapshotNameHasNoTime(path: String, why: String, retry: String)
    /// A folder to index as one snapshot holds the source's snapshots (`advice`: what to run).
    case snapshotsFolderNotSnapshot(path: String, advice: String)
    case snapshotGone(point: String, path: String)
    case snapshotReplaced(point: String, path: String)
    case notADirectory(String)
    /// `index DIR` of a folder with no entries (a snapshot that failed to mount); `retry` indexes it anyway.
    case snapshotEmpty(path: String, retry: String)
    case pointUnknown(String)
    /// `SOURCE@` with no time, or an empty id: a script's unset variable, never `latest`.
    case pointReferenceEmpty(String, source: String?)
    case pointAmbiguous(String, candidates: [String])
    /// `SOURCE@TIME` where several points share that time (sanoid's daily and hourly at one instant).
    case pointTimeShared(String, ids: [String])
    /// forget or `source remove --purge` of points under a hold; `release` names the command that releases the first.
    case pointHeld(ids: [String], until: String, release: String)
    case pointExists(source: String, time: String, id: String)
    case pointExpired(String)
    case pathNotFound(point: String, path: String)
    /// The path is missing from a partial point because it (or a directory above it) could not be read.
    case pathNotRead(point: String, path: String, source: String, unreadable: UnreadablePath)
    /// `versions`: the path is in none of the source's points.
    case pathInNoPoint(source: String, path: String)
    /// `diff`: the path is in neither point.
    case pathInNeitherPoint(String, String, path: String)
    case pointNotExact(String, nearest: String, time: String)
    /// A destructive command's typed time matches points only when rounded to the second.
    case pointWithinSecond(String, candidates: [String])
    case livePathMissing(source: String, path: String)
    case snapshotFileMismatch(path: String, message: String)
    case archiveExists(path: String)
    case archiveToTerminal
    case archiveNotWritten(path: String, reason: String, oldKept: Bool)
    case archiveIncomplete(reason: String)
    case manifestDamaged(path: String, reason: String)
    /// A listed point whose manifest cannot be read; `why` is that error's message.
    case pointDamaged(point: String, why: String)
    /// A manifest the repository recorded is gone and no writer of it removed it: damage.
    /// `forget` is the command that drops the point, as typed (`SOURCE@TIME`).
    case manifestMissing(path: String, point: String, forget: String)
    /// A repository file the current user may not read (root wrote it 0600 into another
    /// user's repository): a permission problem, never damage.
    case permissionDenied(path: String, repository: String)
    case blockDamaged(hash: String, reason: String)
    case blockMissing(hash: String)
    case catalogNewerFormat(path: String, found: Int, supported: Int)
    case diskFull(path: String)
    case io(operation: String, path: String, errno: Errno)
    case invalidTime(String)
    case impossibleTime(String, reason: String)
    /// A typed time outside 1677..2262; `hint` names what to type instead, when there is something.
    case timeOutOfRange(String, hint: String?)
    case invalidArgument(String)
    case database(String)
    case databaseDamaged(path: String, reason: String)
    case databaseUnwritable(path: String, reason: String)
    /// `REPO/config` of a repository in a folder, missing or not reading back (`verify
    /// --repair` writes it anew).
    case configDamaged(path: String, reason: String)
    /// A `config` or `source.json` that is damaged where `verify --repair` does not reach (a
    /// bucket, a copy's target).
    case storedConfigDamaged(path: String, reason: String)
    case repositoryPathTaken(path: String, why: String)
    case catalogsUnreadable(paths: [String])
    /// `REPO/journal` whose checksum or lines are wrong: a killed writer's change is unknown.
    case journalDamaged(path: String, reason: String)
    /// A file named like a manifest that is a symbolic link, FIFO, folder or device: which
    /// blocks it would reference is unknown, so no block may be deleted.
    case manifestNotRegular(path: String, kind: String)
    /// A symbolic link (or file) where the repository has a folder that writers delete files
    /// in (`catalogs/SOURCE`, `blocks/XX`, `archive`): never followed, so nothing is deleted.
    case folderNotReal(path: String, kind: String)
    /// A file, FIFO or device where a `blocks/XX` folder belongs: `verify --repair` moves it aside.
    case blockFolderNotReal(path: String, kind: String)
    /// A source's `source.json` that is missing or does not read back as its configuration.
    case sourceConfigDamaged(path: String, source: String, reason: String)
    /// A repository file that must be a regular file is `kind` (a FIFO, a folder, a symbolic link...).
    case notRegularFile(path: String, kind: String)
    case interrupted(String)
    case partial(String)
    /// A repository on object storage where a writer's lock object conflicts with this one's.
    case repositoryBusy(location: String, holder: String)
    /// A command (or option) that does not work on a repository on object storage yet.
    case notOnObjectStorage(what: String, location: String)
    /// Sending a writer's changes to object storage failed part way; `why` is the store's error,
    /// `rerun` the command line to run again (`snapdex index ...`) when the CLI knows it.
    case storeSendFailed(location: String, why: String, rerun: String? = nil)
    /// An object-store key that is not a relative repository path of plain names.
    case objectKeyInvalid(key: String)
    /// Between Snapdex and an object store (S3): credentials, buckets, the network.
    case objectStorage(ObjectStorageError)
    /// An error of the repository a copy writes to (`target`, as given to --to): its advice
    /// names that repository, since run as printed it would check the copy's source instead.
    indirect case inCopyTarget(SnapdexError, target: String)

    public var description: String {
        switch self {
        case .repositoryMissing(let p):
            return "no Snapdex repository at \(p); create one with `snapdex init --repo \(p)` or point --repo / SNAPDEX_REPO at an existing one"
        case .notARepository(let p, let what):
            return "\(p) is \(what), not a Snapdex repository; point --repo or SNAPDEX_REPO at a repository"
        case .repositoryExists(let p):
            return "a Snapdex repository already exists at \(p); use it, or choose another --repo"
        case .repositoryLocked(let p, let pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "repository \(p) is locked by another writer (\(who)); wait for it to finish, or retry with --wait SECONDS"
        case .storeCacheLocked(let location, let cache, let pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "another snapdex of this host (\(who)) is writing to \(location) through this host's cache of it (\(cache)), and writers of one host take turns whatever their sources; wait for it to finish, or retry with --wait SECONDS"
        case .repositoryNewerFormat(let p, let found, let supported):
            return "repository \(p) has format version \(found) but this snapdex supports up to \(supported); upgrade snapdex"
        case .invalidSourceName(let n):
            return "invalid source name '\(n)': use letters, digits, '.', '_' and '-', not starting with '.' or '-'"
        case .sourceUnknown(let n):
            return "no source named '\(n)'; list sources with `snapdex source list` or add it with `snapdex source add \(n) --snapshots DIR`"
        case .sourceExists(let n):
            return "source '\(n)' already exists; pick another name or remove it first"
        case .sourceHasIndexes(let n, let c):
            return "source '\(n)' still has \(c) index(es); `snapdex source remove \(n) --purge` deletes them and their catalogs for good, or keep the source"
        case .sourceHasNoSnapshotsFolder(let n):
            return "source '\(n)' has no snapshots folder; set one with `snapdex source set \(n) --snapshots DIR`, or index one directory with `snapdex index DIR --source \(n)`"
        case .snapshotDirectoryMissing(let p):
            return "snapshot directory \(p) does not exist; check the path or mount the snapshot"
        case .livePathNotFound(let p):
            return "live path \(p) does not exist; check the path, or mount the file system it is on"
        case .snapshotNameHasNoTime(let p, let why, let retry):
            return "cannot read a point time from the name of snapshot \(p): \(why), and --time-from name allows no other; give the time with --at, or let the folder's mtime stand in: `\(retry)`"
        case .snapshotsFolderNotSnapshot(let p, let advice):
            return "\(p) holds snapshots rather than being one, so indexing it would make one point of them all; make it the source's snapshots folder: \(advice)"
        case .snapshotGone(let point, let p):
            return "the snapshot directory \(p) of point \(point) is gone; mount or restore the snapshot there, or pick another point (`snapdex points`)"
        case .snapshotReplaced(let point, let p):
            return "\(p) no longer holds the snapshot of point \(point) (another snapshot is there now) and no folder beside it has that snapshot's identity; its files cannot be read: pick another point (`snapdex points`)"
        case .notADirectory(let p):
            return "\(p) is not a directory; name the snapshot's top directory"
        case .snapshotEmpty(let p, let retry):
            return "\(p) is empty, so it is not indexed (a snapshot that failed to mount looks like this, and would make every file look deleted); mount it, or index it as empty: `\(retry)`"
        case .pointUnknown(let r):
            return "no restore point matches '\(r)'; list points with `snapdex points`"
        case .pointReferenceEmpty(let r, let source?):
            let s = ShellWord.quoted(source)
            return "'\(r)' names no time, so no restore point was used; name one as \(s)@latest or \(s)@TIME (list them with `snapdex points --source \(s)`)"
        case .pointReferenceEmpty:
            return "an empty point reference names no restore point; name one by id, SOURCE@latest or SOURCE@TIME (list them with `snapdex points`)"
        case .pointAmbiguous(let r, let c):
            return "'\(r)' matches \(c.count) restore points (\(c.prefix(5).joined(separator: ", "))); type more of the id"
        case .pointTimeShared(let r, let ids):
            return "'\(r)' names \(ids.count) restore points with the same time (\(ids.joined(separator: ", "))); name the one you mean by its id"
        case .pointHeld(let ids, let until, let release):
            let which = ids.count == 1 ? "point \(ids[0]) is" : "\(ids.count) points (\(ids.prefix(5).joined(separator: ", "))) are"
            return "\(which) held (kept until \(until)), so nothing was removed; release the hold with `\(release)`, or pass --force to remove held points anyway"
        case .pointExists(let s, let t, let id):
            return "source '\(s)' already has index \(id) of this folder at \(t); pass --replace to index the folder again (the new index replaces that one)"
        case .pointExpired(let r):
            return "restore point \(r) was expired or forgotten while it was being read; list points with `snapdex points`"
        case .pathNotFound(let point, let path):
            return "\(path) is not in restore point \(point); list it with `snapdex ls \(point)`"
        case .pathNotRead(let point, let path, let source, let u):
            let which = PathBytes.display(u.path) == Array(path.utf8) ? "it" : String(decoding: PathBytes.display(u.path), as: UTF8.self)
            return "\(path) is not in restore point \(point): \(which) could not be read when the point was indexed (\(u.errno)); see the points that hold it with `snapdex versions \(source) \(ShellWord.quoted(path))`"
        case .pathInNoPoint(let source, let path):
            let name = String(decoding: PathBytes.split(Array(path.utf8)).name, as: UTF8.self)
            return "\(path) is in no restore point of \(source); look for it by name with `snapdex find '\(name)' --source \(source)`"
        case .pathInNeitherPoint(let a, let b, let path):
            let parent = String(decoding: PathBytes.display(PathBytes.split(PathBytes.normalize(path) ?? []).dir), as: UTF8.self)
            return "\(path) is in neither restore point \(a) nor \(b); list what is there with `snapdex ls \(a) \(parent)`"
        case .pointNotExact(let r, let nearest, let time):
            return "'\(r)' is not the time of a restore point; the nearest point at or before it is \(nearest) at \(time): pass --nearest to use it, or name it by its id"
        case .pointWithinSecond(let r, let c):
            return "'\(r)' is not the time of a restore point, but \(c.count == 1 ? "a point lies" : "\(c.count) points lie") within that second: \(c.prefix(5).joined(separator: ", ")); name the one you mean by its exact reference or id"
        case .livePathMissing(let s, let p):
            return "the live path \(p) of source '\(s)' does not exist or is not a directory; mount it, or correct it with `snapdex source set \(s) --live-path DIR`"
        case .snapshotFileMismatch(let p, let message):
            return "\(p): \(message)"
        case .archiveExists(let p):
            return "\(p) already exists; pass --overwrite to replace it, or name another file"
        case .archiveToTerminal:
            return "refusing to write an archive to a terminal; redirect standard output to a file or a pipe, or use --tar FILE"
        case .archiveNotWritten(let p, let why, let kept):
            return "the archive \(p) was not written: \(why); the partial archive was removed\(kept ? " and the existing \(p) is unchanged" : "")"
        case .archiveIncomplete(let why):
            return "the archive is incomplete (\(why)); what was written is only part of it"
        case .permissionDenied(let p, let repo):
            return "cannot read \(p): permission denied; run snapdex as the user that owns \(repo)"
        case .pointDamaged(let point, let why):
            return "restore point \(point) is damaged: \(why)"
        case .manifestDamaged(let p, let why):
            return "manifest \(p) is damaged (\(why)); that point cannot be read, other points are unaffected: restore the file from a copy of the repository, or index its snapshot again"
        case .manifestMissing(let p, let id, let forget):
            return "the manifest of point \(id.prefix(12)), \(p), is missing and no snapdex command removed it (damage); the point cannot be read and its blocks are kept: put the file back from a copy target or a backup, or drop the point with `snapdex forget \(forget)`"
        case .blockDamaged(let h, let why):
            return "catalog block \(h) is damaged (\(why)); run `snapdex verify` to see which points it affects"
        case .blockMissing(let h):
            return "catalog block \(h) is missing; run `snapdex verify` to see which points it affects"
        case .catalogNewerFormat(let p, let found, let supported):
            return "\(p) has catalog format version \(found) but this snapdex reads up to \(supported); upgrade snapdex"
        case .diskFull(let p):
            return "no space left on the device holding \(p); free some space and run the command again (nothing was published)"
        case .io(let op, let p, let e):
            return "\(op) \(p): \(e)"
        case .invalidTime(let t):
            return "cannot read '\(t)' as a time; use ISO 8601 such as 2026-11-21 or 2026-11-21T03:00:00Z"
        case .impossibleTime(let t, let why):
            return "'\(t)' is not a time that exists: \(why)"
        case .timeOutOfRange(let t, let hint):
            return "'\(t)' is outside the times snapdex can store (\(Timestamp.rangeDescription))" + (hint.map { "; \($0)" } ?? "")
        case .invalidArgument(let why):
            return why
        case .database(let why):
            return "database error: \(why); if it persists, run `snapdex rescan` (it rebuilds the database from the catalog files, which it never changes)"
        case .databaseDamaged(let p, let why):
            return "the database \(p) is damaged (\(why)); run `snapdex rescan`, which replaces it with one rebuilt from the catalog files (they are the truth and are not touched)"
        case .databaseUnwritable(let p, let why):
            return "cannot write the database \(p) (\(why)); check the repository's permissions and free space"
        case .configDamaged(let p, let why):
            return "\(p) is damaged (\(why)); run `snapdex verify --repair`, which writes it anew (keeping the repository's id when it still reads), or put back a copy of it"
        case .storedConfigDamaged(let p, let why):
            return "\(p) is damaged (\(why)); restore it from a copy of the repository, or write it anew as docs/FORMAT.md says"
        case .repositoryPathTaken(let p, let why):
            return "cannot create a repository at \(p): \(why); choose a new or empty directory"
        case .catalogsUnreadable(let paths):
            let shown = paths.prefix(3).joined(separator: ", ") + (paths.count > 3 ? " and \(paths.count - 3) more" : "")
            return "cannot tell which blocks are in use: \(paths.count) manifest(s) cannot be read (\(shown)); nothing was deleted. Run `snapdex verify` to see the damage"
        case .journalDamaged(let p, let why):
            return "\(p) is damaged (\(why)), so what a killed writer was changing is unknown and nothing was changed; run `snapdex verify --repair`, which drops it and keeps every point whose manifest is on disk (then run the killed command again)"
        case .manifestNotRegular(let p, let kind):
            return "\(p) is \(kind), not a regular file: a manifest must be one, and no block is deleted while it is there; replace it with a regular copy of the manifest (or move it out of the repository), then run the command again"
        case .blockFolderNotReal(let p, let kind):
            return "\(p) is \(kind) where a folder of blocks belongs, so none of the blocks in it can be read and nothing was changed; run `snapdex verify --repair`, which moves it aside and writes those blocks again from the snapshots that still hold them"
        case .folderNotReal(let p, let kind) where kind != "a symbolic link":
            return "\(p) is \(kind), not a folder, so what belongs there cannot be read and nothing was changed; put the folder back in its place (or move this out of the repository, which drops what the folder held), then run the command again"
        case .folderNotReal(let p, let kind):
            return "\(p) is \(kind), not a real folder: snapdex never follows one out of the repository, so nothing was changed; replace it with a folder holding the files it leads to, or move it out of the repository, then run the command again"
        case .sourceConfigDamaged(let p, let source, let why):
            return "\(p) is damaged (\(why)); run `snapdex verify --repair`, which writes it anew from the points of '\(source)' (keeping them) and says what it could not restore, or put back a copy of it"
        case .notRegularFile(let p, let kind):
            return "\(p) is \(kind), not a regular file: the repository is damaged and nothing was changed; " + RepositoryFileRemedy.forIrregular(p)
        case .interrupted(let why):
            return "interrupted: \(why)"
        case .partial(let why):
            return why
        case .repositoryBusy(let location, let holder):
            return "repository \(location) is in use by another writer: lock \(holder); wait for it to finish, or retry with --wait SECONDS"
        case .notOnObjectStorage(let what, let location):
            return "\(what) does not work on a repository on object storage (\(location)) yet; run it on a local repository"
        case .storeSendFailed(let location, let why, let rerun):
            let command = rerun.map { "rerun `\($0)`" } ?? "rerun the same command"
            return "sending the changes to \(location) failed part way (\(why)); nothing half-done is visible there: \(command), and what was sent is not sent again"
        case .objectKeyInvalid(let key):
            return "'\(key)' is not a repository file name (a relative path of plain names, none '.', '..' or ending in .tmp); this is a bug in snapdex, please report it"
        case .objectStorage(let e):
            return e.description
        case .inCopyTarget(let e, let target):
            return "in the copy's target \(target): " + ShellWord.naming(repository: target, in: e.description)
        }
    }

    public var isNotRegularFile: Bool {
        if case .notRegularFile = self { return true }
        return false
    }

    public var isPermissionDenied: Bool {
        if case .permissionDenied = self { return true }
        return false
    }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch self {
        case .invalidSourceName, .invalidTime, .impossibleTime, .timeOutOfRange, .invalidArgument, .pointNotExact, .pointWithinSecond, .archiveToTerminal,
             .pointTimeShared, .pointReferenceEmpty:
            return ExitStatus.usage
        case .manifestDamaged, .manifestMissing, .pointDamaged, .blockDamaged, .blockMissing, .databaseDamaged, .configDamaged, .storedConfigDamaged, .catalogsUnreadable,
             .journalDamaged, .manifestNotRegular, .folderNotReal, .blockFolderNotReal, .sourceConfigDamaged, .notRegularFile:
            return ExitStatus.damaged
        case .partial: return ExitStatus.partial
        case .objectStorage(let e): return e.exitCode
        case .inCopyTarget(let e, _): return e.exitCode
        default: return ExitStatus.failure
        }
    }

    static func io(_ operation: String, _ path: String, _ e: Errno) -> SnapdexError {
        e == .noSpace ? .diskFull(path: path) : .io(operation: operation, path: path, errno: e)
    }
}

/// A word as a POSIX shell reads it back: plain when safe, else in single quotes.
extension SnapdexError {
    /// The error naming the command to rerun (`words`: the command line as typed after
    /// `snapdex`) where it advises running the same command again.
    public func advisingRerun(of words: [String]) -> SnapdexError {
        guard case .storeSendFailed(let location, let why, nil) = self, !words.isEmpty else { return self }
        return .storeSendFailed(location: location, why: why, rerun: (["snapdex"] + words.map(ShellWord.quoted)).joined(separator: " "))
    }
}

public enum ShellWord {
    public static func quoted(_ s: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%+,-./:=@_")
        if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// `text` with `--repo REPOSITORY` put into each command between backticks that names
    /// no repository of its own.
    public static func naming(repository: String, in text: String) -> String {
        var spans = text.split(separator: "`", omittingEmptySubsequences: false).map(String.init)
        // `snapdex help` needs none (and ignores one).
        for i in stride(from: 1, to: spans.count - 1, by: 2)
        where spans[i].hasPrefix("snapdex ") && !spans[i].contains("--repo") && !spans[i].hasPrefix("snapdex help") {
            spans[i] = "snapdex --repo \(quoted(repository)) " + spans[i].dropFirst("snapdex ".count)
        }
        return spans.joined(separator: "`")
    }

    /// The user's own command line (`words`, as typed after `snapdex`) with `option` set to
    /// `value` (a flag when nil) in place of any value they gave it, quoted for the shell: the
    /// retry an error advises keeps every other option they gave (--repo, --at, --label...).
    public static func retry(_ words: [String], setting option: String, to value: String? = nil) -> String {
        // After `--` every word is an argument, so the option goes before it.
        let end = words.firstIndex(of: "--") ?? words.count
        var kept: [String] = []
        var i = 0
        while i < end {
            if words[i] == option {
                i += value == nil ? 1 : 2
                continue
            }
            if !words[i].hasPrefix(option + "=") { kept.append(words[i]) }
            i += 1
        }
        kept += [option] + (value.map { [$0] } ?? [])
        kept += words[end...]
        return (["snapdex"] + kept.map(quoted)).joined(separator: " ")
    }
}

/// Exit statuses, documented in snapdex(1).
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 2
    public static let damaged: Int32 = 3
    public static let partial: Int32 = 4
}
