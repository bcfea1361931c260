import Plot
import TenantScopeCore

// Plot 0.14 escapes text but writes attribute values as they are (JohnSundell/Plot#104), so a `"` in
// a course name would end the attribute and start markup. Every attribute whose value is not a
// literal goes through `attr`, which escapes it; Plot's own attribute modifiers get literals only.
// The pages' snapshot tests render hostile names to hold this.

extension Node {
    /// An attribute with an escaped value. An empty value is kept (`value=""` reads as `value`).
    static func attr(_ name: StaticString, _ value: String) -> Node {
        .attribute(named: name.description, value: Markup.escape(value), ignoreIfValueIsEmpty: false)
    }

    /// A boolean attribute (`selected`, `open`) when `isOn`.
    static func flag(_ name: StaticString, _ isOn: Bool) -> Node {
        isOn ? .attribute(named: name.description) : .empty
    }
}

extension Attribute {
    /// As ``Node/attr(_:_:)``, for elements that take attributes only (`<input>`).
    static func attr(_ name: StaticString, _ value: String) -> Attribute {
        Attribute(name: name.description, value: Markup.escape(value), ignoreIfValueIsEmpty: false)
    }
}
