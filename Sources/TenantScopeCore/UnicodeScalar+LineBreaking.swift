extension Unicode.Scalar {
    /// A C0 or C1 control character (line feed and carriage return among them), DEL, or a Unicode line or paragraph
    /// separator: what can start a new line, or rewrite one, where text is printed. A token's subject may hold none
    /// (it is the audit rows' actor), and `tenantscope audit tail` escapes them in every value it prints.
    public var isControlOrLineSeparator: Bool {
        properties.generalCategory == .control || self == "\u{2028}" || self == "\u{2029}"
    }
}
