import Foundation
import Testing
@testable import SnapdexCore

/// The signer against AWS's published vectors (Golden/sigv4, sources in its README): every
/// stage the source publishes (canonical request, string to sign, Authorization header).
@Suite struct SigV4Tests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/sigv4")

    static var caseNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
    }

    @Test func everyPublishedVectorIsPresent() {
        #expect(Self.caseNames == [
            "s3-get-bucket-lifecycle", "s3-get-object", "s3-list-objects", "s3-put-object",
            "suite-get-vanilla", "suite-get-vanilla-query-order-key-case", "suite-get-vanilla-with-session-token",
            "suite-post-sts-header-before", "suite-post-vanilla",
        ])
    }

    @Test(arguments: caseNames) func signsAsPublished(_ name: String) throws {
        let vector = try Vector(contentsOf: Self.directory.appendingPathComponent(name + ".txt"))
        var request = vector.request
        let stamp = SigV4Time(vector.date)
        if let expected = vector.sections["canonical-request"] {
            var withToken = request
            if let t = vector.signer.credentials.sessionToken { withToken.setHeader("x-amz-security-token", t) }
            #expect(withToken.canonical().text == expected, "canonical request of \(name)")
            if let sts = vector.sections["string-to-sign"] {
                #expect(vector.signer.stringToSign(canonicalRequest: expected, stamp: stamp) == sts, "string to sign of \(name)")
            }
        }
        vector.signer.sign(&request, at: vector.date)
        let published = try #require(vector.sections["authorization"])
        // The S3 page writes the header without spaces after the commas; servers accept both.
        #expect(request.header("authorization") == published.replacingOccurrences(of: ",SignedHeaders", with: ", SignedHeaders")
            .replacingOccurrences(of: ",Signature", with: ", Signature"), "authorization of \(name)")
        #expect(request.header("x-amz-date") == stamp.dateTime)
        #expect(request.header("x-amz-security-token") == vector.signer.credentials.sessionToken)
        if vector.signer.service == "s3" { #expect(request.header("x-amz-content-sha256") == request.payloadHash) }
    }

    @Test func signingKeyMatchesTheGeneralReferenceExample() {
        // AWS General Reference, "Derive a signing key": secret, 20150830, us-east-1, iam.
        let signer = SigV4Signer(credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: "iam")
        let key = signer.signingKey(day: "20150830").withUnsafeBytes { Array($0) }
        #expect(Hex.encode(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    @Test func keysAreEncodedByteByByteWithSlashesKeptInPaths() {
        #expect(SigV4Encoding.path("/a b/c+d%e/é~_-.") == "/a%20b/c%2Bd%25e/%C3%A9~_-.")
        #expect(SigV4Encoding.encode("a/b=c&d", keepSlash: false) == "a%2Fb%3Dc%26d")
        #expect(SigV4Encoding.canonicalQuery([("prefix", "p/q r"), ("list-type", "2"), ("continuation-token", "a+b=")])
            == "continuation-token=a%2Bb%3D&list-type=2&prefix=p%2Fq%20r")
        // Same names sort by value.
        #expect(SigV4Encoding.canonicalQuery([("b", "2"), ("a", "y"), ("a", "x")]) == "a=x&a=y&b=2")
        #expect(SigV4Encoding.trimmedHeaderValue("  one   two  ") == "one two")
    }

    @Test func timesAreFormattedInUTC() {
        let stamp = SigV4Time(Date(timeIntervalSince1970: 1_440_938_160))
        #expect(stamp.dateTime == "20150830T123600Z")
        #expect(stamp.day == "20150830")
        #expect(SigV4Time(Date(timeIntervalSince1970: 0)).dateTime == "19700101T000000Z")
    }

    /// One vector file: `[section]` lines start each part.
    struct Vector {
        var sections: [String: String] = [:]
        var signer: SigV4Signer
        var request: SigV4Request
        var date: Date

        init(contentsOf url: URL) throws {
            let text = try String(contentsOf: url, encoding: .utf8)
            var name = ""
            var lines: [String: [String]] = [:]
            for line in text.components(separatedBy: "\n") {
                if line.hasPrefix("[") && line.hasSuffix("]") { name = String(line.dropFirst().dropLast()); lines[name] = []; continue }
                lines[name, default: []].append(line)
            }
            for (k, v) in lines {
                var v = v
                while v.last == "" { v.removeLast() }
                sections[k] = v.joined(separator: "\n")
            }
            var context: [String: String] = [:]
            for line in lines["context"] ?? [] {
                guard let colon = line.firstIndex(of: ":") else { continue }
                context[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            signer = SigV4Signer(credentials: S3Credentials(accessKeyID: context["access-key-id"]!, secretAccessKey: context["secret-access-key"]!,
                                                            sessionToken: context["session-token"]),
                                 region: context["region"]!, service: context["service"]!)
            // The request: its line, headers up to the blank line, then the body.
            let raw = lines["request"] ?? []
            let parts = raw[0].split(separator: " ")
            let target = String(parts[1])
            let blank = raw.firstIndex(of: "") ?? raw.count
            var headers: [(name: String, value: String)] = []
            for line in raw[1..<blank] {
                let colon = line.firstIndex(of: ":")!
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
            var bodyLines = Array(raw[min(blank + 1, raw.count)...])
            while bodyLines.last == "" { bodyLines.removeLast() }
            let body = Array(bodyLines.joined(separator: "\n").utf8)
            let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
            var query: [(name: String, value: String)] = []
            if let q = target.split(separator: "?", maxSplits: 1).dropFirst().first {
                for pair in q.split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    query.append((String(kv[0]).removingPercentEncoding!, kv.count > 1 ? String(kv[1]).removingPercentEncoding! : ""))
                }
            }
            request = SigV4Request(method: String(parts[0]), encodedPath: SigV4Encoding.path(path), query: query,
                                   headers: headers, payloadHash: SigV4Signer.hexSHA256(body))
            let amzDate = headers.first { $0.name.lowercased() == "x-amz-date" }!.value
            let u = Array(amzDate.utf8)
            func n(_ a: Int, _ c: Int) -> Int { Int(String(decoding: u[a..<a + c], as: UTF8.self))! }
            date = Date(timeIntervalSince1970: Double(S3Time.civilSeconds(n(0, 4), n(4, 2), n(6, 2), n(9, 2), n(11, 2), n(13, 2))))
        }
    }
}
