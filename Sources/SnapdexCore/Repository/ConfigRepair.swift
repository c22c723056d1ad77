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
        let config = rebuiltSourceConfig(name)
        var restored = ["name '\(name)'"]
        restored.append(config.policy.map { "policy \($0) (from its newest point)" } ?? "no policy (its newest point had none; it keeps everything)")
        if let folder = config.snapshots { restored.append("snapshots folder \(folder) (the folder of its points' snapshots)") }
        try saveSource(config)
        var lost = ["live path", "time from (now auto)", "include and exclude filters"]
        if config.snapshots == nil { lost.insert("snapshots folder", at: 0) }
        return ConfigFileRepair(path: path, how: .rewritten(restored: restored, lost: lost, setWith: "snapdex source set \(ShellWord.quoted(name))"),
                                movedAside: aside)
    }

    /// Moves what stands at `path` (a damaged file, a folder, a symbolic link) to
    /// `path.damaged` (or `.damaged-2`, ...), never following it; returns where.
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
