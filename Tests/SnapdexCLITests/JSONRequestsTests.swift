import Foundation
import Testing
import SnapdexTestSupport

/// `--json` on a repository on object storage: standard output holds exactly the command's
/// JSON (one object, or JSON Lines of one kind), with or without -v; the requests are in the
/// summary object when there is one, else one JSON line on standard error.
@Suite struct JSONRequestsTests {
    let dir = NSTemporaryDirectory() + "/snapdex-jsonreq-\(UUID().uuidString)"

    /// Runs the built snapdex on `file://DIR/bucket`; standard output and error apart.
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        guard builtSnapdex() != nil else { return (-1, "", "") }
        let r = Snapdex(repo: "file://" + dir + "/bucket", scratch: dir)
            .run(args, passRepo: false, cwd: dir, environment: ["XDG_CACHE_HOME": dir + "/cache"])
        return (r.status, r.text, r.err)
    }

    func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func everyJSONOutputIsOnlyTheCommandsJSONOnObjectStorage() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for day in ["2026-11-01", "2026-11-02"] {
            write(dir + "/snaps/\(day)/docs/a.txt", "a \(day)")
            write(dir + "/snaps/\(day)/docs/b.txt", "b")
        }
        #expect(try run(["init"]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps"]).status == 0)
        // (command, its output is one object, the object that carries the requests)
        let commands: [([String], Bool, String?)] = [
            (["index", "--source", "home", "--json"], false, nil),
            (["index", "--source", "home", "--json"], true, "requests"),
            (["points", "--json"], false, nil),
            (["source", "list", "--json"], false, nil),
            (["ls", "home@latest", "/docs", "--json"], false, nil),
            (["info", "home@latest", "/docs/a.txt", "--json"], true, "requests"),
            (["find", "*.txt", "--json"], false, nil),
            (["versions", "home", "/docs/a.txt", "--json"], false, nil),
            (["diff", "home@2026-11-01", "home@latest", "--json"], false, nil),
            (["restore", "home@latest", "/docs", "--to", dir + "/out", "--json"], false, "requests"),
            (["expire", "--dry-run", "--json"], false, "requests"),
            (["copy", "--to", dir + "/offsite", "--json"], true, "repository_requests"),
            (["sessions", "--json"], false, nil),
        ]
        for (i, (args, single, carrier)) in commands.enumerated() {
            // The first index indexes; run again it would have nothing to index.
            for verbose in i == 0 ? [false] : [false, true] {
                let r = try run((verbose ? ["-v"] : []) + args)
                let name = args.joined(separator: " ") + (verbose ? " -v" : "")
                #expect(r.status == 0, "\(name): \(r.err)")
                let lines = try objects(r.out)
                #expect(!lines.isEmpty, "\(name) printed no JSON")
                if single { #expect(lines.count == 1, "\(name) printed \(lines.count) JSON lines: \(r.out)") }
                // No line of standard output is the requests report on its own.
                #expect(!lines.contains { Set($0.keys) == ["requests"] }, "\(name): \(r.out)")
                let requests: [String: Any]?
                if let carrier {
                    requests = lines.last?[carrier] as? [String: Any]
                    #expect(!r.err.contains("{\"requests\""), "\(name) reported its requests twice: \(r.err)")
                } else {
                    let line = r.err.split(separator: "\n").first { $0.hasPrefix("{\"requests\":") }.map(String.init) ?? ""
                    requests = (try? objects(line))?.first?["requests"] as? [String: Any]
                }
                let kinds = try #require(requests, "\(name): no requests (out \(r.out), err \(r.err))")
                #expect(Set(kinds.keys) == ["get", "put", "list", "head", "delete", "bytes_sent", "bytes_received"])
                #expect((kinds["list"] as? Int ?? 0) >= 1, "\(name): \(kinds)")
                if verbose { #expect(r.err.contains("object storage: "), "\(name): \(r.err)") }
            }
        }
    }
}
