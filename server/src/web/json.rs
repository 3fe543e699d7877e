//! The data a page's script reads: JSON inside `<script type="application/json" id=…>`, which
//! the browser never runs and the script reads with `JSON.parse(el.textContent)`.
//!
//! The browser ends a script element at the first `</script` whatever the type, and `<!--`
//! inside it changes how that end is found, so a service name or a complaint could otherwise
//! close the block and put markup on the page. Every `<`, `>` and `&` is therefore written as a
//! `\u` escape, which `JSON.parse` reads back as the same character; U+2028 and U+2029 too, so
//! the text stays valid even where it is read as JavaScript. The escapes can only fall inside
//! JSON strings: none of these characters is part of JSON's own syntax.

use maud::{Markup, PreEscaped, html};

/// `<script id=(id) type="application/json">` holding `v`, escaped so nothing in it can end
/// the block.
pub fn json_block(id: &str, v: &serde_json::Value) -> Markup {
    html! { script id=(id) type="application/json" { (PreEscaped(script_safe(v))) } }
}

/// `v` as JSON text with no character that means anything to the HTML parser.
fn script_safe(v: &serde_json::Value) -> String {
    let json = v.to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HOSTILE: &str = "</script><!--<script>alert(1)</script> & \u{2028}\u{2029}";

    #[test]
    fn a_value_cannot_end_the_block() {
        let v = json!({ "name": HOSTILE, "list": [HOSTILE], HOSTILE: 1 });
        let html = json_block("data", &v).into_string();
        let inner = html
            .strip_prefix(r#"<script id="data" type="application/json">"#)
            .and_then(|s| s.strip_suffix("</script>"))
            .expect("one script element");
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!inner.contains(bad), "{bad:?} left in {inner}");
        }
    }

    #[test]
    fn the_script_reads_back_the_same_value() {
        let v = json!({ "name": HOSTILE, "n": 3, "ok": true, "none": null, "zh": "办理流程" });
        let back: serde_json::Value = serde_json::from_str(&script_safe(&v)).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn the_id_is_an_escaped_attribute() {
        let html = json_block(r#"a"b"#, &json!(1)).into_string();
        assert_eq!(
            html,
            r#"<script id="a&quot;b" type="application/json">1</script>"#
        );
    }
}
