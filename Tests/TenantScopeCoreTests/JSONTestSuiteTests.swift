import Foundation
import Testing
@testable import TenantScopeCore

/// nst/JSONTestSuite's parsing corpus (Resources/JSONTestSuite/README.md) through ``JSONParser``: every
/// `y_` file parses (and writes back to the same value), every `n_` file is refused, and each `i_` file,
/// where RFC 8259 leaves the choice to the parser, gets the answer pinned below. A crash fails the run.
@Suite struct JSONTestSuiteTests {
    /// `y_` files refused on purpose: PostgreSQL cannot store the document (docs/architecture.md,
    /// decision 20). Keep this list short and true: a listed file that parses fails the suite.
    static let deliberateRefusals: [String: String] = [
        "y_object_escaped_null_in_key.json": "\\u0000 cannot be stored",
        "y_string_null_escape.json": "\\u0000 cannot be stored",
    ]

    /// The `i_` files the parser accepts; it refuses every other `i_` file. Why, for each group:
    /// - accepted: integers beyond 64 bits (kept exactly, as jsonb's numeric keeps them), a small
    ///   exponent whose digits numeric still holds (`123.456e-789`), 500 levels of nesting (under 512);
    /// - refused: numbers beyond a Double, or with more decimal places than numeric keeps
    ///   (`123e-10000000`); lone or broken UTF-16 surrogates in escapes; bytes that are not UTF-8
    ///   (overlong forms, surrogates, Latin-1, UTF-16 with or without a byte order mark); a UTF-8 byte
    ///   order mark, which RFC 8259 says a parser may ignore and we do not, as PostgreSQL does not.
    static let acceptedImplementationDefined: Set<String> = [
        "i_number_double_huge_neg_exp.json",
        "i_number_too_big_neg_int.json",
        "i_number_too_big_pos_int.json",
        "i_number_very_big_negative_int.json",
        "i_structure_500_nested_arrays.json",
    ]

    static let directory = Bundle.module.url(forResource: "JSONTestSuite", withExtension: nil)!
        .appendingPathComponent("test_parsing")

    static func files(_ prefix: String) throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(prefix) }.sorted().map {
            ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0))))
        }
    }

    static func verdict(_ bytes: [UInt8]) -> Result<JSONValue, JSONParser.Failure> {
        Result { () throws(JSONParser.Failure) in try JSONParser.parse(bytes) }
    }

    @Test func theCorpusIsComplete() throws {
        #expect(try Self.files("y_").count == 95)
        #expect(try Self.files("n_").count == 188)
        #expect(try Self.files("i_").count == 35)
    }

    @Test func everyAcceptFileParsesAndWritesBackToTheSameValue() throws {
        for (name, bytes) in try Self.files("y_") where Self.deliberateRefusals[name] == nil {
            switch Self.verdict(bytes) {
            case .success(let value):
                #expect(try JSONParser.parse(value.jsonText.utf8) == value, "\(name)")
            case .failure(let failure):
                Issue.record("\(name) must parse: \(failure)")
            }
        }
    }

    @Test func theDeliberateRefusalsAreRefusedForTheirReason() throws {
        let accept = try Self.files("y_")
        for (name, reason) in Self.deliberateRefusals {
            let bytes = try #require(accept.first { $0.name == name }?.bytes, "\(name) is not in the corpus")
            guard case .failure(let failure) = Self.verdict(bytes) else {
                Issue.record("\(name) parses now: remove it from deliberateRefusals")
                continue
            }
            #expect(failure.reason.contains(reason), "\(name): \(failure)")
        }
    }

    @Test func everyRefuseFileIsRefusedAtAnOffsetInsideTheInput() throws {
        for (name, bytes) in try Self.files("n_") {
            switch Self.verdict(bytes) {
            case .success(let value):
                Issue.record("\(name) must be refused, parsed as \(value.jsonText.prefix(80))")
            case .failure(let failure):
                #expect((0...bytes.count).contains(failure.offset), "\(name): \(failure)")
            }
        }
    }

    @Test func implementationDefinedFilesGetThePinnedAnswer() throws {
        let files = try Self.files("i_")
        #expect(Self.acceptedImplementationDefined.isSubset(of: files.map(\.name)))
        for (name, bytes) in files {
            switch Self.verdict(bytes) {
            case .success:
                #expect(Self.acceptedImplementationDefined.contains(name), "\(name) parses, but is expected to be refused")
            case .failure(let failure):
                #expect(!Self.acceptedImplementationDefined.contains(name), "\(name) is refused: \(failure)")
            }
        }
    }
}
