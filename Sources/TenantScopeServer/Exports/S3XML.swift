import Foundation

/// Reads the leaf elements of an S3 XML answer (a listing or an error): each element without child
/// elements, with the path of element names that leads to it and its decoded text.
///
/// Not Foundation's XMLParser: on Linux it lives in FoundationXML, which would make libxml2 a run-time
/// dependency of the whole server for two small, flat documents. This reader accepts what S3 answers
/// (a declaration, elements with attributes, text with the five predefined and numeric character
/// references, CDATA, comments) and refuses the rest, a document type declaration (and so any entity
/// expansion) included. Namespace prefixes are dropped from names.
enum S3XML {
    struct Leaf: Equatable, Sendable {
        var path: [String]
        var text: String
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func leaves(of document: some Collection<UInt8>) throws -> [Leaf] {
        let bytes = Array(document)
        var leaves: [Leaf] = []
        var stack: [String] = []
        // Whether each open element has had a child element (then it is no leaf).
        var hasChild: [Bool] = []
        var text: [UInt8] = []
        var index = 0

        func starts(with prefix: String, at position: Int) -> Bool {
            let prefix = Array(prefix.utf8)
            return position + prefix.count <= bytes.count && Array(bytes[position..<position + prefix.count]) == prefix
        }
        func position(of terminator: String, from start: Int) throws -> Int {
            var position = start
            while position < bytes.count {
                if starts(with: terminator, at: position) { return position }
                position += 1
            }
            throw Malformed(description: "unterminated markup (no \(terminator))")
        }

        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                text.append(bytes[index])
                index += 1
                continue
            }
            if starts(with: "<?", at: index) {
                index = try position(of: "?>", from: index + 2) + 2
            } else if starts(with: "<!--", at: index) {
                index = try position(of: "-->", from: index + 4) + 3
            } else if starts(with: "<![CDATA[", at: index) {
                let end = try position(of: "]]>", from: index + 9)
                // CDATA text is literal: escaped here so that decoding the whole text gives it back.
                text += escaped(Array(bytes[(index + 9)..<end]))
                index = end + 3
            } else if starts(with: "<!", at: index) {
                throw Malformed(description: "a document type declaration is not accepted")
            } else if starts(with: "</", at: index) {
                let end = try position(of: ">", from: index + 2)
                let name = localName(bytes[(index + 2)..<end])
                guard let open = stack.last, open == name else { throw Malformed(description: "mismatched end tag </\(name)>") }
                if hasChild.last == false { leaves.append(Leaf(path: stack, text: try decode(text))) }
                stack.removeLast()
                hasChild.removeLast()
                text = []
                index = end + 1
            } else {
                // A start tag; attribute values may hold `>` inside quotes.
                var end = index + 1
                var quote: UInt8?
                while end < bytes.count {
                    let byte = bytes[end]
                    if let open = quote {
                        if byte == open { quote = nil }
                    } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                        quote = byte
                    } else if byte == UInt8(ascii: ">") {
                        break
                    }
                    end += 1
                }
                guard end < bytes.count else { throw Malformed(description: "unterminated start tag") }
                let selfClosing = bytes[end - 1] == UInt8(ascii: "/")
                var nameEnd = index + 1
                while nameEnd < end, !isSpace(bytes[nameEnd]), bytes[nameEnd] != UInt8(ascii: "/") { nameEnd += 1 }
                let name = localName(bytes[(index + 1)..<nameEnd])
                guard !name.isEmpty else { throw Malformed(description: "a start tag without a name") }
                if !hasChild.isEmpty { hasChild[hasChild.count - 1] = true }
                if selfClosing {
                    leaves.append(Leaf(path: stack + [name], text: ""))
                } else {
                    stack.append(name)
                    hasChild.append(false)
                }
                text = []
                index = end + 1
            }
        }
        guard stack.isEmpty else { throw Malformed(description: "the document ends inside <\(stack.last!)>") }
        return leaves
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func localName(_ bytes: ArraySlice<UInt8>) -> String {
        let name = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return name.split(separator: ":").last.map(String.init) ?? name
    }

    /// CDATA text re-escaped so that ``decode(_:)`` gives it back literally.
    private static func escaped(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            default: out.append(byte)
            }
        }
        return out
    }

    /// Text with its character references replaced.
    private static func decode(_ bytes: [UInt8]) throws -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "&") else {
                out.append(bytes[index])
                index += 1
                continue
            }
            guard let semicolon = bytes[index...].firstIndex(of: UInt8(ascii: ";")), semicolon - index <= 10 else {
                throw Malformed(description: "an unterminated character reference")
            }
            let name = String(decoding: bytes[(index + 1)..<semicolon], as: UTF8.self)
            switch name {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let value: UInt32?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    value = UInt32(name.dropFirst(2), radix: 16)
                } else if name.hasPrefix("#") {
                    value = UInt32(name.dropFirst(), radix: 10)
                } else {
                    value = nil
                }
                guard let value, let scalar = Unicode.Scalar(value) else { throw Malformed(description: "an unknown reference &\(name);") }
                out += Array(String(Character(scalar)).utf8)
            }
            index = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
