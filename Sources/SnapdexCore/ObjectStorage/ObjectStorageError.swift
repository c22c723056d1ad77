/// What can go wrong between Snapdex and an object store, each worded as what happened and
/// what to do. Thrown wrapped in `SnapdexError.objectStorage`, whose `exitCode` is the one place
/// that maps failures to exit statuses.
public enum ObjectStorageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An `s3://` URL that cannot name a bucket and prefix.
    case malformedURL(url: String, why: String)
    case invalidEndpoint(value: String, variable: String)
    case noCredentials(file: String, profile: String)
    case credentialsIncomplete(origin: String, missing: String)
    /// The server does not accept the key or its signature (`code`: SignatureDoesNotMatch,
    /// InvalidAccessKeyId, ...).
    case wrongCredentials(endpoint: String, accessKeyID: String, origin: String, code: String)
    case accessDenied(operation: String, location: String, accessKeyID: String)
    case noSuchBucket(bucket: String, endpoint: String)
    /// `createBucketIfMissing` of a name another account owns.
    case bucketTakenByAnother(bucket: String, endpoint: String)
    /// Could not connect at all (refused, no route, name not found), after retrying.
    case endpointUnreachable(endpoint: String, reason: String, attempts: Int)
    /// A request failed every attempt with a retryable failure (5xx, 429, timeout, reset).
    case gaveUp(operation: String, location: String, lastFailure: String, attempts: Int, seconds: Int)
    /// A response that no retry will change (an unexpected status or code).
    case requestFailed(operation: String, location: String, status: Int, code: String, message: String)
    /// A response body that does not parse as S3 XML.
    case invalidResponse(operation: String, location: String, why: String)

    public var description: String {
        switch self {
        case .malformedURL(let url, let why):
            return "\(url) is not an object-storage location: \(why); write it as s3://BUCKET or s3://BUCKET/PREFIX"
        case .invalidEndpoint(let value, let variable):
            return "\(variable)=\(value) is not an http:// or https:// URL with a host; set it like http://127.0.0.1:7480, or unset it for AWS"
        case .noCredentials(let file, let profile):
            return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a [\(profile)] section to \(file) (AWS_PROFILE chooses the section)"
        case .credentialsIncomplete(let origin, let missing):
            return "the S3 credentials in \(origin) lack \(missing); set it there"
        case .wrongCredentials(let endpoint, let id, let origin, let code):
            return "\(endpoint) refused access key \(id) from \(origin) (\(code)); check the key ID and secret (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or ~/.aws/credentials), AWS_REGION and the clock"
        case .accessDenied(let operation, let location, let id):
            return "access denied: access key \(id) may not \(operation) \(location); ask the bucket's owner for that permission or use other credentials"
        case .noSuchBucket(let bucket, let endpoint):
            return "bucket \(bucket) does not exist at \(endpoint); check the bucket name, AWS_ENDPOINT_URL and AWS_REGION"
        case .bucketTakenByAnother(let bucket, let endpoint):
            return "bucket \(bucket) at \(endpoint) belongs to another account; choose another bucket name"
        case .endpointUnreachable(let endpoint, let reason, let attempts):
            return "cannot reach \(endpoint) (\(reason), \(attempts) attempts); check AWS_ENDPOINT_URL and that the server runs, then rerun the command"
        case .gaveUp(let operation, let location, let last, let attempts, let seconds):
            return "\(operation) \(location) failed \(attempts) times in \(seconds) s (last: \(last)); nothing half-written was kept: rerun the command when the object store answers again"
        case .requestFailed(let operation, let location, let status, let code, let message):
            let said = message.isEmpty ? "" : ": \(message)"
            return "\(operation) \(location) was refused with \(status) \(code)\(said); check the bucket and its permissions, then rerun the command"
        case .invalidResponse(let operation, let location, let why):
            return "\(operation) \(location) got a response that is not S3's (\(why)); check that AWS_ENDPOINT_URL names an S3 server"
        }
    }

    /// 2 for what was typed wrong, 1 for everything else.
    public var exitCode: Int32 {
        switch self {
        case .malformedURL, .invalidEndpoint: return ExitStatus.usage
        default: return ExitStatus.failure
        }
    }
}
