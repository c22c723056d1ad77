import Foundation

/// Why a repository JSON file (`config`, `source.json`) cannot be believed, for its message.
struct JSONFileDamage: Error {
    var reason: String
}

extension SourceConfig {
    /// The members a source.json written before checksums (versions 1 and 2) can hold: one
    /// without a checksum that holds another is damaged (a checksum whose name was damaged).
    static let unsealedKeys: Set<String> = ["version", "name", "snapshots", "livePath", "timeFrom", "policy", "include", "exclude"]

    /// The bytes of `catalogs/SOURCE/source.json` for this configuration: pretty-printed JSON
    /// with sorted keys, then the checksum member (docs/FORMAT.md).
    func fileBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return SealedJSON.seal(Array(try encoder.encode(self)), .pretty)
    }

    /// Reads a source.json that must hold the configuration of the source `name`. Version 3
    /// files must carry their checksum and match it; older ones have none and are read as
    /// they are, unless they hold a member older writers never wrote.
    static func decodeFile(_ bytes: [UInt8], name: String) throws(JSONFileDamage) -> SourceConfig {
        let verdict = SealedJSON.check(bytes)
        if case .damaged(let why) = verdict { throw JSONFileDamage(reason: why) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
              let config = try? JSONDecoder().decode(SourceConfig.self, from: Data(bytes)) else {
            throw JSONFileDamage(reason: "not a source configuration")
        }
        if verdict == .absent {
            if let version = object["version"] as? Int, version >= 3 {
                throw JSONFileDamage(reason: "its checksum is missing, which version \(version) files always carry")
            }
            if let odd = object.keys.sorted().first(where: { !unsealedKeys.contains($0) }) {
                throw JSONFileDamage(reason: "it has no checksum and holds an unknown member '\(odd.prefix(40))'")
            }
        }
        guard config.name == name else { throw JSONFileDamage(reason: "it holds the configuration of another source, '\(config.name.prefix(40))'") }
        return config
    }
}

extension RepositoryConfig {
    /// The members a config written before checksums can hold.
    static let unsealedKeys: Set<String> = ["format", "created", "id"]

    /// Reads `REPO/config` (or a bucket's `config`): it must match its checksum when it carries
    /// one (every config written since format 4 gained checksums); an older one without is read as it is, unless it
    /// holds a member older writers never wrote.
    static func decodeFile(_ bytes: [UInt8]) throws(JSONFileDamage) -> RepositoryConfig {
        let verdict = SealedJSON.check(bytes)
        if case .damaged(let why) = verdict { throw JSONFileDamage(reason: why) }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
              let config = try? JSONDecoder().decode(RepositoryConfig.self, from: Data(bytes)) else {
            throw JSONFileDamage(reason: "not a Snapdex repository configuration")
        }
        if verdict == .absent, let odd = object.keys.sorted().first(where: { !unsealedKeys.contains($0) }) {
            throw JSONFileDamage(reason: "it has no checksum and holds an unknown member '\(odd.prefix(40))'")
        }
        return config
    }
}
