import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A repository's files as objects in an S3 bucket, under a prefix, over async-http-client.
///
/// Blocking: each call waits for its future on the caller's thread, never on an event loop
/// (the repository code is synchronous). One HTTPClient per store keeps its connections
/// alive between calls and is shut down when the store goes away.
///
/// Retries: every request is retried on 5xx, 429, timeouts and dropped or reset connections,
/// with exponential backoff and full jitter, within `RetryPolicy`'s bounds. Each verb is safe
/// to repeat:
/// - GET, HEAD and LIST only read.
/// - PUT replaces the whole object: sent twice, the object is the same. Blocks and manifests
///   are content-addressed or written once under a new name, and the few rewritten objects
///   (config, locks) are written under the repository's lock, so no one else writes between
///   the two attempts.
/// - PUT with `If-None-Match: *` (putIfAbsent): a retry after a lost answer meets the object
///   its first attempt created and gets 412; the store then reads the object back and reports
///   success when it holds exactly the bytes it sent (a lock's bytes name its owner uniquely).
/// - DELETE of an object already gone succeeds, so a repeated DELETE changes nothing.
public final class S3ObjectStore: ObjectStore, @unchecked Sendable {
    public let url: ObjectStorageURL
    public let configuration: S3Configuration
    public let address: S3Address
    public var location: String { url.description }
    public var identity: String { address.origin + " " + url.description }

    private let client: HTTPClient
    private let signer: SigV4Signer
    private let lock = NSLock()
    private var counts = RequestCounts()
    private var isShutDown = false

    public init(url: ObjectStorageURL, configuration: S3Configuration) {
        self.url = url
        self.configuration = configuration
        self.address = configuration.address(bucket: url.bucket)
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        let timeout = TimeAmount.milliseconds(Int64(configuration.retry.attemptTimeout * 1000))
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10) < timeout ? .seconds(10) : timeout, read: timeout))
        http.httpVersion = .http1Only
        http.decompression = .disabled
        self.client = HTTPClient(eventLoopGroup: S3ObjectStore.eventLoops, configuration: http)
    }

    /// One event-loop thread for every store of the process, never shut down (as NIO's own
    /// shared group): each request blocks its caller until answered, so one thread carries
    /// them all, and a command that asks once (a warm open) starts one thread, not one a core.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The store for `s3://BUCKET/PREFIX`, configured from the environment.
    public convenience init(url: ObjectStorageURL, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init(url: url, configuration: try S3Configuration.fromEnvironment(environment))
    }

    deinit { shutdown() }

    /// Closes the connections; the store is unusable afterwards. Called by deinit as well.
    public func shutdown() {
        lock.lock()
        let already = isShutDown
        isShutDown = true
        lock.unlock()
        if !already { try? client.syncShutdown() }
    }

    // MARK: ObjectStore

    public func get(_ key: String) throws -> [UInt8]? {
        let r = try send(.get, method: .GET, key: key)
        switch r.status {
        case 200: return r.body
        case 404 where r.error?.code == "NoSuchBucket": throw noSuchBucket()
        case 404: return nil
        default: throw failure("read", key: key, r)
        }
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws {
        let r = try send(.put, method: .PUT, key: key, body: bytes)
        guard r.status == 200 else { throw failure("write", key: key, r) }
    }

    public func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        let r = try send(.put, method: .PUT, key: key, body: bytes, headers: [("If-None-Match", "*")])
        switch r.status {
        case 200: return true
        case 412:
            // A retried attempt may have met the object its own lost first attempt wrote.
            if r.attempts > 1, try get(key) == bytes { return true }
            return false
        default: throw failure("write", key: key, r)
        }
    }

    public func head(_ key: String) throws -> ObjectInfo? {
        let r = try send(.head, method: .HEAD, key: key)
        switch r.status {
        case 200:
            let size = r.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
            let time = r.headers.first(name: "last-modified").flatMap(S3Time.httpDateSeconds)
            return ObjectInfo(key: key, size: size, modifiedSeconds: time)
        case 404: return nil
        default: throw failure("read", key: key, r)
        }
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        let full = url.objectKey(prefix)
        let strip = url.prefix.isEmpty ? 0 : url.prefix.utf8.count + 1
        var out: [ObjectInfo] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", full)]
            if let t = token { query.append(("continuation-token", t)) }
            let r = try send(.list, method: .GET, key: nil, query: query)
            guard r.status == 200 else {
                if r.error?.code == "NoSuchBucket" { throw noSuchBucket() }
                throw failure("list", key: prefix, r)
            }
            let page: S3ListPage
            do { page = try S3XML.listPage(r.body) } catch let e as S3XML.XMLProblem {
                throw SnapdexError.objectStorage(.invalidResponse(operation: "LIST", location: shown(prefix), why: e.why))
            }
            for var o in page.objects where o.key.hasPrefix(full) {
                o.key = String(decoding: Array(o.key.utf8).dropFirst(strip), as: UTF8.self)
                out.append(o)
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated && (token ?? "").isEmpty {
                throw SnapdexError.objectStorage(.invalidResponse(operation: "LIST", location: shown(prefix),
                                                                  why: "a truncated page without NextContinuationToken"))
            }
        } while token != nil
        return out
    }

    public func delete(_ key: String) throws {
        let r = try send(.delete, method: .DELETE, key: key)
        switch r.status {
        case 200, 204: return
        case 404: if r.error?.code == "NoSuchBucket" { throw noSuchBucket() }
        default: throw failure("delete", key: key, r)
        }
    }

    public func requestCounts() -> RequestCounts {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// Creates the bucket unless it exists and is ours; true when it was created.
    @discardableResult
    public func createBucketIfMissing() throws -> Bool {
        // Asked first: some gateways (RGW) answer 200 to creating a bucket one already owns.
        let h = try send(.head, method: .HEAD, key: nil)
        switch h.status {
        case 200: return false
        case 404: break
        case 403:
            // A HEAD's answer has no body to tell refused credentials from another's bucket:
            // a listing's does.
            let l = try send(.list, method: .GET, key: nil, query: [("list-type", "2"), ("max-keys", "0")])
            if l.status == 403, let code = l.error?.code, code != "AccessDenied" { throw failure("read the bucket", key: nil, l) }
            throw SnapdexError.objectStorage(.bucketTakenByAnother(bucket: url.bucket, endpoint: address.origin))
        default: throw failure("read the bucket", key: nil, h)
        }
        // Outside us-east-1, AWS wants the region in the body; gateways ignore or accept it.
        var body: [UInt8] = []
        if configuration.endpoint == nil && configuration.region != "us-east-1" {
            body = Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        let r = try send(.put, method: .PUT, key: nil, body: body)
        switch (r.status, r.error?.code ?? "") {
        case (200, _): return true
        case (409, "BucketAlreadyOwnedByYou"): return false  // made by another process since the HEAD
        case (409, "BucketAlreadyExists"):
            throw SnapdexError.objectStorage(.bucketTakenByAnother(bucket: url.bucket, endpoint: address.origin))
        default: throw failure("create the bucket", key: nil, r)
        }
    }

    // MARK: Requests

    enum Kind { case get, put, list, head, delete }

    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var error: S3ErrorBody?
        var attempts: Int
    }

    /// Sends one request, retrying what may succeed on another attempt; returns the first
    /// answer that is final (any status but 5xx and 429), or throws when none came.
    private func send(_ kind: Kind, method: HTTPMethod, key: String?, query: [(name: String, value: String)] = [],
                      body: [UInt8] = [], headers extra: [(String, String)] = []) throws -> Response {
        let policy = configuration.retry
        let objectKey = key.map { url.objectKey($0) } ?? ""
        let path = address.encodedPath(key: objectKey)
        let payloadHash = SigV4Signer.hexSHA256(body)
        let started = Date()
        var random = SystemRandomNumberGenerator()
        var attempts = 0
        var lastFailure = ""
        var everAnswered = false
        while true {
            attempts += 1
            var request = SigV4Request(method: method.rawValue, encodedPath: path, query: query,
                                       headers: [("host", address.hostHeader)] + extra.map { (name: $0.0, value: $0.1) },
                                       payloadHash: payloadHash)
            signer.sign(&request, at: Date())
            var outcome: Result<Response, Error>
            do {
                let r = try perform(request, body: body)
                outcome = .success(Response(status: r.status, headers: r.headers, body: r.body,
                                            error: r.status >= 300 ? S3XML.errorBody(r.body) : nil, attempts: attempts))
            } catch {
                outcome = .failure(error)
            }
            record(kind, sent: body.count, received: (try? outcome.get())?.body.count ?? 0)
            switch outcome {
            case .success(let r):
                everAnswered = true
                let retryable = r.status >= 500 || r.status == 429
                    || (r.status == 409 && r.error?.code == "ConditionalRequestConflict")
                if !retryable { return r }
                lastFailure = "\(r.status) \(r.error?.code ?? HTTPResponseStatus(statusCode: r.status).reasonPhrase)"
            case .failure(let e):
                lastFailure = Self.transportReason(e)
            }
            let elapsed = Date().timeIntervalSince(started)
            guard policy.allowsAnother(after: attempts, elapsed: elapsed) else { break }
            let wait = min(policy.delay(after: attempts, using: &random), max(0, policy.maxTotal - elapsed))
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        if !everAnswered {
            throw SnapdexError.objectStorage(.endpointUnreachable(endpoint: address.origin, reason: lastFailure, attempts: attempts))
        }
        throw SnapdexError.objectStorage(.gaveUp(operation: method.rawValue, location: shown(key ?? ""), lastFailure: lastFailure,
                                                 attempts: attempts, seconds: Int(Date().timeIntervalSince(started).rounded())))
    }

    private func perform(_ signed: SigV4Request, body: [UInt8]) throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        let target = address.url(encodedPath: signed.encodedPath, encodedQuery: signed.encodedQuery)
        var headers = HTTPHeaders()
        for (name, value) in signed.headers where name.lowercased() != "host" { headers.add(name: name, value: value) }
        headers.replaceOrAdd(name: "Host", value: address.hostHeader)
        let request = try HTTPClient.Request(url: target, method: HTTPMethod(rawValue: signed.method), headers: headers,
                                             body: body.isEmpty && signed.method != "PUT" ? nil : .bytes(body))
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.retry.attemptTimeout * 1000))
        let response = try client.execute(request: request, deadline: deadline).wait()
        var bytes: [UInt8] = []
        if var buffer = response.body { bytes = buffer.readBytes(length: buffer.readableBytes) ?? [] }
        return (Int(response.status.code), response.headers, bytes)
    }

    private func record(_ kind: Kind, sent: Int, received: Int) {
        lock.lock()
        defer { lock.unlock() }
        switch kind {
        case .get: counts.get += 1
        case .put: counts.put += 1
        case .list: counts.list += 1
        case .head: counts.head += 1
        case .delete: counts.delete += 1
        }
        counts.bytesSent += Int64(sent)
        counts.bytesReceived += Int64(received)
    }

    /// A few words for what went wrong on the way: what a person can act on.
    static func transportReason(_ error: Error) -> String {
        let text = String(describing: error)
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "connect timeout"
            case .readTimeout, .deadlineExceeded: return "timeout"
            case .remoteConnectionClosed: return "connection closed by the server"
            default: break
            }
        }
        if text.contains("ECONNREFUSED") || text.lowercased().contains("connection refused") { return "connection refused" }
        if text.contains("ECONNRESET") || text.lowercased().contains("connection reset") { return "connection reset" }
        if text.lowercased().contains("timeout") || text.lowercased().contains("timed out") { return "timeout" }
        if text.contains("EPIPE") || text.lowercased().contains("broken pipe") { return "connection closed by the server" }
        if text.contains("EOF") || text.contains("ioOnClosedChannel") || text.lowercased().contains("closed") { return "connection closed by the server" }
        return text.count > 120 ? String(text.prefix(120)) : text
    }

    private func shown(_ key: String) -> String { key.isEmpty ? location : location + "/" + key }

    private func noSuchBucket() -> SnapdexError {
        .objectStorage(.noSuchBucket(bucket: url.bucket, endpoint: address.origin))
    }

    /// The error of a final answer that is not a success.
    private func failure(_ operation: String, key: String?, _ r: Response) -> SnapdexError {
        let code = r.error?.code ?? ""
        switch (r.status, code) {
        case (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"), (_, "InvalidToken"), (_, "ExpiredToken"),
             (_, "AuthorizationHeaderMalformed"), (_, "RequestTimeTooSkewed"), (_, "InvalidSecurity"):
            return .objectStorage(.wrongCredentials(endpoint: address.origin, accessKeyID: configuration.credentials.accessKeyID,
                                                    origin: configuration.credentials.origin, code: code))
        case (_, "NoSuchBucket"):
            return noSuchBucket()
        case (403, _):
            return .objectStorage(.accessDenied(operation: operation, location: shown(key ?? ""),
                                                accessKeyID: configuration.credentials.accessKeyID))
        default:
            return .objectStorage(.requestFailed(operation: operation, location: shown(key ?? ""), status: r.status,
                                                 code: code.isEmpty ? HTTPResponseStatus(statusCode: r.status).reasonPhrase : code,
                                                 message: r.error?.message ?? ""))
        }
    }
}
