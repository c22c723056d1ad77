import Foundation

/// Two small facts about a repository that a copy job reads from its target: the
/// repository's id (which archive index belongs to it) and its generation, a number every
/// deletion of block files raises. An archive index records the generation it was listed at;
/// a target whose generation moved on may have lost blocks the index lists, so the copy lists
/// it again instead of trusting the index.
///
///     REPO/config      JSON; its "id" is 32 lowercase hex digits (repositories made before
///                      Snapdex 0.3 have none: their id is the first 16 bytes of the
///                      SHA-256 of the config file, which never changes)
///     REPO/generation  decimal digits and a newline; absent means 0
enum RepositoryMarks {
    static let generationFile = "generation"

    /// The id of the repository whose config file holds `config`.
    static func id(config: [UInt8]) -> [UInt8] {
        struct Config: Decodable { var id: String? }
        if let c = try? JSONDecoder().decode(Config.self, from: Data(config)), let hex = c.id, PointID.isValid(hex),
           let bytes = Hex.decode(hex) {
            return bytes
        }
        return Array(Digest.of(config).bytes.prefix(16))
    }

    /// The generation a `generation` file holds: 0 when there is none, nil when it does not
    /// read as one (never trusted to match anything).
    static func generation(_ bytes: [UInt8]?) -> UInt64? {
        guard let bytes else { return 0 }
        return UInt64(String(decoding: bytes, as: UTF8.self).trimmingWhitespace)
    }
}

extension Repository {
    /// The files of the repository's top folder that snapdex opens besides config and the
    /// database (which no command gets past when they are not regular files).
    static let singleFiles = ["journal", "lock", RepositoryMarks.generationFile, "sessions.jsonl", "names-filters"]

    /// The generation of this repository.
    var generation: UInt64? {
        RepositoryMarks.generation(try? FileIO.readAll(root + "/" + RepositoryMarks.generationFile))
    }

    /// Raises the generation, durably, before block files are deleted: an archive index that
    /// lists them is then known to be stale, whatever instant a kill stops the deletion at.
    func bumpGeneration() throws {
        try Repository.bumpGeneration(root: root)
    }

    /// Every writer may delete blocks (its recovery runs gc), which raises the generation
    /// first: one that is not a regular file stops it before it changes anything.
    func requireUsableGeneration() throws {
        _ = try FileIO.readIfReadable(root + "/" + RepositoryMarks.generationFile)
    }

    static func bumpGeneration(root: String) throws {
        let path = root + "/" + RepositoryMarks.generationFile
        let old = RepositoryMarks.generation(try FileIO.readIfReadable(path))
        // A damaged number is replaced by one no index can have recorded.
        let next = old.map { $0 &+ 1 } ?? UInt64(max(Timestamp.now.nanoseconds, 1))
        try FileIO.writeAtomically(path, Array("\(next)\n".utf8), durable: true)
        try FileIO.syncDirectory(root)
    }
}
