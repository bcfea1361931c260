/// libFuzzer target for `JSONParser`. scripts/fuzz-json.sh compiles it together with the sources of
/// Sources/TenantScopeCore/JSON (one module, no Foundation), with `-sanitize=fuzzer,address`.
///
/// For every input: parsing must return or throw, never crash or touch memory it does not own (the
/// address sanitizer checks); a refusal must name an offset inside the input; and a document that
/// parses must survive writing and parsing again unchanged, in both key orders of the writer. That last
/// property is what ingest relies on: the LRS stores the writer's text of what the parser read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let value: JSONValue
    do {
        value = try JSONParser.parse(input)
    } catch {
        if !(0...size).contains(error.offset) {
            fatalError("refusal at offset \(error.offset), outside an input of \(size) bytes: \(error)")
        }
        return 0
    }
    for sortingKeys in [false, true] {
        let text = value.jsonText(sortingKeys: sortingKeys)
        do {
            let again = try JSONParser.parse(text.utf8)
            if again != value { fatalError("write then parse changed the document; written: \(text)") }
        } catch {
            fatalError("the parser refuses the writer's text (\(error)); written: \(text)")
        }
    }
    return 0
}
