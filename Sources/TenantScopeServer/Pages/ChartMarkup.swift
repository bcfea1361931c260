import Plot
import TenantScopeCore

extension Node {
    /// A chart's SVG and data table. The chart types build them as ``Markup``, which escapes every
    /// text and attribute value, so it is placed as it is: this is the pages' only raw node, and it
    /// takes `Markup`, never a string.
    static func chart(_ markup: Markup) -> Node {
        .raw(markup.rendered)
    }
}
