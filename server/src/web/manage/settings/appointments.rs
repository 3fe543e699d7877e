//! The settings page's appointments section (issue #12): per service whether it takes
//! bookings, its slots (length, places), how far ahead and how late one may book, the check-in
//! window, and the number series its tickets take. Each row saves with
//! `PUT /api/v1/config/services/{code}/appointments` (audited).

use maud::{Markup, html};

use crate::hall::appointments::AppointmentSettings;
use crate::web::i18n::{Lang, Words};

/// One form per service: (code, name, settings).
pub(super) fn section(lang: Lang, services: &[(String, String, AppointmentSettings)]) -> Markup {
    let num = |name: &str, value: u32, min: u32, max: u32, label: &str, unit: &str| {
        html! {
            label.unit {
                span { (label) }
                span { input.n name=(name) type="number" min=(min) max=(max) value=(value) required; " " (unit) }
            }
        }
    };
    let min = lang.s("分钟", "min");
    html! {
        section.card #appointments {
            h2 { (lang.s("预约", "Appointments")) }
            p.hint {
                (lang.s("客户在 ", "Customers book on "))
                a href="/book" { "/book" }
                (lang.s("、电话或本馆系统预约；时段只在营业时间内（避开午休和节假日）。到场后在取号机上签到，到点优先叫号。",
                    ", by phone or through the hall's own portal; slots lie only inside the opening hours (not in breaks or holidays). Booked customers check in at the kiosk and are called on time."))
            }
            @for (code, name, s) in services {
                form.api-form.appt-form #(format!("appt-{code}")) data-form="appointments" data-code=(code) {
                    h3 { span.code { (code) } " " (name) }
                    label.check-line {
                        input name="enabled" type="checkbox" checked[s.enabled];
                        " " (lang.s("接受预约", "Takes bookings"))
                    }
                    div.appt-grid {
                        (num("slot_mins", s.slot_mins, 5, 240, lang.s("每个时段", "Slot length"), min))
                        (num("places", s.places, 1, 50, lang.s("每个时段可约", "Places per slot"), lang.s("人", "")))
                        (num("horizon_days", s.horizon_days, 1, 90, lang.s("可提前预约", "Book up to"), lang.s("天", "days ahead")))
                        (num("lead_mins", s.lead_mins, 0, 1440, lang.s("最晚提前", "Latest booking"), lang.s("分钟", "min before")))
                        (num("checkin_before_mins", s.checkin_before_mins, 0, 120, lang.s("签到开始（时段前）", "Check-in opens before"), min))
                        (num("checkin_after_mins", s.checkin_after_mins, 0, 120, lang.s("签到截止（时段后）", "Check-in closes after"), min))
                        label.unit {
                            span { (lang.s("预约号码前缀", "Appointment numbers")) }
                            input.code-in name="prefix" maxlength="1" value=(s.prefix.clone().unwrap_or_default())
                                placeholder=(code) aria-label=(lang.s("预约号码前缀（一个字母；空：与本业务同号段）", "Prefix of appointment numbers (one letter; empty: the service's own series)"));
                        }
                    }
                    button.primary type="submit" { (lang.s("保存", "Save")) }
                    p.message role="status" {}
                }
            }
        }
    }
}
