import Foundation
import Testing
import SnapdexTestSupport
@testable import SnapdexCore

/// S3ObjectStore against a real RADOS Gateway (TestGateway): every request signed for real.
@Suite(.enabled(if: TestGateway.isAvailable, TestGateway.skipReason))
struct S3ObjectStoreTests {
    @Test func putGetHeadDeleteRoundTrip() throws {
        let store = try TestGateway.freshStore()
        let bytes: [UInt8] = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try store.put("blocks/ab/abcdef", bytes)
        #expect(try store.get("blocks/ab/abcdef") == bytes)
        let info = try #require(try store.head("blocks/ab/abcdef"))
        #expect(info.size == 70_000)
        #expect(abs((info.modifiedSeconds ?? 0) - Int64(Date().timeIntervalSince1970)) < 3600)
        #expect(try store.get("blocks/ab/none") == nil)
        #expect(try store.head("blocks/ab/none") == nil)
        try store.put("empty", [])
        #expect(try store.get("empty") == [])
        try store.delete("blocks/ab/abcdef")
        #expect(try store.get("blocks/ab/abcdef") == nil)
        try store.delete("blocks/ab/abcdef")  // deleting what is gone is no error
        let c = store.requestCounts()
        // The bucket's creation (a HEAD, then a PUT) counts too.
        #expect(c.put == 3 && c.get == 4 && c.head == 3 && c.delete == 2)
        #expect(c.bytesSent == 70_000 && c.bytesReceived >= 70_000)
    }

    @Test func keysWithSpacesPlusPercentAndUnicodeRoundTrip() throws {
        let store = try TestGateway.freshStore(prefix: "odd prefix/+%é")
        let keys = ["a b", "c+d", "e%20f", "g%", "ünï/cødé ✓", "h=i&j", "k~l_m.n-o", "p?q", "r#s", "t'u\"v", "w:x;y@z", "()[]{}!$*,"]
        for (i, k) in keys.enumerated() { try store.put("dir/" + k, [UInt8(i)]) }
        for (i, k) in keys.enumerated() {
            #expect(try store.get("dir/" + k) == [UInt8(i)], "key \(k)")
            #expect(try store.head("dir/" + k)?.size == 1, "key \(k)")
        }
        let listed = try store.list(prefix: "dir/").map(\.key)
        #expect(Set(listed) == Set(keys.map { "dir/" + $0 }))
        #expect(listed == listed.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        // A prefix with odd bytes lists only below itself.
        #expect(try store.list(prefix: "dir/ü").map(\.key) == ["dir/ünï/cødé ✓"])
        for k in keys { try store.delete("dir/" + k) }
        #expect(try store.list(prefix: "dir/").isEmpty)
    }

    @Test func listingFollowsContinuationTokensPastAThousandKeys() throws {
        let store = try TestGateway.freshStore()
        let names = (0..<1_234).map { String(format: "blocks/%02x/%06d", $0 % 256, $0) }
        try concurrentPuts(store, names)
        try store.put("catalogs/x/1.manifest", [1])
        let listed = try store.list(prefix: "blocks/")
        #expect(listed.count == 1_234)
        #expect(listed.map(\.key) == names.sorted())
        #expect(listed.allSatisfy { $0.size == 3 && $0.modifiedSeconds != nil })
        #expect(store.requestCounts().list == 2, "1,234 keys take two pages of 1,000")
        #expect(try store.list(prefix: "").count == 1_235)
        #expect(try store.list(prefix: "catalogs/").map(\.key) == ["catalogs/x/1.manifest"])
    }

    @Test func putIfAbsentRefusesAnExistingKey() throws {
        let store = try TestGateway.freshStore()
        #expect(try store.putIfAbsent("locks/exclusive", Array("first".utf8)))
        #expect(try !store.putIfAbsent("locks/exclusive", Array("second".utf8)))
        #expect(try store.get("locks/exclusive") == Array("first".utf8))
        try store.delete("locks/exclusive")
        #expect(try store.putIfAbsent("locks/exclusive", Array("third".utf8)))
    }

    @Test func putIfAbsentHasOneWinnerAmongRacers() throws {
        let store = try TestGateway.freshStore()
        let winners = LockedCount()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            if (try? store.putIfAbsent("locks/race", [UInt8(i)])) == true { winners.add() }
        }
        #expect(winners.value == 1)
    }

    @Test func bucketCreationIsIdempotent() throws {
        let name = "t-create-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let store = S3ObjectStore(url: ObjectStorageURL(bucket: name, prefix: ""), configuration: try TestGateway.configuration())
        #expect(throws: SnapdexError.objectStorage(.noSuchBucket(bucket: name, endpoint: store.address.origin))) {
            try store.list(prefix: "")
        }
        #expect(try store.createBucketIfMissing())
        #expect(try !store.createBucketIfMissing())
        try store.put("config", [1])
        #expect(try store.list(prefix: "").map(\.key) == ["config"])
    }

    @Test func aWrongSecretIsRefusedWithTheCredentialsMessage() throws {
        let good = try TestGateway.freshStore()
        let bad = S3ObjectStore(url: good.url, configuration: try TestGateway.configuration(secret: "not-the-secret"))
        do {
            _ = try bad.get("config")
            Issue.record("a wrong secret was accepted")
        } catch let e as SnapdexError {
            guard case .objectStorage(.wrongCredentials(_, _, _, let code)) = e else { Issue.record("got \(e)"); return }
            #expect(code == "SignatureDoesNotMatch")
            #expect(e.exitCode == 1)
            #expect(e.description.contains("check the key ID and secret"))
            #expect(!e.description.contains("\n"))
        }
        let unknown = S3ObjectStore(url: good.url, configuration: S3Configuration(
            endpoint: good.configuration.endpoint, region: "us-east-1",
            credentials: S3Credentials(accessKeyID: "NOSUCHKEY", secretAccessKey: "x", origin: "test")))
        #expect(throws: SnapdexError.objectStorage(.wrongCredentials(endpoint: good.address.origin, accessKeyID: "NOSUCHKEY",
                                                                     origin: "test", code: "InvalidAccessKeyId"))) {
            try unknown.put("config", [1])
        }
        // `init` with wrong keys, of a bucket that exists or not: the credentials are named,
        // not "belongs to another account" (the HEAD it asks first has no body to tell).
        for bucket in [good.url.bucket, "t-nobucket-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)] {
            let made = S3ObjectStore(url: ObjectStorageURL(bucket: bucket, prefix: ""), configuration: unknown.configuration)
            #expect(throws: SnapdexError.objectStorage(.wrongCredentials(endpoint: good.address.origin, accessKeyID: "NOSUCHKEY",
                                                                         origin: "test", code: "InvalidAccessKeyId"))) {
                try made.createBucketIfMissing()
            }
        }
    }

    @Test func anUnreachableEndpointSaysSoAfterItsRetries() throws {
        let port = try FaultProxy.unusedPort()
        let store = S3ObjectStore(url: ObjectStorageURL(bucket: "nobody", prefix: ""), configuration: try TestGateway.configuration(
            endpoint: S3Endpoint(scheme: "http", host: "127.0.0.1", port: port), retry: FaultProxyTests.quick))
        do {
            _ = try store.get("config")
            Issue.record("a closed port answered")
        } catch let e as SnapdexError {
            #expect(e == .objectStorage(.endpointUnreachable(endpoint: "http://127.0.0.1:\(port)", reason: "connection refused", attempts: 4)))
            #expect(e.description.contains("check AWS_ENDPOINT_URL"))
        }
        #expect(store.requestCounts().get == 4)
    }

    /// The snapdex binary on an s3:// repository, configured by the AWS variables: init makes
    /// the bucket, and index, points, cat and verify work through the gateway.
    @Test func theCommandsWorkOnAnS3Repository() throws {
        guard Snapdex.isBuilt else { Issue.record("snapdex is not built; run `make test`"); return }
        let server = try TestGateway.server()
        let dir = NSTemporaryDirectory() + "snapdex-s3cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for day in ["2026-12-01", "2026-12-02"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/snaps/\(day)/sub", withIntermediateDirectories: true)
            for i in 0..<20 { try Array("\(day) \(i)\n".utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(dir)/snaps/\(day)/sub/f\(i)")) } }
        }
        let repo = "s3://t-cli-" + String(UInt32.random(in: 0...UInt32.max), radix: 36) + "/hosts/one"
        let env = ["AWS_ENDPOINT_URL": server.endpoint.description, "AWS_ACCESS_KEY_ID": server.accessKey,
                   "AWS_SECRET_ACCESS_KEY": server.secretKey, "XDG_CACHE_HOME": dir + "/cache", "HOME": dir, "TZ": "UTC"]
        func run(_ args: [String], environment: [String: String] = env, repository: String = repo) throws -> ToolRun {
            Snapdex(repo: repository, scratch: dir).run(args, environment: environment)
        }
        #expect(try run(["init"]).status == 0)
        #expect(try run(["source", "add", "home", "--snapshots", dir + "/snaps"]).status == 0)
        #expect(try run(["index", "--source", "home"]).status == 0)
        let points = try run(["points"])
        #expect(points.status == 0 && points.text.contains("2026-12-02"))
        #expect(try run(["cat", "home@latest", "sub/f7"]).text == "2026-12-02 7\n")
        #expect(try run(["verify"]).status == 0)
        var wrong = env
        wrong["AWS_SECRET_ACCESS_KEY"] = "wrong"
        let refused = try run(["points"], environment: wrong)
        #expect(refused.status == 1 && refused.err.contains("SignatureDoesNotMatch") && refused.err.split(separator: "\n").count == 1, "\(refused.err)")
        let malformed = try run(["init"], repository: "s3://Bad_Name/x")
        #expect(malformed.status == 2 && malformed.err.contains("a bucket name has only lower-case letters"), "\(malformed.err)")
    }

    private func concurrentPuts(_ store: S3ObjectStore, _ names: [String]) throws {
        let failures = LockedCount()
        DispatchQueue.concurrentPerform(iterations: 8) { lane in
            for i in stride(from: lane, to: names.count, by: 8) {
                if (try? store.put(names[i], [1, 2, 3])) == nil { failures.add() }
            }
        }
        #expect(failures.value == 0)
    }
}

final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// The parts that need no server: URLs, endpoints, credentials, XML, backoff.
@Suite struct ObjectStorageUnitTests {
    @Test func s3URLsParseIntoBucketAndPrefix() throws {
        #expect(try ObjectStorageURL.parse("s3://my-bucket") == ObjectStorageURL(bucket: "my-bucket", prefix: ""))
        #expect(try ObjectStorageURL.parse("s3://my-bucket/") == ObjectStorageURL(bucket: "my-bucket", prefix: ""))
        #expect(try ObjectStorageURL.parse("s3://b.example.com/hosts/web 1/") == ObjectStorageURL(bucket: "b.example.com", prefix: "hosts/web 1"))
        #expect(try ObjectStorageURL.parse("S3://abc/p").description == "s3://abc/p")
        #expect(ObjectStorageURL(bucket: "abc", prefix: "p").objectKey("config") == "p/config")
        #expect(ObjectStorageURL(bucket: "abc", prefix: "").objectKey("config") == "config")
    }

    @Test(arguments: [
        ("s3://", "the bucket name is missing"),
        ("s3:///p", "the bucket name is missing"),
        ("s3://ab", "3 to 63"),
        ("s3://" + String(repeating: "a", count: 64), "3 to 63"),
        ("s3://My_Bucket", "lower-case letters"),
        ("s3://-abc", "starts and ends"),
        ("s3://abc.", "starts and ends"),
        ("s3://a..b", "next to another"),
        ("s3://192.168.1.1", "IP address"),
        ("s3://abc//p", "empty part"),
        ("s3://abc/p//q", "empty part"),
        ("s3://abc/p/../q", "'..' part"),
        ("s3://abc/p?x", "'?' or '#'"),
        ("http://abc/p", "http:// is not a scheme"),
        ("abc/p", "does not start with s3://"),
        ("s3:/abc/p", "two slashes"),
    ])
    func malformedURLsAreRefusedAsUsageErrors(_ text: String, _ why: String) {
        do {
            _ = try ObjectStorageURL.parse(text)
            Issue.record("\(text) was accepted")
        } catch let e as SnapdexError {
            #expect(e.exitCode == 2)
            #expect(e.description.contains(why), "\(e)")
            #expect(e.description.hasSuffix("write it as s3://BUCKET or s3://BUCKET/PREFIX"))
        } catch { Issue.record("\(error)") }
    }

    @Test func anythingWithASchemeLooksLikeAURL() {
        #expect(ObjectStorageURL.looksLikeURL("s3://b/p"))
        #expect(ObjectStorageURL.looksLikeURL("gs://b"))
        #expect(ObjectStorageURL.looksLikeURL("https://host/x"))
        #expect(!ObjectStorageURL.looksLikeURL("/srv/repo"))
        #expect(!ObjectStorageURL.looksLikeURL("dir/with://inside"))
        #expect(!ObjectStorageURL.looksLikeURL("://x"))
    }

    @Test func endpointsAndAddressing() throws {
        let e = try S3Endpoint.parse("http://127.0.0.1:7480/")
        #expect(e == S3Endpoint(scheme: "http", host: "127.0.0.1", port: 7480))
        let custom = S3Configuration(endpoint: e, region: "us-east-1", credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"))
        let a = custom.address(bucket: "bkt")
        #expect(a.hostHeader == "127.0.0.1:7480")
        #expect(a.encodedPath(key: "p q/config") == "/bkt/p%20q/config")
        #expect(a.encodedPath(key: "") == "/bkt")
        var aws = custom
        aws.endpoint = nil
        aws.region = "eu-west-1"
        #expect(aws.address(bucket: "bkt") == S3Address(scheme: "https", host: "bkt.s3.eu-west-1.amazonaws.com", port: nil, pathPrefix: ""))
        #expect(aws.address(bucket: "bkt").encodedPath(key: "") == "/")
        #expect(aws.address(bucket: "b.k.t").pathPrefix == "/b.k.t", "dotted names are addressed by path: TLS covers one label")
        for bad in ["127.0.0.1:7480", "ftp://x", "http://", "http://h/?q=1"] {
            #expect(throws: SnapdexError.objectStorage(.invalidEndpoint(value: bad, variable: "AWS_ENDPOINT_URL"))) { try S3Endpoint.parse(bad) }
        }
    }

    @Test func configurationComesFromTheVariablesS3ToolsRead() throws {
        let c = try S3Configuration.fromEnvironment([
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "token", "AWS_DEFAULT_REGION": "eu-central-1",
        ])
        #expect(c.endpoint?.port == 9000)
        #expect(c.region == "eu-central-1")
        #expect(c.credentials == S3Credentials(accessKeyID: "id", secretAccessKey: "secret", sessionToken: "token", origin: "AWS_ACCESS_KEY_ID"))
        let r = try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "x"])
        #expect(r.region == "ap-south-1" && r.endpoint == nil)
        #expect(try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"]).region == "us-east-1")
        #expect(throws: SnapdexError.objectStorage(.credentialsIncomplete(origin: "the environment", missing: "AWS_SECRET_ACCESS_KEY"))) {
            try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "id"])
        }
    }

    @Test func credentialsComeFromTheSharedFileByProfile() throws {
        let home = NSTemporaryDirectory() + "snapdex-aws-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try """
        # comment
        [default]
        aws_access_key_id = DEFAULTID
        aws_secret_access_key = defaultsecret

        [profile prod]
        aws_access_key_id=PRODID
        aws_secret_access_key=prod/secret+x
        aws_session_token = tok
        [partial]
        aws_access_key_id = ONLYID
        """.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8)
        let file = home + "/.aws/credentials"
        #expect(try S3Credentials.resolve(environment: ["HOME": home]) ==
            S3Credentials(accessKeyID: "DEFAULTID", secretAccessKey: "defaultsecret", origin: "\(file) [default]"))
        #expect(try S3Credentials.resolve(environment: ["HOME": home, "AWS_PROFILE": "prod"]) ==
            S3Credentials(accessKeyID: "PRODID", secretAccessKey: "prod/secret+x", sessionToken: "tok", origin: "\(file) [prod]"))
        #expect(throws: SnapdexError.objectStorage(.noCredentials(file: file, profile: "nope"))) {
            try S3Credentials.resolve(environment: ["HOME": home, "AWS_PROFILE": "nope"])
        }
        #expect(throws: SnapdexError.objectStorage(.credentialsIncomplete(origin: "\(file) [partial]", missing: "aws_secret_access_key"))) {
            try S3Credentials.resolve(environment: ["HOME": home, "AWS_PROFILE": "partial"])
        }
        // The environment wins over the file.
        #expect(try S3Credentials.resolve(environment: ["HOME": home, "AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "S"]).accessKeyID == "E")
        #expect(throws: SnapdexError.objectStorage(.noCredentials(file: "/nonexistent/.aws/credentials", profile: "default"))) {
            try S3Credentials.resolve(environment: ["HOME": "/nonexistent"])
        }
    }

    @Test func listPagesAndErrorBodiesParse() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>
        <MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
        <Contents><Key>p/a &amp; b</Key><LastModified>2026-12-07T13:38:08.123Z</LastModified><ETag>&quot;x&quot;</ETag><Size>12</Size>
        <Owner><ID>o</ID><DisplayName>O</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>
        <Contents><Key>p/c</Key><LastModified>1970-01-02T00:00:00.000Z</LastModified><Size>0</Size></Contents></ListBucketResult>
        """
        let page = try S3XML.listPage(Array(xml.utf8))
        #expect(page.objects == [ObjectInfo(key: "p/a & b", size: 12, modifiedSeconds: 1_796_650_688, etag: "\"x\""), ObjectInfo(key: "p/c", size: 0, modifiedSeconds: 86_400)])
        #expect(page.isTruncated && page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        let error = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message><Key>k</Key></Error>"
        #expect(S3XML.errorBody(Array(error.utf8)) == S3ErrorBody(code: "NoSuchKey", message: "gone"))
        #expect(S3XML.errorBody(Array("<html>".utf8)) == nil)
        #expect(throws: S3XML.XMLProblem.self) { try S3XML.listPage(Array("not xml".utf8)) }
        #expect(S3Time.httpDateSeconds("Mon, 07 Dec 2026 13:38:08 GMT") == 1_796_650_688)
    }

    @Test func backoffIsBoundedAndJittered() {
        let p = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4, maxTotal: 30, attemptTimeout: 5)
        var rng = SystemRandomNumberGenerator()
        for attempt in 1...10 {
            let ceiling = min(4, 0.5 * pow(2, Double(attempt - 1)))
            let draws = (0..<200).map { _ in p.delay(after: attempt, using: &rng) }
            #expect(draws.allSatisfy { $0 >= 0 && $0 <= ceiling })
            #expect(Set(draws).count > 150, "full jitter draws spread over the whole range")
        }
        #expect(p.allowsAnother(after: 4, elapsed: 29))
        #expect(!p.allowsAnother(after: 5, elapsed: 1))
        #expect(!p.allowsAnother(after: 1, elapsed: 30))
    }
}
