//! The people and devices sections of the settings page.

use chrono_tz::Tz;
use maud::{Markup, html};

use super::short_time;
use crate::hall::settings::{DeviceInfo, UserInfo, WindowConfig};
use crate::store::{Principal, Role};
use crate::web::i18n::{Lang, Words};

fn role_label(lang: Lang, role: &str) -> &'static str {
    match role {
        "staff" => lang.s("窗口人员", "Staff"),
        "manager" => lang.s("值班经理", "Manager"),
        "admin" => lang.s("管理员", "Admin"),
        "kiosk" => lang.s("取号机", "Kiosk"),
        "display" => lang.s("大屏", "Board"),
        "pad" => lang.s("评价器", "Rating pad"),
        "booking" => lang.s("预约系统", "Booking portal"),
        _ => "",
    }
}

/// Whether `who` may reset or deactivate `u` (the server checks again).
fn may_manage(who: &Principal, u: &UserInfo) -> bool {
    who.role == Role::Admin || (u.role == "staff" && u.branch_id == Some(who.branch_id))
}

pub(super) fn users(lang: Lang, who: &Principal, users: &[UserInfo], tz: Tz) -> Markup {
    html! {
        section.card #users {
            h2 { (lang.s("人员账号", "People")) }
            table.people {
                thead { tr {
                    th { (lang.s("用户名", "Username")) }
                    th { (lang.s("姓名", "Name")) }
                    th { (lang.s("角色", "Role")) }
                    th { (lang.s("创建", "Created")) }
                    th { (lang.s("重设密码", "New password")) }
                    th {}
                } }
                tbody {
                    @for u in users {
                        tr .inactive[!u.active] {
                            td.code { (u.username) }
                            td { (u.display_name) }
                            td { (role_label(lang, &u.role)) @if !u.active { " · " (lang.s("已停用", "deactivated")) } }
                            td.muted { (short_time(u.created_at, tz)) }
                            @if u.active && (may_manage(who, u) || who.user_id == Some(u.id)) {
                                td {
                                    form.api-form.inline data-form="password" data-id=(u.id) {
                                        input name="password" type="password" minlength="8" required autocomplete="new-password"
                                            placeholder=(lang.s("至少 8 位", "8+ characters")) aria-label=(lang.s("新密码", "New password"));
                                        button type="submit" { (lang.s("重设", "Set")) }
                                        (super::hall_msg())
                                    }
                                }
                                td {
                                    @if who.user_id != Some(u.id) {
                                        form.api-form data-form="deactivate" data-id=(u.id) {
                                            button.link type="submit" data-confirm="deactivate" { (lang.s("停用", "Deactivate")) }
                                            (super::hall_msg())
                                        }
                                    }
                                }
                            } @else {
                                td {} td {}
                            }
                        }
                    }
                }
            }
            form.api-form.add-row #user-new data-form="user-new" {
                span.add-title { (lang.s("新账号", "New account")) }
                input name="username" required pattern="[a-z0-9._\\-]{2,32}" placeholder=(lang.s("用户名", "username")) aria-label=(lang.s("用户名", "Username")) autocomplete="off";
                input name="display_name" maxlength="40" placeholder=(lang.s("姓名", "Name")) aria-label=(lang.s("姓名", "Name"));
                select name="role" aria-label=(lang.s("角色", "Role")) {
                    option value="staff" { (role_label(lang, "staff")) }
                    @if who.role == Role::Admin {
                        option value="manager" { (role_label(lang, "manager")) }
                    }
                }
                input name="password" type="password" minlength="8" required autocomplete="new-password"
                    placeholder=(lang.s("初始密码", "Password")) aria-label=(lang.s("初始密码", "Password"));
                button type="submit" { (lang.s("创建", "Create")) }
                (super::hall_msg())
            }
        }
    }
}

/// The hall's devices. A rating pad is bound to one window, chosen when it is created; its
/// token comes with a pairing link to open on the tablet (see `web::rate`).
pub(super) fn devices(
    lang: Lang,
    devices: &[DeviceInfo],
    windows: &[WindowConfig],
    tz: Tz,
) -> Markup {
    html! {
        section.card #devices {
            h2 { (lang.s("取号机、大屏与评价器", "Kiosks, boards and rating pads")) }
            table.people {
                thead { tr {
                    th { (lang.s("名称", "Name")) }
                    th { (lang.s("类型", "Kind")) }
                    th { (lang.s("创建", "Created")) }
                    th { (lang.s("最近在线", "Last seen")) }
                    th { (lang.s("打印机", "Printer")) }
                    th {}
                } }
                tbody {
                    @for d in devices {
                        tr .inactive[!d.active] {
                            td { (d.name) }
                            td {
                                (role_label(lang, &d.role))
                                @if let Some(w) = d.window {
                                    " · " (lang.s("窗口", "window")) " " (w)
                                }
                            }
                            td.muted { (short_time(d.created_at, tz)) }
                            td.muted { (d.last_seen_at.map(|t| short_time(t, tz)).unwrap_or_else(|| "—".into())) }
                            td { (d.printer_state.as_deref().unwrap_or("—")) }
                            td {
                                @if d.active {
                                    form.api-form data-form="revoke" data-id=(d.id) {
                                        button.link type="submit" data-confirm="revoke" { (lang.s("吊销", "Revoke")) }
                                        (super::hall_msg())
                                    }
                                } @else {
                                    span.muted { (lang.s("已吊销", "revoked")) }
                                }
                            }
                        }
                    }
                }
            }
            form.api-form.add-row #device-new data-form="device-new" {
                span.add-title { (lang.s("新设备", "New device")) }
                input name="name" maxlength="40" required placeholder=(lang.s("名称，如 东门大屏", "Name, e.g. East door board")) aria-label=(lang.s("名称", "Name"));
                select name="role" aria-label=(lang.s("类型", "Kind")) {
                    option value="kiosk" { (role_label(lang, "kiosk")) }
                    option value="display" { (role_label(lang, "display")) }
                    option value="pad" { (role_label(lang, "pad")) }
                    option value="booking" { (role_label(lang, "booking")) }
                }
                select name="window" aria-label=(lang.s("评价器的窗口", "Rating pad's window")) title=(lang.s("评价器的窗口", "Rating pad's window")) {
                    @for w in windows {
                        option value=(w.number.get()) { (lang.s("窗口", "Window")) " " (w.number.get()) }
                    }
                }
                button type="submit" { (lang.s("创建", "Create")) }
                (super::hall_msg())
            }
            div #device-token.token-box hidden {
                p { strong { (lang.s("设备令牌（只显示这一次，请立即复制到设备配置）：", "Device token (shown this once: copy it into the device's configuration now):")) } }
                code #device-token-value {}
                div #device-pairing hidden {
                    p { strong { (lang.s(
                        "评价器：在平板上打开下面的配对链接一次（只显示这一次；链接中 # 之后的令牌不会发送到服务器或代理的日志）：",
                        "Rating pad: open this pairing link once on the tablet (shown this once; the token after # never reaches a server or proxy log):",
                    )) } }
                    code #device-pairing-url {}
                }
                button #device-token-done type="button" { (lang.s("已复制，完成", "Copied, done")) }
            }
        }
    }
}
