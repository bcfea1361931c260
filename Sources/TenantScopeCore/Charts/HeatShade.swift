import Foundation

/// The background of a heat-map cell and a text colour that stays readable on it (WCAG AA, 4.5:1).
struct HeatShade: Equatable {
    /// Lightness of the blue: 92% for the lowest value of a column, 47% for the highest.
    let lightness: Int

    init(share: Double) {
        lightness = 92 - Int((min(max(share, 0), 1) * 45).rounded())
    }

    /// The page's text colour (`#1d2633`).
    static let ink = (r: 0x1d, g: 0x26, b: 0x33)

    /// The cell's inline style. The page's own text colour is kept where it is readable; otherwise
    /// white, and where neither reaches 4.5:1 (the middle of the scale), black.
    var style: String {
        let background = Self.luminance(Self.rgb(hue: 210, saturation: 0.7, lightness: Double(lightness) / 100))
        let ink = Self.luminance((Double(Self.ink.r) / 255, Double(Self.ink.g) / 255, Double(Self.ink.b) / 255))
        let colour: String? = if Self.contrast(background, ink) >= 4.5 { nil }
            else if Self.contrast(background, 1) >= 4.5 { "#fff" }
            else { "#000" }
        return "background:hsl(210,70%,\(lightness)%)" + (colour.map { ";color:\($0)" } ?? "")
    }

    static func rgb(hue: Double, saturation: Double, lightness: Double) -> (Double, Double, Double) {
        let chroma = (1 - abs(2 * lightness - 1)) * saturation
        let sector = hue / 60
        let second = chroma * (1 - abs(sector.truncatingRemainder(dividingBy: 2) - 1))
        let (r, g, b): (Double, Double, Double) = switch Int(sector) {
        case 0: (chroma, second, 0)
        case 1: (second, chroma, 0)
        case 2: (0, chroma, second)
        case 3: (0, second, chroma)
        case 4: (second, 0, chroma)
        default: (chroma, 0, second)
        }
        let match = lightness - chroma / 2
        // Browsers round to 8-bit channels; so does this, to agree with what a contrast checker sees.
        func channel(_ value: Double) -> Double { ((value + match) * 255).rounded() / 255 }
        return (channel(r), channel(g), channel(b))
    }

    /// WCAG relative luminance of an sRGB colour (channels 0...1).
    static func luminance(_ colour: (Double, Double, Double)) -> Double {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * linear(colour.0) + 0.7152 * linear(colour.1) + 0.0722 * linear(colour.2)
    }

    static func contrast(_ a: Double, _ b: Double) -> Double {
        (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }
}
