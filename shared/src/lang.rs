//! The hall's three languages: 简体中文, 繁體中文, English. The kiosk and the web pages offer the
//! same three, name them the same way and read the same spellings, so they are defined once,
//! here. What each program says in them stays with the program (the kiosk's `texts`, the
//! pages' `t`/`s`); so does how a page picks one from a request.

use std::fmt;

/// A language a customer or a member of staff can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文, the hall's own language: the default wherever nothing else was asked for.
    #[default]
    Zh,
    /// 繁體中文
    ZhHant,
    /// English
    En,
}

impl Lang {
    /// In the order the language switches show them.
    pub const ALL: [Lang; 3] = [Lang::Zh, Lang::ZhHant, Lang::En];

    /// The code used in `?lang=`, the `qhall_lang` cookie, `<html lang>`, the kiosk's
    /// configuration and [`crate::api::Localized::get`].
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::ZhHant => "zh-Hant",
            Lang::En => "en",
        }
    }

    /// The language named in itself, as the language switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Zh => "简体中文",
            Lang::ZhHant => "繁體中文",
            Lang::En => "English",
        }
    }

    /// Reads a code, a browser's tag or a locale name: `zh`, `zh-Hans`, `zh-CN`, `zh-Hant`,
    /// `zh-TW`, `zh_HK`, `en-GB` … without regard to case, `_` read as `-`. Tags it does not
    /// know give `None`, so the caller can try its next source.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "zh" | "zh-hans" | "zh-cn" | "zh-sg" | "cmn" => Some(Lang::Zh),
            "zh-hant" | "zh-tw" | "zh-hk" | "zh-mo" => Some(Lang::ZhHant),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_language() {
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
            assert_eq!(l.to_string(), l.code());
        }
    }

    #[test]
    fn simplified_chinese_is_read_from_its_tags_in_any_case() {
        for s in [
            "zh", "ZH", "zh-Hans", "zh-hans", "zh_Hans", "zh-CN", "zh-cn", "zh_CN", "zh-SG",
            "zh_sg", "cmn",
        ] {
            assert_eq!(Lang::parse(s), Some(Lang::Zh), "{s}");
        }
    }

    #[test]
    fn traditional_chinese_is_read_from_its_tags_in_any_case() {
        for s in [
            "zh-Hant", "zh-hant", "zh_Hant", "ZH-HANT", "zh-TW", "zh-tw", "zh_TW", "zh-HK",
            "zh-hk", "zh_HK", "zh-MO", "zh_mo",
        ] {
            assert_eq!(Lang::parse(s), Some(Lang::ZhHant), "{s}");
        }
    }

    #[test]
    fn english_is_read_from_its_tags_in_any_case() {
        for s in ["en", "EN", "En", "en-US", "en_us", "en-GB", "en_GB"] {
            assert_eq!(Lang::parse(s), Some(Lang::En), "{s}");
        }
    }

    #[test]
    fn unknown_or_padded_tags_are_refused() {
        // A browser tag the list does not name (`en-AU`, `zh-Hant-TW`) is left to the caller's
        // own fallback; nothing is trimmed, so `" zh"` is the caller's mistake, not a language.
        for s in [
            "",
            "fr",
            "de-DE",
            "english",
            "chinese",
            "zh-",
            "zh--cn",
            "zhcn",
            "en-AU",
            "zh-Hant-TW",
            " zh",
            "zh ",
            "zh;q=0.9",
            "*",
        ] {
            assert_eq!(Lang::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn the_default_is_simplified_chinese() {
        assert_eq!(Lang::default(), Lang::Zh);
    }
}
