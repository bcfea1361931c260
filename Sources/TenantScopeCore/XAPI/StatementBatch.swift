import Foundation

/// Parses and validates the body of `POST`/`PUT /xAPI/statements`: one statement or an array of them.
///
/// All-or-nothing: the first invalid statement refuses the whole batch with an error naming its index
/// and the property (`statements[3].actor.mbox must be a mailto: IRI`).
public enum StatementBatch {
    public static let maximumStatements = 5_000

    public static func parse(
        _ body: Data, validator: StatementValidator, stored: Date = Date(), requiredID: UUID? = nil
    ) throws(TenantScopeError) -> [PreparedStatement] {
        try parse(document: decode(body), validator: validator, stored: stored, requiredID: requiredID)
    }

    /// The body's JSON, or a 400 that says where it stops being JSON.
    public static func decode(_ body: Data) throws(TenantScopeError) -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            throw .invalidInput("the request body is not valid JSON: \(error)")
        }
    }

    /// ``parse(_:validator:stored:requiredID:)`` of a body already decoded (``decode(_:)``): a caller that also
    /// reads the statements as sent decodes the body once.
    public static func parse(
        document decoded: JSONValue, validator: StatementValidator, stored: Date = Date(), requiredID: UUID? = nil
    ) throws(TenantScopeError) -> [PreparedStatement] {
        let items: [(JSONValue, String)]
        if let list = decoded.arrayValue {
            guard requiredID == nil else { throw .invalidInput("PUT takes a single statement, not an array") }
            guard !list.isEmpty else { throw .invalidInput("the statement array is empty") }
            guard list.count <= maximumStatements else {
                throw .invalidInput("a batch holds at most \(maximumStatements) statements; split it")
            }
            items = list.enumerated().map { ($1, "statements[\($0)]") }
        } else {
            items = [(decoded, "statement")]
        }

        var prepared: [PreparedStatement] = []
        prepared.reserveCapacity(items.count)
        let baseMicroseconds = ISO8601Timestamp.epochMicroseconds(stored)
        var seen: [UUID: String] = [:]
        var random = RandomUUID.Buffered()
        for (item, path) in items {
            var item = item
            if let requiredID, var object = item.objectValue {
                if let given = object["id"] {
                    guard given.stringValue.flatMap(UUIDText.parse) == requiredID else {
                        throw .invalidInput("\(path).id does not match the statementId parameter")
                    }
                } else {
                    object["id"] = .string(UUIDText.lowercase(requiredID))
                }
                item = .object(object)
            }
            let gaveTimestamp = item["timestamp"] != nil
            // One microsecond apart, so ordering by `stored` keeps the order of the batch. Counted in exact
            // integer microseconds: a Date cannot hold 1 µs steps reliably.
            let storedText = ISO8601Timestamp.formatMicroseconds(epochMicroseconds: baseMicroseconds + Int64(prepared.count))
            let storedAt = ISO8601Timestamp.parse(storedText) ?? stored
            let (json, facts) = try validator.prepare(
                item, path: path, stored: storedAt, storedText: storedText, generateID: { RandomUUID.make(using: &random) })
            if let earlier = seen[facts.id] {
                throw .invalidInput("\(path).id repeats the id of \(earlier); a batch may not hold one statement twice")
            }
            seen[facts.id] = path
            prepared.append(PreparedStatement(
                id: facts.id, json: json.jsonText, facts: facts, stored: storedAt, storedText: storedText,
                senderGaveTimestamp: gaveTimestamp
            ))
        }
        // A voiding statement may not void another voiding statement of the same batch.
        let voidingIDs = Set(prepared.filter(\.facts.isVoiding).map(\.id))
        if let offender = prepared.first(where: { $0.facts.voidedStatementID.map(voidingIDs.contains) ?? false }) {
            throw .invalidInput("\(seen[offender.id] ?? "statement") voids a voiding statement, which xAPI does not allow")
        }
        return prepared
    }
}
