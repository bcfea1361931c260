/// HTML or SVG built from typed parts, for the charts.
///
/// Element and attribute names are `StaticString`s, so they can only be literals in the code. Text
/// and attribute values are escaped when the markup is rendered, so data can never turn into markup.
/// Pages embed a chart's rendered `Markup` as it is (see the server's `ChartMarkup`).
public struct Markup: Sendable, Hashable {
    enum Content: Sendable, Hashable {
        case element(name: String, attributes: [Attribute], children: [Markup])
        case text(String)
        case fragment([Markup])
    }

    struct Attribute: Sendable, Hashable {
        var name: String
        var value: String
    }

    let content: Content

    /// An element. Attributes with a nil value are left out, which keeps optional attributes inline.
    public static func element(_ name: StaticString, _ attributes: KeyValuePairs<StaticString, String?> = [:], _ children: [Markup] = []) -> Markup {
        Markup(content: .element(
            name: name.description,
            attributes: attributes.compactMap { name, value in value.map { Attribute(name: name.description, value: $0) } },
            children: children))
    }

    public static func text(_ text: String) -> Markup {
        Markup(content: .text(text))
    }

    /// Several siblings with no element around them.
    public static func fragment(_ parts: [Markup]) -> Markup {
        Markup(content: .fragment(parts))
    }

    public static let empty = Markup(content: .fragment([]))

    /// The markup as text. Every element is closed explicitly (`<line …></line>`), which is valid in
    /// HTML and in inline SVG alike; there are no void elements in charts.
    public var rendered: String {
        var output = ""
        render(into: &output)
        return output
    }

    private func render(into output: inout String) {
        switch content {
        case .text(let text):
            output += Self.escape(text)
        case .fragment(let parts):
            for part in parts { part.render(into: &output) }
        case .element(let name, let attributes, let children):
            output += "<" + name
            for attribute in attributes {
                output += " " + attribute.name + "=\"" + Self.escape(attribute.value) + "\""
            }
            output += ">"
            for child in children { child.render(into: &output) }
            output += "</" + name + ">"
        }
    }

    /// Escapes text for HTML and SVG content and for quoted attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
