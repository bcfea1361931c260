import Foundation

/// What the export store needs from one page of a ListObjectsV2 answer: the keys, and whether and
/// where the listing goes on.
struct S3ListBucketResult: Equatable, Sendable {
    var keys: [String]
    var isTruncated: Bool
    var nextContinuationToken: String?

    init(keys: [String], isTruncated: Bool, nextContinuationToken: String?) {
        self.keys = keys
        self.isTruncated = isTruncated
        self.nextContinuationToken = nextContinuationToken
    }

    /// Parses `<ListBucketResult>`. The store asks for `encoding-type=url`, so keys arrive
    /// URL-encoded (any byte a key may hold survives XML) and are decoded here as S3 encodes them:
    /// `+` for a space, `%XX` for the rest.
    init(xml: some Collection<UInt8>) throws {
        let leaves = try S3XML.leaves(of: xml)
        guard let root = leaves.first?.path.first, root == "ListBucketResult" else {
            throw S3XML.Malformed(description: "not a ListBucketResult")
        }
        let urlEncoded = leaves.contains { $0.path == ["ListBucketResult", "EncodingType"] && $0.text == "url" }
        var keys: [String] = []
        var isTruncated = false
        var token: String?
        for leaf in leaves {
            switch leaf.path {
            case ["ListBucketResult", "Contents", "Key"]:
                guard urlEncoded else { keys.append(leaf.text); continue }
                guard let key = leaf.text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw S3XML.Malformed(description: "a key that is not URL-encoded")
                }
                keys.append(key)
            case ["ListBucketResult", "IsTruncated"]:
                isTruncated = leaf.text == "true"
            case ["ListBucketResult", "NextContinuationToken"]:
                token = leaf.text
            default:
                continue
            }
        }
        if isTruncated, token?.isEmpty ?? true {
            throw S3XML.Malformed(description: "a truncated listing without a continuation token")
        }
        self.init(keys: keys, isTruncated: isTruncated, nextContinuationToken: isTruncated ? token : nil)
    }
}
