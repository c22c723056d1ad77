import Foundation

/// Where the S3 server is and how to address a bucket on it, from the variables every S3
/// tool reads.
public struct S3Configuration: Sendable {
    /// `http://127.0.0.1:7480` for a gateway; nil for AWS itself.
    public var endpoint: S3Endpoint?
    public var region: String
    public var credentials: S3Credentials
    public var retry: RetryPolicy

    public init(endpoint: S3Endpoint?, region: String, credentials: S3Credentials, retry: RetryPolicy = .standard) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.retry = retry
    }

    /// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`; `AWS_REGION` or `AWS_DEFAULT_REGION`
    /// (default us-east-1); credentials as `S3Credentials.resolve` finds them.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Configuration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var endpoint: S3Endpoint?
        for variable in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
            guard let text = value(variable) else { continue }
            endpoint = try S3Endpoint.parse(text, variable: variable)
            break
        }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        return S3Configuration(endpoint: endpoint, region: region, credentials: try S3Credentials.resolve(environment: environment))
    }

    /// Path style (`http://host:port/BUCKET/KEY`) for custom endpoints, which rarely have a
    /// DNS name per bucket; virtual-host style (`https://BUCKET.s3.REGION.amazonaws.com/KEY`)
    /// for AWS, except for bucket names with dots, which TLS certificates do not cover.
    public func address(bucket: String) -> S3Address {
        if let e = endpoint {
            return S3Address(scheme: e.scheme, host: e.host, port: e.port, pathPrefix: e.path + "/" + bucket)
        }
        let host = "s3.\(region).amazonaws.com"
        if bucket.contains(".") { return S3Address(scheme: "https", host: host, port: nil, pathPrefix: "/" + bucket) }
        return S3Address(scheme: "https", host: "\(bucket).\(host)", port: nil, pathPrefix: "")
    }
}

/// A custom S3 server's base URL.
public struct S3Endpoint: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path the server is mounted under (rare), without a trailing `/`; usually empty.
    public var path: String

    public init(scheme: String, host: String, port: Int?, path: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    public static func parse(_ text: String, variable: String = "AWS_ENDPOINT_URL") throws -> S3Endpoint {
        let bad = SnapdexError.objectStorage(.invalidEndpoint(value: text, variable: variable))
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = c.host, !host.isEmpty, c.query == nil, c.fragment == nil
        else { throw bad }
        var path = c.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        return S3Endpoint(scheme: scheme, host: host, port: c.port, path: path)
    }

    public var description: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(path)" }
}

/// The base of every request to one bucket: host, and the path keys are appended to.
public struct S3Address: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// `/BUCKET` in path style, empty in virtual-host style.
    public var pathPrefix: String

    /// What the Host header says: the port only when it is not the scheme's own.
    public var hostHeader: String {
        guard let p = port, !(scheme == "http" && p == 80), !(scheme == "https" && p == 443) else { return hostForURL }
        return "\(hostForURL):\(p)"
    }

    var hostForURL: String { host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host }

    /// The encoded path of an object key, or of the bucket itself for an empty key.
    public func encodedPath(key: String) -> String {
        let base = pathPrefix.isEmpty ? "/" : SigV4Encoding.path(pathPrefix) + (key.isEmpty ? "" : "/")
        return base + SigV4Encoding.path(key)
    }

    public func url(encodedPath: String, encodedQuery: String) -> String {
        "\(scheme)://\(hostHeader)\(encodedPath)\(encodedQuery.isEmpty ? "" : "?" + encodedQuery)"
    }

    /// For messages: `http://127.0.0.1:7480`.
    public var origin: String { "\(scheme)://\(hostHeader)" }
}
