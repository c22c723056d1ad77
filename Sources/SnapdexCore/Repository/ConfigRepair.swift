import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What `verify --repair` did about a damaged `config` or `source.json`.
public struct ConfigFileRepair: Sendable {
    public enum How: Sendable, Equatable {
        /// One flipped bit, found by the checksum: the file is exactly as it was written.
        case corrected
        /// Written anew: `restored` says what was kept or read back and from where, `lost`
        /// what is unknown, which the command `setWith` (and its options) sets.
        case rewritten(restored: [String], lost: [String], setWith: String?)
        /// An empty source folder with neither configuration nor points (what a killed
        /// `source add` or `source remove` leaves): removed.
        case removedEmptySource
    }
    public var path: String
    public var how: How
    /// Where what stood in the file's place (a folder, a symbolic link) was moved.
    public var movedAside: String?
}

extension Repository {
    /// The sources whose source.json cannot be believed: every source folder's is read, as a
    /// writer would read it (verify).
    func damagedSourceConfigs() -> [SnapdexError] {
        CatalogListing(catalogs: catalogsDirectory).sources.compactMap { name in
            guard let e = sourceConfigProblem(name), e.exitCode == ExitStatus.damaged else { return nil }
            return e
        }
    }

    /// Writes every damaged, missing or irregular source.json anew (`verify --repair`): one
    /// bit flipped is put back (the checksum finds it); otherwise the file is rebuilt from the
    /// source's points, which keep their manifests: its name, the policy its newest readable
    /// point was indexed under, and its snapshots folder when every point's snapshot lies in
    /// one folder that still exists. A folder or link in its place is moved aside first.
    public func repairSourceConfigs(wait: Double = 0) throws -> [ConfigFileRepair] {
        guard !damagedSourceConfigs().isEmpty else { return [] }
        return try withWriterLock(wait: wait) {
            var done: [ConfigFileRepair] = []
            for name in CatalogListing(catalogs: catalogsDirectory).sources {
                guard let problem = sourceConfigProblem(name), problem.exitCode == ExitStatus.damaged else { continue }
                done.append(try repairSourceConfig(name, problem))
            }
            return done
        }
    }

    private func repairSourceConfig(_ name: String, _ problem: SnapdexError) throws -> ConfigFileRepair {
        let path = sourceDirectory(name) + "/source.json"
        var aside: String?
        if problem.isNotRegularFile {
            aside = try Repository.moveAside(path)
        } else if let bytes = try? FileIO.readAll(path), let fixed = SealedJSON.correctingOneBit(bytes),
                  (try? SourceConfig.decodeFile(fixed, name: name)) != nil {
            try FileIO.writeAtomically(path, fixed, durable: true)
            try FileIO.syncDirectory(sourceDirectory(name))
            _ = try reconcile()
            return ConfigFileRepair(path: path, how: .corrected)
        }
        // What the damaged file still says (a regular file only: a link is never followed).
        let damaged = aside == nil ? (try? FileIO.readIfReadable(path)) ?? nil : nil
        // Kept for whoever wants to read what it held (a hand edit, say): never overwritten.
        if aside == nil && FileIO.exists(path) { aside = try Repository.moveAside(path) }
        let points = try points(source: name)
        if points.isEmpty && aside == nil {
            // Nothing to keep: a killed `source add` or `source remove` left the folder.
            FileIO.remove(path + ".tmp")
            if PathCalls.rmdir(sourceDirectory(name)) == 0 {
                try write { db in try Catalogue.deleteSource(name, in: db) }
                return ConfigFileRepair(path: path, how: .removedEmptySource)
            }
        }
        var config = rebuiltSourceConfig(name)
        var restored = ["name '\(name)'"]
        restored.append(config.policy.map { "policy \($0) (from its newest point)" } ?? "no policy (its newest point had none; it keeps everything)")
        if let folder = config.snapshots { restored.append("snapshots folder \(folder) (the folder of its points' snapshots)") }
        let carried = damaged.map { Self.carryOver(from: $0, into: &config) } ?? []
        if !carried.isEmpty {
            restored.append(carried.joined(separator: ", ") + " (read from the damaged file, whose checksum failed: check them with `snapdex source list`)")
        }
        try saveSource(config)
        var lost: [String] = []
        if config.snapshots == nil { lost.append("snapshots folder") }
        if !carried.contains(where: { $0.hasPrefix("live path") }) { lost.append("live path") }
        if !carried.contains(where: { $0.hasPrefix("time from") }) { lost.append("time from (now auto)") }
        if !carried.contains(where: { $0.hasPrefix("include") || $0.hasPrefix("exclude") }) { lost.append("include and exclude filters") }
        return ConfigFileRepair(path: path, how: .rewritten(restored: restored, lost: lost, setWith: "snapdex source set \(ShellWord.quoted(name))"),
                                movedAside: aside)
    }

    /// Takes from a damaged source.json the members that still read and hold what a writer
    /// would write (a live path or snapshots folder that is an absolute path to a folder, a
    /// time source, filter globs), into `config` where it has none; returns what was taken.
    /// The policy is never taken: the points' manifests hold the one in force.
    static func carryOver(from bytes: [UInt8], into config: inout SourceConfig) -> [String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return [] }
        func folder(_ key: String) -> String? {
            guard let p = object[key] as? String, p.hasPrefix("/"), !p.contains("\0"), FileIO.isDirectory(p) else { return nil }
            return p
        }
        func globs(_ key: String) -> [String]? {
            guard let g = object[key] as? [String], !g.isEmpty, g.allSatisfy({ !$0.isEmpty && $0.utf8.count < 4096 && !$0.contains("\0") }) else { return nil }
            return g
        }
        var taken: [String] = []
        if config.snapshots == nil, let p = folder("snapshots") {
            config.snapshots = p
            taken.append("snapshots folder \(p)")
        }
        if let p = folder("livePath") {
            config.livePath = p
            taken.append("live path \(p)")
        }
        let version = object["version"] as? Int ?? 1
        if let raw = object["timeFrom"] as? String, let t = TimeSource(rawValue: raw), !(t == .name && version < 2) {
            config.timeFrom = t
            taken.append("time from \(t.rawValue)")
        }
        if let g = globs("include") {
            config.include = g
            taken.append("include " + g.joined(separator: " "))
        }
        if let g = globs("exclude") {
            config.exclude = g
            taken.append("exclude " + g.joined(separator: " "))
        }
        return taken
    }

    /// Moves what stands at `path` (a damaged file, a folder, a symbolic link) to
    /// `path.damaged` (or `.damaged-2`, ...), never following it; returns where.
    /// `verify --repair` of a repository in a folder: each file (FIFO, device) standing where
    /// a `blocks/XX` folder belongs is moved aside under the writer lock, before anything is
    /// verified, so the blocks it hid are found missing and written again.
    public static func repairBlockFolders(at path: String, wait: Double = 0) throws -> [(path: String, kind: String, aside: String)] {
        guard let root = try? checkedRoot(absolute(path)) else { return [] }
        let lock = try WriterLock(path: root + "/lock", wait: wait)
        defer { lock.release() }
        return try RepositoryFolder.moveAsideBlockFolders(root: root)
    }

    static func moveAside(_ path: String) throws -> String {
        var n = 1
        while true {
            let aside = path + ".damaged" + (n == 1 ? "" : "-\(n)")
            if !FileIO.exists(aside) {
                if PathCalls.rename(path, aside) != 0 { throw SnapdexError.io("cannot move aside", path, .current) }
                return aside
            }
            n += 1
        }
    }

    /// `verify` (without --repair) of a repository in a folder whose config is damaged: the
    /// rest is opened all the same, read-only in effect, so the one run names every damaged
    /// file. Verify needs nothing from the config (each catalog file says its own version);
    /// only a config that still says a newer format, or a folder without catalogs, stops it.
    public static func openDespiteDamagedConfig(at path: String, _ damage: SnapdexError) throws -> Repository {
        guard case .configDamaged = damage else { throw damage }
        let root = absolute(path)
        struct Loose: Decodable { var format: Int }
        if let bytes = (try? FileIO.readIfReadable(root + "/config")) ?? nil,
           let loose = try? JSONDecoder().decode(Loose.self, from: Data(bytes)), loose.format > FormatConstants.repositoryVersion {
            throw damage
        }
        guard FileIO.isDirectory(root + "/catalogs") else { throw damage }
        return try Repository(root: root)
    }

    /// `verify --repair` of a repository in a folder whose config is damaged, missing or not a
    /// regular file: one flipped bit is put back (the checksum finds it); otherwise the file
    /// is written anew, keeping the `id` and `created` of the damaged one when they still read
    /// as such (a new id otherwise: copies to this repository then list it once, and a cache
    /// named by it is made anew). Nil when the config reads back intact.
    public static func repairConfig(at path: String, wait: Double = 0) throws -> ConfigFileRepair? {
        let root = absolute(path)
        let file = root + "/config"
        func damaged() throws -> Bool {
            guard case .failure(let error) = Result(catching: { try checkedRoot(root) }) else { return false }
            guard let e = error as? SnapdexError else { throw error }
            if case .configDamaged = e { return true }
            if e.isNotRegularFile { return true }  // checkedRoot reads nothing but the config
            throw e
        }
        guard try damaged() else { return nil }
        let lock = try WriterLock(path: root + "/lock", wait: wait)
        defer { lock.release() }
        guard try damaged() else { return nil }  // another repair ran meanwhile
        var aside: String?
        var old: [UInt8]?
        do {
            old = try FileIO.readIfReadable(file)
        } catch let e as SnapdexError where e.isNotRegularFile {
            aside = try moveAside(file)
        }
        if let old, let fixed = SealedJSON.correctingOneBit(old), (try? RepositoryConfig.decodeFile(fixed)) != nil {
            try FileIO.writeAtomically(file, fixed, durable: true)
            try FileIO.syncDirectory(root)
            return ConfigFileRepair(path: file, how: .corrected)
        }
        if aside == nil && FileIO.exists(file) { aside = try moveAside(file) }
        // What still reads of the damaged file: its JSON, or failing that its id's pattern.
        struct Loose: Decodable { var format: Int?; var created: String?; var id: String? }
        let loose = old.flatMap { try? JSONDecoder().decode(Loose.self, from: Data($0)) }
        if let format = loose?.format, format > FormatConstants.repositoryVersion {
            throw SnapdexError.repositoryNewerFormat(path: root, found: format, supported: FormatConstants.repositoryVersion)
        }
        let keptID = loose?.id.flatMap { PointID.isValid($0) ? $0 : nil }
        // Written into the JSON text as it is: only a time's characters.
        let keptCreated = loose?.created.flatMap { t in
            t.count <= 40 && t.allSatisfy({ "0123456789-:.TZ+".contains($0) }) && TimeParser.parse(t) != nil ? t : nil
        }
        try FileIO.writeAtomically(file, RepositoryConfig.text(id: keptID ?? RepositoryConfig.newID(), created: keptCreated ?? Timestamp.now.rfc3339()),
                                   durable: true)
        try FileIO.syncDirectory(root)
        let restored = ["format \(FormatConstants.repositoryVersion)",
                        keptID.map { "id \($0) (as the damaged file held it)" } ?? "a new id (copies to this repository list it once)",
                        keptCreated.map { "created \($0)" } ?? "created now (the old time did not read)"]
        return ConfigFileRepair(path: file, how: .rewritten(restored: restored, lost: [], setWith: nil), movedAside: aside)
    }
}
