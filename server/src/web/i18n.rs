//! The pages in their languages: 简体中文, 繁體中文, English ([`Lang`], shared with the kiosk).
//! Customer pages offer all three; the staff console and the manager's pages are written in
//! Simplified Chinese and English (Traditional falls back to Simplified). Here: how a request
//! picks its language, how a page chooses its words, and the texts that take numbers.

use axum::http::{HeaderMap, header};

pub use qhall_shared::Lang;

/// `?lang=`, else the `qhall_lang` cookie, else the browser's first known language, else 简体.
pub fn pick(query: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(l) = query.and_then(Lang::parse) {
        return l;
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("qhall_lang="))
        .and_then(Lang::parse);
    if let Some(l) = cookie {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for part in accept.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim();
        if let Some(l) = Lang::parse(tag) {
            return l;
        }
        if tag.starts_with("en") {
            return Lang::En;
        }
        if tag.starts_with("zh") {
            return Lang::Zh;
        }
    }
    Lang::default()
}

/// How a page says something in its language: `lang.t(简, 繁, en)` on the customer pages,
/// `lang.s(简, en)` on the staff and manager pages (written in Simplified Chinese and English).
pub trait Words {
    /// One text in the three languages.
    fn t<'a>(self, zh: &'a str, zh_hant: &'a str, en: &'a str) -> &'a str;

    /// A staff text: Simplified Chinese or English (Traditional reads the Simplified).
    fn s<'a>(self, zh: &'a str, en: &'a str) -> &'a str;
}

impl Words for Lang {
    fn t<'a>(self, zh: &'a str, zh_hant: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::ZhHant => zh_hant,
            Lang::En => en,
        }
    }

    fn s<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh | Lang::ZhHant => zh,
            Lang::En => en,
        }
    }
}

/// An estimate as the customer reads it: a range with its unit, never a bare number of seconds
/// (the same steps as the kiosk: 5 minutes up to an hour, 15 up to two hours).
pub fn wait(lang: Lang, secs: u64) -> String {
    let mins = secs.div_ceil(60);
    match mins {
        0..5 => lang
            .t("约 5 分钟以内", "約 5 分鐘以內", "under 5 min")
            .to_owned(),
        5..120 => {
            let step = if mins < 60 { 5 } else { 15 };
            let lo = mins / step * step;
            let hi = lo + step;
            match lang {
                Lang::Zh => format!("约 {lo}–{hi} 分钟"),
                Lang::ZhHant => format!("約 {lo}–{hi} 分鐘"),
                Lang::En => format!("about {lo}–{hi} min"),
            }
        }
        _ => lang
            .t("超过 2 小时", "超過 2 小時", "over 2 hours")
            .to_owned(),
    }
}

/// "3 people ahead of you".
pub fn ahead(lang: Lang, n: u32) -> String {
    match (lang, n) {
        (Lang::Zh, 0) => "下一位就是您".to_owned(),
        (Lang::ZhHant, 0) => "下一位就是您".to_owned(),
        (Lang::En, 0) => "You are next".to_owned(),
        (Lang::Zh, n) => format!("您前面还有 {n} 人"),
        (Lang::ZhHant, n) => format!("您前面還有 {n} 人"),
        (Lang::En, 1) => "1 person ahead of you".to_owned(),
        (Lang::En, n) => format!("{n} people ahead of you"),
    }
}

/// "Please go to window 3".
pub fn go_to_window(lang: Lang, n: u32) -> String {
    match lang {
        Lang::Zh => format!("请到 {n} 号窗口"),
        Lang::ZhHant => format!("請到 {n} 號窗口"),
        Lang::En => format!("Please go to window {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_ranges_with_units() {
        assert_eq!(wait(Lang::En, 0), "under 5 min");
        assert_eq!(wait(Lang::En, 420), "about 5–10 min");
        assert_eq!(wait(Lang::Zh, 600), "约 10–15 分钟");
        assert_eq!(wait(Lang::ZhHant, 65 * 60), "約 60–75 分鐘");
        assert_eq!(wait(Lang::En, 3 * 3600), "over 2 hours");
    }

    #[test]
    fn the_language_comes_from_the_query_then_cookie_then_browser() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9".parse().unwrap());
        assert_eq!(pick(None, &h), Lang::En);
        assert_eq!(pick(Some("zh-Hant"), &h), Lang::ZhHant);
        h.insert(header::COOKIE, "a=b; qhall_lang=zh".parse().unwrap());
        assert_eq!(pick(None, &h), Lang::Zh);
        assert_eq!(pick(None, &HeaderMap::new()), Lang::Zh);
    }

    #[test]
    fn any_spelling_of_a_language_is_read_wherever_it_comes_from() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "zh-MO,zh;q=0.9".parse().unwrap());
        assert_eq!(pick(None, &h), Lang::ZhHant);
        assert_eq!(pick(Some("EN"), &h), Lang::En);
        h.insert(header::COOKIE, "qhall_lang=zh_TW".parse().unwrap());
        assert_eq!(pick(None, &h), Lang::ZhHant);
        // A tag no list names still goes by its language.
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-CH, en-AU;q=0.8".parse().unwrap(),
        );
        assert_eq!(pick(None, &h), Lang::En);
    }
}
