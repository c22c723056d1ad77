import Foundation

/// The keys a request is signed with, found where every S3 tool looks for them.
public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Temporary credentials (STS) come with a token that is sent and signed with each request.
    public var sessionToken: String?
    /// Where they came from, for messages: `AWS_ACCESS_KEY_ID`, `~/.aws/credentials [prod]`.
    public var origin: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, origin: String = "given") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.origin = origin
    }

    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else the profile
    /// `AWS_PROFILE` (default `default`) of `AWS_SHARED_CREDENTIALS_FILE` (default
    /// `~/.aws/credentials`).
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let id = value("AWS_ACCESS_KEY_ID") {
            guard let secret = value("AWS_SECRET_ACCESS_KEY") else {
                throw SnapdexError.objectStorage(ObjectStorageError.credentialsIncomplete(origin: "the environment", missing: "AWS_SECRET_ACCESS_KEY"))
            }
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"),
                                 origin: "AWS_ACCESS_KEY_ID")
        }
        let profile = value("AWS_PROFILE") ?? "default"
        let file = value("AWS_SHARED_CREDENTIALS_FILE") ?? ((value("HOME") ?? NSHomeDirectory()) + "/.aws/credentials")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SnapdexError.objectStorage(ObjectStorageError.noCredentials(file: file, profile: profile))
        }
        let sections = IniFile.parse(String(decoding: data, as: UTF8.self))
        guard let section = sections[profile] else { throw SnapdexError.objectStorage(ObjectStorageError.noCredentials(file: file, profile: profile)) }
        let origin = "\(file) [\(profile)]"
        guard let id = section["aws_access_key_id"], !id.isEmpty else {
            throw SnapdexError.objectStorage(ObjectStorageError.credentialsIncomplete(origin: origin, missing: "aws_access_key_id"))
        }
        guard let secret = section["aws_secret_access_key"], !secret.isEmpty else {
            throw SnapdexError.objectStorage(ObjectStorageError.credentialsIncomplete(origin: origin, missing: "aws_secret_access_key"))
        }
        let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, origin: origin)
    }
}

/// The AWS shared credentials file: `[profile]` sections of `key = value` lines, `#` and `;`
/// comments.
enum IniFile {
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                // ~/.aws/config spells them `[profile NAME]`; the credentials file `[NAME]`.
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            sections[section]?[key] = value
        }
        return sections
    }
}
