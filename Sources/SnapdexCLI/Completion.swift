import ArgumentParser
import Foundation
import SnapdexCore

/// Shell completion from the repository: the argument parser's completion scripts call
/// `snapdex ---completion …`, which runs these with the words typed so far. They open the
/// repository named on the line (--repo, else $SNAPDEX_REPO, else the default) and answer
/// from its database and catalogs; any failure completes nothing, quietly.
enum DynamicCompletion {
    /// The repository the line names.
    static func repository(_ words: [String]) -> Repository? {
        var path: String?
        for (i, w) in words.enumerated() {
            if w == "--repo", i + 1 < words.count { path = unquote(words[i + 1]) }
            if w.hasPrefix("--repo=") { path = unquote(String(w.dropFirst(7))) }
        }
        // Completion never waits on a network: only local repositories complete names.
        guard case .folder(let dir) = RepositoryAddress(path ?? Repository.defaultPath()) else { return nil }
        return try? Repository.open(at: dir)
    }

    /// Words arrive verbatim; a quoted or escaped one is read the way the shell will.
    static func unquote(_ word: String) -> String {
        (try? ShellWords.split(word).first) ?? word
    }

    static func sources(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let repo = repository(words), let sources = try? repo.sources() else { return [] }
        return sources.map(\.name).filter { $0.hasPrefix(prefix) }
    }

    /// `SOURCE@latest` and the newest points' `SOURCE@TIME` for each source, and, once a hex
    /// prefix is typed, the ids it starts.
    static func points(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let repo = repository(words), let sources = try? repo.sources() else { return [] }
        var out: [String] = []
        for s in sources {
            out.append("\(s.name)@latest")
            guard prefix.hasPrefix(s.name + "@") || prefix == s.name else { continue }
            let recent = ((try? repo.points(source: s.name)) ?? []).suffix(recent)
            out += recent.reversed().map { "\(s.name)@\(TimeDisplay.reference(Timestamp(nanoseconds: $0.time)))" }
        }
        if !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit), let all = try? repo.points() {
            out += all.map { String($0.id.prefix(12)) }.filter { $0.hasPrefix(prefix.lowercased()) }
        }
        return out.filter { $0.hasPrefix(prefix) }
    }

    /// How many of a source's newest point times are offered.
    static let recent = 20

    /// Catalog paths of the point named earlier on the line (or the newest point of the
    /// source, for versions): the entries of the folder typed so far, folders ending in `/`.
    static func paths(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let repo = repository(words) else { return [] }
        let valueOptions: Set<String> = ["--repo", "--to", "--tar", "--source", "--point", "--wait", "--at", "--since"]
        var point: PointRecord?
        for i in stride(from: min(index, words.count) - 1, through: 1, by: -1) {
            let w = unquote(words[i])
            guard !w.hasPrefix("-"), !w.hasPrefix("/"), !valueOptions.contains(words[i - 1]) else { continue }
            if let p = try? repo.resolve(w) { point = p; break }
            if let p = try? repo.resolve(w + "@latest") { point = p; break }
        }
        guard let point, let reader = try? repo.reader(for: point) else { return [] }
        let typed = unquote(prefix)
        let slash = typed.lastIndex(of: "/")
        let dirText = slash.map { String(typed[...$0]) } ?? "/"
        let namePrefix = Array((slash.map { String(typed[typed.index(after: $0)...]) } ?? typed).utf8)
        guard let dir = PathBytes.normalize(dirText), let entries = (try? reader.list(dir, level: .names)) ?? nil else { return [] }
        let base = slash == nil ? "/" : dirText
        return entries.filter { $0.name.starts(with: namePrefix) }.compactMap { e in
            guard let name = String(validating: e.name, as: UTF8.self) else { return nil }  // the shell cannot take it back
            return base + name + (e.type == .directory ? "/" : "")
        }
    }
}

extension CompletionKind {
    /// A source name from the repository.
    static var sourceName: CompletionKind { .custom { DynamicCompletion.sources($0, $1, $2) } }
    /// A point reference: SOURCE@latest, SOURCE@TIME of recent points, id prefixes.
    static var pointReference: CompletionKind { .custom { DynamicCompletion.points($0, $1, $2) } }
    /// A path in the catalog of the point named earlier on the line.
    static var catalogPath: CompletionKind { .custom { DynamicCompletion.paths($0, $1, $2) } }
}
