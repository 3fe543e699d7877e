//! The kiosk's own words in its three languages, and the formats a customer reads
//! (waits as ranges, counts, times).
//!
//! The words live here rather than in `.slint` translations so that the controller and its
//! tests see exactly what the customer sees, and so that the printed ticket uses the same
//! sentences as the screen. The languages themselves, their codes and the spellings the
//! configuration accepts are [`qhall_shared::Lang`], shared with the web pages.

pub use qhall_shared::{Lang, WaitRange};

/// The kiosk's fixed sentences in `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Zh => &ZH,
        Lang::ZhHant => &ZH_HANT,
        Lang::En => &EN,
    }
}

/// Every fixed sentence on the kiosk's screens and tickets.
#[derive(Debug)]
pub struct Texts {
    pub choose_service: &'static str,
    pub take_ticket: &'static str,
    pub take_priority_ticket: &'static str,
    pub priority_who: &'static str,
    pub priority_available: &'static str,
    pub back: &'static str,
    pub guide_title: &'static str,
    pub no_guide: &'static str,
    pub issuing: &'static str,
    pub your_number: &'static str,
    pub printing: &'static str,
    pub take_your_ticket: &'static str,
    pub note_your_number: &'static str,
    pub scan_to_follow: &'static str,
    pub done: &'static str,
    pub issued_at: &'static str,
    pub priority_ticket: &'static str,
    pub print_failed_title: &'static str,
    pub print_failed_body: &'static str,
    pub noted_it: &'static str,
    pub closed_title: &'static str,
    pub closed_body: &'static str,
    pub today_hours: &'static str,
    pub closed_today: &'static str,
    pub next_opening: &'static str,
    pub notices: &'static str,
    pub emergency_title: &'static str,
    pub emergency_body: &'static str,
    pub out_of_service_title: &'static str,
    pub out_of_service_body: &'static str,
    pub reconnecting: &'static str,
    pub service_closed_now: &'static str,
    pub try_again: &'static str,
    pub closed: &'static str,
    pub opens: &'static str,
    pub tomorrow: &'static str,
    /// The home screen's button for tickets taken on a phone.
    pub check_in_open: &'static str,
    pub check_in_title: &'static str,
    pub check_in_hint: &'static str,
    pub check_in: &'static str,
    pub delete: &'static str,
    pub checked_in: &'static str,
    pub checked_in_body: &'static str,
    pub unknown_code: &'static str,
    pub already_checked_in: &'static str,
    pub not_waiting: &'static str,
    /// The home screen's button for booked customers, and its check-in screen.
    pub booking_open: &'static str,
    pub booking_title: &'static str,
    pub booking_hint: &'static str,
    /// `{time}`: when check-in opens.
    pub booking_too_early: &'static str,
    /// `{time}`: when check-in closed.
    pub booking_late: &'static str,
    pub booking_cancelled: &'static str,
    pub take_normal_ticket: &'static str,
    /// On the ticket and the ticket screen: `{time}` the slot's start.
    pub appointment_at: &'static str,
    /// The ticket screen's button for "text me when my turn is near".
    pub notify_open: &'static str,
    pub notify_title: &'static str,
    pub notify_hint: &'static str,
    pub notify_submit: &'static str,
    /// `{mobile}`: the number, masked.
    pub notify_done: &'static str,
    pub invalid_mobile: &'static str,
}

static ZH: Texts = Texts {
    choose_service: "请选择您要办理的业务",
    take_ticket: "取号",
    take_priority_ticket: "优先取号",
    priority_who: "老年人、残疾人、孕妇",
    priority_available: "可优先",
    back: "返回",
    guide_title: "办理须知",
    no_guide: "请带好您的有效证件。",
    issuing: "正在取号…",
    your_number: "您的号码",
    printing: "正在打印…",
    take_your_ticket: "请取走您的号票",
    note_your_number: "请记下您的号码",
    scan_to_follow: "扫码查看排队进度",
    done: "完成",
    issued_at: "取号时间",
    priority_ticket: "优先",
    print_failed_title: "打印机暂时无法打印",
    print_failed_body: "您的号码已登记，请记下号码等候叫号。",
    noted_it: "我已记下",
    closed_title: "现在不能取号",
    closed_body: "本厅当前不在取号时间内。",
    today_hours: "今天取号时间",
    closed_today: "今天不办公",
    next_opening: "下次开始取号",
    notices: "公告",
    emergency_title: "暂停取号",
    emergency_body: "请听从工作人员指引。",
    out_of_service_title: "本机暂停服务",
    out_of_service_body: "请到服务台咨询工作人员。",
    reconnecting: "正在自动恢复，请稍候…",
    service_closed_now: "该业务现在不能取号",
    try_again: "请稍后再试或询问工作人员。",
    closed: "暂停取号",
    opens: "开始",
    tomorrow: "明天",
    check_in_open: "手机取号签到",
    check_in_title: "手机取号的客户请签到",
    check_in_hint: "输入手机上显示的 6 位签到码，或把手机上的二维码对准扫码器。",
    check_in: "签到",
    delete: "删除",
    checked_in: "签到成功",
    checked_in_body: "请留意叫号屏幕和语音提示。",
    unknown_code: "没有这个签到码，请核对后重试。",
    already_checked_in: "这张号已经签到过了，请留意叫号。",
    not_waiting: "这张号已不在等候中，请到服务台咨询。",
    booking_open: "我有预约",
    booking_title: "预约客户请签到",
    booking_hint: "输入预约短信或确认页上的 9 位预约码，或把预约二维码对准扫码器。",
    booking_too_early: "预约签到 {time} 开始，请届时再来签到。",
    booking_late: "您的预约已过签到时间（{time} 截止）。您可以取一张普通号。",
    booking_cancelled: "这个预约已取消。",
    take_normal_ticket: "取普通号",
    appointment_at: "预约 {time}",
    notify_open: "到号短信提醒",
    notify_title: "快轮到您时，发短信提醒您",
    notify_hint: "输入您的手机号码。号码只用于本次提醒，列表中只显示部分数字，之后自动删除。",
    notify_submit: "提醒我",
    notify_done: "已设置：快轮到您时，我们会发短信到 {mobile}。",
    invalid_mobile: "请输入正确的手机号码。",
};

static ZH_HANT: Texts = Texts {
    choose_service: "請選擇您要辦理的業務",
    take_ticket: "取號",
    take_priority_ticket: "優先取號",
    priority_who: "長者、殘疾人士、孕婦",
    priority_available: "可優先",
    back: "返回",
    guide_title: "辦理須知",
    no_guide: "請帶好您的有效證件。",
    issuing: "正在取號…",
    your_number: "您的號碼",
    printing: "正在列印…",
    take_your_ticket: "請取走您的號票",
    note_your_number: "請記下您的號碼",
    scan_to_follow: "掃碼查看排隊進度",
    done: "完成",
    issued_at: "取號時間",
    priority_ticket: "優先",
    print_failed_title: "印表機暫時無法列印",
    print_failed_body: "您的號碼已登記，請記下號碼等候叫號。",
    noted_it: "我已記下",
    closed_title: "現在不能取號",
    closed_body: "本廳目前不在取號時間內。",
    today_hours: "今天取號時間",
    closed_today: "今天不辦公",
    next_opening: "下次開始取號",
    notices: "公告",
    emergency_title: "暫停取號",
    emergency_body: "請聽從工作人員指引。",
    out_of_service_title: "本機暫停服務",
    out_of_service_body: "請到服務台詢問工作人員。",
    reconnecting: "正在自動恢復，請稍候…",
    service_closed_now: "該業務現在不能取號",
    try_again: "請稍後再試或詢問工作人員。",
    closed: "暫停取號",
    opens: "開始",
    tomorrow: "明天",
    check_in_open: "手機取號簽到",
    check_in_title: "手機取號的客戶請簽到",
    check_in_hint: "輸入手機上顯示的 6 位簽到碼，或把手機上的二維碼對準掃碼器。",
    check_in: "簽到",
    delete: "刪除",
    checked_in: "簽到成功",
    checked_in_body: "請留意叫號螢幕和語音提示。",
    unknown_code: "沒有這個簽到碼，請核對後重試。",
    already_checked_in: "這張號已經簽到過了，請留意叫號。",
    not_waiting: "這張號已不在等候中，請到服務台詢問。",
    booking_open: "我有預約",
    booking_title: "預約客戶請簽到",
    booking_hint: "輸入預約簡訊或確認頁上的 9 位預約碼，或把預約二維碼對準掃碼器。",
    booking_too_early: "預約簽到 {time} 開始，請屆時再來簽到。",
    booking_late: "您的預約已過簽到時間（{time} 截止）。您可以取一張普通號。",
    booking_cancelled: "這個預約已取消。",
    take_normal_ticket: "取普通號",
    appointment_at: "預約 {time}",
    notify_open: "到號短信提醒",
    notify_title: "快輪到您時，發短信提醒您",
    notify_hint: "輸入您的手機號碼。號碼只用於本次提醒，列表中只顯示部分數字，之後自動刪除。",
    notify_submit: "提醒我",
    notify_done: "已設定：快輪到您時，我們會發短信到 {mobile}。",
    invalid_mobile: "請輸入正確的手機號碼。",
};

static EN: Texts = Texts {
    choose_service: "Choose a service",
    take_ticket: "Take a ticket",
    take_priority_ticket: "Priority ticket",
    priority_who: "elderly · disabled · pregnant",
    priority_available: "priority",
    back: "Back",
    guide_title: "Before you queue",
    no_guide: "Please have your identity document ready.",
    issuing: "Taking your ticket…",
    your_number: "Your number",
    printing: "Printing…",
    take_your_ticket: "Please take your ticket",
    note_your_number: "Please note your number",
    scan_to_follow: "Scan to follow your place in line",
    done: "Done",
    issued_at: "Issued",
    priority_ticket: "Priority",
    print_failed_title: "The printer is not working",
    print_failed_body: "Your number is registered. Please note it and wait to be called.",
    noted_it: "I have noted it",
    closed_title: "No tickets now",
    closed_body: "The hall is not issuing tickets at this time.",
    today_hours: "Today's hours",
    closed_today: "Closed today",
    next_opening: "Tickets again from",
    notices: "Notices",
    emergency_title: "Ticket issuing is paused",
    emergency_body: "Please follow the staff's instructions.",
    out_of_service_title: "This kiosk is out of service",
    out_of_service_body: "Please ask at the information desk.",
    reconnecting: "Reconnecting by itself, please wait…",
    service_closed_now: "This service is not issuing tickets now",
    try_again: "Please try again later or ask staff.",
    closed: "Closed",
    opens: "opens",
    tomorrow: "tomorrow",
    check_in_open: "Took a ticket on your phone? Check in",
    check_in_title: "Check in a ticket taken on your phone",
    check_in_hint: "Type the 6-character code shown on your phone, or hold its QR code to the scanner.",
    check_in: "Check in",
    delete: "Delete",
    checked_in: "Checked in",
    checked_in_body: "Please watch the board and listen for your number.",
    unknown_code: "No ticket has that code. Please check it and try again.",
    already_checked_in: "This ticket is checked in already. Please watch the board.",
    not_waiting: "This ticket is no longer waiting. Please ask at the information desk.",
    booking_open: "I have an appointment",
    booking_title: "Check in for your appointment",
    booking_hint: "Type the 9-character booking code from your confirmation, or hold its QR code to the scanner.",
    booking_too_early: "Check-in for your appointment opens at {time}. Please come back then.",
    booking_late: "Check-in for your appointment closed at {time}. You can take a normal ticket.",
    booking_cancelled: "This booking was cancelled.",
    take_normal_ticket: "Take a normal ticket",
    appointment_at: "Appointment {time}",
    notify_open: "Text me when my turn is near",
    notify_title: "We text you when your turn is near",
    notify_hint: "Type your mobile number. It is used only for these messages, shown masked, and deleted afterwards.",
    notify_submit: "Text me",
    notify_done: "Done: we will text {mobile} when your turn is near.",
    invalid_mobile: "Please type a valid mobile number.",
};

/// "12 waiting" in `lang`.
pub fn waiting(lang: Lang, n: u32) -> String {
    match lang {
        Lang::Zh => format!("{n} 人等候"),
        Lang::ZhHant => format!("{n} 人等候"),
        Lang::En => format!("{n} waiting"),
    }
}

/// "3 people ahead of you" in `lang`.
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

/// "about 10–15 min" in `lang`.
pub fn wait(lang: Lang, secs: u64) -> String {
    match (lang, WaitRange::from_secs(secs)) {
        (Lang::Zh, WaitRange::Short) => "约 5 分钟以内".to_owned(),
        (Lang::ZhHant, WaitRange::Short) => "約 5 分鐘以內".to_owned(),
        (Lang::En, WaitRange::Short) => "under 5 min".to_owned(),
        (Lang::Zh, WaitRange::Minutes { lo, hi }) => format!("约 {lo}–{hi} 分钟"),
        (Lang::ZhHant, WaitRange::Minutes { lo, hi }) => format!("約 {lo}–{hi} 分鐘"),
        (Lang::En, WaitRange::Minutes { lo, hi }) => format!("about {lo}–{hi} min"),
        (Lang::Zh, WaitRange::Long) => "超过 2 小时".to_owned(),
        (Lang::ZhHant, WaitRange::Long) => "超過 2 小時".to_owned(),
        (Lang::En, WaitRange::Long) => "over 2 hours".to_owned(),
    }
}

/// "Estimated wait" label before [`wait`].
pub fn wait_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "预计等候",
        Lang::ZhHant => "預計等候",
        Lang::En => "Estimated wait",
    }
}

/// The localized weekday name for "next opening" texts.
pub fn weekday(lang: Lang, day: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    let i = match day {
        Mon => 0,
        Tue => 1,
        Wed => 2,
        Thu => 3,
        Fri => 4,
        Sat => 5,
        Sun => 6,
    };
    match lang {
        Lang::Zh => ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][i],
        Lang::ZhHant => ["週一", "週二", "週三", "週四", "週五", "週六", "週日"][i],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_ranges_with_a_unit_never_seconds() {
        assert_eq!(wait(Lang::En, 0), "under 5 min");
        assert_eq!(wait(Lang::En, 240), "under 5 min");
        assert_eq!(wait(Lang::En, 420), "about 5–10 min");
        assert_eq!(wait(Lang::En, 600), "about 10–15 min");
        assert_eq!(wait(Lang::En, 601), "about 10–15 min");
        assert_eq!(wait(Lang::Zh, 900), "约 15–20 分钟");
        assert_eq!(wait(Lang::ZhHant, 900), "約 15–20 分鐘");
        assert_eq!(wait(Lang::En, 65 * 60), "about 60–75 min");
        assert_eq!(wait(Lang::En, 3 * 3600), "over 2 hours");
    }

    #[test]
    fn every_range_contains_its_estimate() {
        for secs in (0..7200u64).step_by(7) {
            let mins = secs.div_ceil(60);
            match WaitRange::from_secs(secs) {
                WaitRange::Short => assert!(mins < 5),
                WaitRange::Minutes { lo, hi } => assert!(lo <= mins && mins < hi, "{secs}"),
                WaitRange::Long => assert!(mins >= 120),
            }
        }
    }

    #[test]
    fn people_ahead_reads_naturally() {
        assert_eq!(ahead(Lang::En, 0), "You are next");
        assert_eq!(ahead(Lang::En, 1), "1 person ahead of you");
        assert_eq!(ahead(Lang::Zh, 3), "您前面还有 3 人");
    }
}
