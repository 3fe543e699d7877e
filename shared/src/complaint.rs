//! The kinds of complaint a hall records. The code is what `POST /api/v1/complaints` takes, the
//! register's `?category=` filter reads and the database stores; the names are what the staff
//! console offers and the manager's register shows, so both pages call a complaint the same.

use crate::Lang;

/// A kind of complaint: its code and its name in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintCategory {
    pub code: &'static str,
    pub zh: &'static str,
    pub zh_hant: &'static str,
    pub en: &'static str,
}

/// Every category, in the order the pages list them ("other" last).
pub const COMPLAINT_CATEGORIES: [ComplaintCategory; 5] = [
    ComplaintCategory {
        code: "attitude",
        zh: "服务态度",
        zh_hant: "服務態度",
        en: "Staff attitude",
    },
    ComplaintCategory {
        code: "waiting",
        zh: "等候时间",
        zh_hant: "等候時間",
        en: "Waiting time",
    },
    ComplaintCategory {
        code: "process",
        zh: "办理流程",
        zh_hant: "辦理流程",
        en: "Procedure",
    },
    ComplaintCategory {
        code: "environment",
        zh: "大厅环境",
        zh_hant: "大廳環境",
        en: "Hall environment",
    },
    ComplaintCategory {
        code: "other",
        zh: "其他",
        zh_hant: "其他",
        en: "Other",
    },
];

impl ComplaintCategory {
    /// The category with this code, if there is one (codes are exact: lower case).
    pub fn find(code: &str) -> Option<ComplaintCategory> {
        COMPLAINT_CATEGORIES.into_iter().find(|c| c.code == code)
    }

    /// The category's name in `lang`.
    pub fn name(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::ZhHant => self.zh_hant,
            Lang::En => self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_exactly() {
        for c in COMPLAINT_CATEGORIES {
            assert_eq!(ComplaintCategory::find(c.code), Some(c));
        }
        for code in ["", "Process", "procedure", " other", "办理流程"] {
            assert_eq!(ComplaintCategory::find(code), None, "{code:?}");
        }
    }

    #[test]
    fn every_category_has_a_name_in_every_language() {
        for c in COMPLAINT_CATEGORIES {
            for l in Lang::ALL {
                assert!(!c.name(l).trim().is_empty(), "{} in {l}", c.code);
            }
        }
        let process = ComplaintCategory::find("process").unwrap();
        assert_eq!(process.name(Lang::Zh), "办理流程");
        assert_eq!(process.name(Lang::ZhHant), "辦理流程");
        assert_eq!(process.name(Lang::En), "Procedure");
    }

    #[test]
    fn codes_and_names_are_not_repeated() {
        for (i, a) in COMPLAINT_CATEGORIES.iter().enumerate() {
            for b in &COMPLAINT_CATEGORIES[i + 1..] {
                assert_ne!(a.code, b.code);
                for l in Lang::ALL {
                    assert_ne!(a.name(l), b.name(l), "{l}");
                }
            }
        }
    }
}
