import Testing
@testable import TenantScopeCore

@Suite struct JSONObjectTests {
    @Test func membersKeepTheOrderTheyWereGivenIn() throws {
        let parsed = try #require(JSONParser.parse(Array(#"{"verb": 1, "actor": 2, "id": 3}"#.utf8)).objectValue)
        #expect(parsed.keys == ["verb", "actor", "id"])
        #expect(JSONValue.object(parsed).jsonText == #"{"verb":1,"actor":2,"id":3}"#)
        #expect(JSONValue.object(parsed).jsonText(sortingKeys: true) == #"{"actor":2,"id":3,"verb":1}"#)
    }

    @Test func aRepeatedKeyKeepsItsFirstPlaceAndItsLastValue() throws {
        let parsed = try #require(JSONParser.parse(Array(#"{"a": 1, "b": 2, "a": 3}"#.utf8)).objectValue)
        #expect(parsed.count == 2)
        #expect(parsed.keys == ["a", "b"])
        #expect(parsed["a"] == .number("3"))
    }

    @Test func equalityAndHashingIgnoreTheOrder() {
        let one: JSONObject = ["a": 1, "b": ["c": true, "d": .null]]
        let other: JSONObject = ["b": ["d": .null, "c": true], "a": 1]
        #expect(one == other)
        #expect(one.hashValue == other.hashValue)
        #expect(one != ["a": 1, "b": ["c": true]])
        #expect(one != ["a": 1, "b": ["c": true, "d": .null], "e": 2])
        #expect(JSONObject(["z": 1, "a": 2] as [String: JSONValue]).keys == ["a", "z"], "a dictionary's members come in key order")
    }

    /// Random inserts, updates and removals, small and large (past the size where lookups go through an index),
    /// checked after every step against a dictionary and against the insertion order the object must keep.
    @Test(arguments: [3, 40, 300])
    func behavesLikeADictionaryThatKeepsInsertionOrder(keySpace: Int) {
        var random = SeededGenerator(name: "JSONObjectTests/\(keySpace)")
        var object = JSONObject()
        var model: [String: JSONValue] = [:]
        var order: [String] = []
        for step in 0..<2_000 {
            let key = "k\(Int.random(in: 0..<keySpace, using: &random))"
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<2:
                #expect(object.removeValue(forKey: key) == model.removeValue(forKey: key))
                order.removeAll { $0 == key }
            case 2:
                #expect(object[key] == model[key])
            default:
                let value = JSONValue(step)
                #expect(object.updateValue(value, forKey: key) == model.updateValue(value, forKey: key))
                if !order.contains(key) { order.append(key) }
            }
            #expect(object.count == model.count)
        }
        #expect(object.keys == order)
        for key in (0..<keySpace).map({ "k\($0)" }) { #expect(object[key] == model[key], "\(key)") }
        #expect(object == JSONObject(model))
    }

    @Test func aLargeObjectParsesWithEveryMemberFound() throws {
        let members = (0..<5_000).map { #""key-\#($0)": \#($0)"# }.joined(separator: ",")
        let parsed = try #require(JSONParser.parse(Array("{\(members), \"key-7\": \"again\"}".utf8)).objectValue)
        #expect(parsed.count == 5_000)
        #expect(parsed["key-4999"] == .number("4999"))
        #expect(parsed["key-7"] == .string("again"))
        #expect(parsed.keys.first == "key-0" && parsed.keys.last == "key-4999")
        #expect(throws: JSONParser.Failure.self) {
            try JSONParser.parse(Array("{\(members), \"key-7\": 1}".utf8), refusingDuplicateKeys: true)
        }
    }

    @Test func mergingKeepsThePlaceOfAKeyBothHave() {
        var object: JSONObject = ["a": 1, "b": 2]
        object.merge(["b": 3, "c": 4]) { _, new in new }
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["b"] == 3)
        #expect(object.merging(["a": 9]) { old, _ in old }["a"] == 1)
        #expect(object.filter { $0.key != "b" }.keys == ["a", "c"])
        #expect(object.mapValues { _ in .null }.values == [.null, .null, .null])
    }
}
