//! The adapter between the controller and the Slint window: copies a [`View`] into the
//! adapter globals and turns the globals' callbacks into [`Command`]s. No logic here.

use slint::{
    ComponentHandle, Image, Model as _, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString,
    VecModel,
};
use tokio::sync::watch;

use crate::controller::{Command, KioskHandle, PrintState, Screen, View};
use crate::i18n::{self, Lang};
use crate::{
    AppAdapter, CheckInAdapter, ClosedAdapter, GuideAdapter, HomeAdapter, KioskWindow, Labels,
    NotifyAdapter, ServiceItem, TicketAdapter,
};

/// Connects the window's callbacks to the controller.
pub fn wire(ui: &KioskWindow, handle: &KioskHandle) {
    let app = ui.global::<AppAdapter>();
    let h = handle.clone();
    app.on_activity(move || h.send(Command::Activity));
    let h = handle.clone();
    app.on_set_language(move |code| {
        if let Some(lang) = Lang::parse(&code) {
            h.send(Command::SetLanguage(lang));
        }
    });
    let h = handle.clone();
    ui.global::<HomeAdapter>()
        .on_select_service(move |code| h.send(Command::SelectService(code.to_string())));
    let guide = ui.global::<GuideAdapter>();
    let h = handle.clone();
    guide.on_take_ticket(move |priority| h.send(Command::TakeTicket { priority }));
    let h = handle.clone();
    guide.on_back(move || h.send(Command::Back));
    let h = handle.clone();
    ui.global::<TicketAdapter>()
        .on_done(move || h.send(Command::Done));
    let h = handle.clone();
    ui.global::<HomeAdapter>()
        .on_open_check_in(move || h.send(Command::OpenCheckIn));
    let h = handle.clone();
    ui.global::<HomeAdapter>()
        .on_open_booking(move || h.send(Command::OpenBooking));
    let check_in = ui.global::<CheckInAdapter>();
    let h = handle.clone();
    check_in.on_key(move |k| h.send(Command::CheckInKey(k.to_string())));
    let h = handle.clone();
    check_in.on_submit(move |scanned| {
        let scanned = scanned.trim();
        h.send(Command::CheckInSubmit(
            (!scanned.is_empty()).then(|| scanned.to_owned()),
        ));
    });
    let h = handle.clone();
    check_in.on_back(move || h.send(Command::Back));
    let h = handle.clone();
    check_in.on_take_normal(move || h.send(Command::TakeNormalTicket));
    let notify = ui.global::<NotifyAdapter>();
    let h = handle.clone();
    notify.on_open(move || h.send(Command::OpenNotify));
    let h = handle.clone();
    notify.on_key(move |k| h.send(Command::NotifyKey(k.to_string())));
    let h = handle.clone();
    notify.on_submit(move || h.send(Command::NotifySubmit));
    let h = handle.clone();
    notify.on_back(move || h.send(Command::Back));
    let h = handle.clone();
    notify.on_finish(move || h.send(Command::Done));
}

/// Follows the controller's views and applies each in the UI thread. Runs on the network
/// runtime; ends when the window or the controller is gone.
pub async fn forward_views(ui: slint::Weak<KioskWindow>, mut views: watch::Receiver<View>) {
    loop {
        let view = views.borrow_and_update().clone();
        if ui
            .upgrade_in_event_loop(move |ui| apply(&ui, &view))
            .is_err()
        {
            return;
        }
        if views.changed().await.is_err() {
            return;
        }
    }
}

fn labels(lang: Lang) -> Labels {
    let t = i18n::texts(lang);
    Labels {
        choose_service: t.choose_service.into(),
        take_ticket: t.take_ticket.into(),
        take_priority_ticket: t.take_priority_ticket.into(),
        priority_who: t.priority_who.into(),
        priority_available: t.priority_available.into(),
        back: t.back.into(),
        guide_title: t.guide_title.into(),
        issuing: t.issuing.into(),
        your_number: t.your_number.into(),
        printing: t.printing.into(),
        take_your_ticket: t.take_your_ticket.into(),
        note_your_number: t.note_your_number.into(),
        scan_to_follow: t.scan_to_follow.into(),
        done: t.done.into(),
        issued_at: t.issued_at.into(),
        priority_ticket: t.priority_ticket.into(),
        estimated_wait: i18n::wait_label(lang).into(),
        print_failed_title: t.print_failed_title.into(),
        print_failed_body: t.print_failed_body.into(),
        noted_it: t.noted_it.into(),
        closed_title: t.closed_title.into(),
        closed_body: t.closed_body.into(),
        today_hours: t.today_hours.into(),
        next_opening: t.next_opening.into(),
        notices: t.notices.into(),
        emergency_title: t.emergency_title.into(),
        emergency_body: t.emergency_body.into(),
        out_of_service_title: t.out_of_service_title.into(),
        out_of_service_body: t.out_of_service_body.into(),
        reconnecting: t.reconnecting.into(),
        check_in_open: t.check_in_open.into(),
        check_in_title: t.check_in_title.into(),
        check_in_hint: t.check_in_hint.into(),
        check_in: t.check_in.into(),
        booking_open: t.booking_open.into(),
        delete: t.delete.into(),
        checked_in: t.checked_in.into(),
        checked_in_body: t.checked_in_body.into(),
        notify_open: t.notify_open.into(),
        notify_title: t.notify_title.into(),
        notify_hint: t.notify_hint.into(),
        notify_submit: t.notify_submit.into(),
    }
}

/// Updates `current` in place when it has as many rows as `items` (changed rows only), or
/// returns a new model: the clock ticking or one count changing does not rebuild the list.
fn sync_model<T: Clone + PartialEq + 'static>(
    current: &ModelRc<T>,
    items: Vec<T>,
) -> Option<ModelRc<T>> {
    use slint::Model;
    if let Some(model) = current.as_any().downcast_ref::<VecModel<T>>()
        && model.row_count() == items.len()
    {
        for (i, item) in items.into_iter().enumerate() {
            if model.row_data(i).as_ref() != Some(&item) {
                model.set_row_data(i, item);
            }
        }
        None
    } else {
        Some(ModelRc::new(VecModel::from(items)))
    }
}

/// Copies `view` into the window's globals.
pub fn apply(ui: &KioskWindow, view: &View) {
    let app = ui.global::<AppAdapter>();
    app.set_screen(match view.screen {
        Screen::Home => crate::Screen::Home,
        Screen::Guide => crate::Screen::Guide,
        Screen::Ticket => crate::Screen::Ticket,
        Screen::PrintFailed => crate::Screen::PrintFailed,
        Screen::Closed => crate::Screen::Closed,
        Screen::Emergency => crate::Screen::Emergency,
        Screen::OutOfService => crate::Screen::OutOfService,
        Screen::CheckIn => crate::Screen::CheckIn,
        Screen::CheckedIn => crate::Screen::CheckedIn,
        Screen::Notify => crate::Screen::Notify,
    });
    app.set_notify_offered(view.notify_offered);
    let n = &view.notify;
    let notify = ui.global::<NotifyAdapter>();
    notify.set_digits(n.digits.as_str().into());
    notify.set_busy(n.busy);
    notify.set_message(n.message.as_str().into());
    notify.set_done(n.done.as_str().into());
    notify.set_number(n.number.as_str().into());
    app.set_check_in_offered(view.check_in_offered);
    app.set_booking_offered(view.booking_offered);
    if app.get_lang() != view.lang.code() {
        app.set_lang(view.lang.code().into());
    }
    app.set_t(labels(view.lang));
    app.set_hall_name(view.hall_name.as_str().into());
    app.set_clock(view.clock.as_str().into());
    app.set_date(view.date.as_str().into());
    let notices = view.notices.iter().map(SharedString::from).collect();
    if let Some(model) = sync_model(&app.get_notices(), notices) {
        app.set_notices(model);
    }
    app.set_emergency(view.emergency.as_str().into());

    let services: Vec<ServiceItem> = view
        .services
        .iter()
        .map(|s| ServiceItem {
            code: s.code.as_str().into(),
            name: s.name.as_str().into(),
            detail: s.detail.as_str().into(),
            open: s.open,
            priority_allowed: s.priority_allowed,
        })
        .collect();
    ui.global::<HomeAdapter>()
        .set_services(ModelRc::new(VecModel::from(services)));

    let g = &view.guide;
    let guide = ui.global::<GuideAdapter>();
    guide.set_code(g.code.as_str().into());
    guide.set_name(g.name.as_str().into());
    guide.set_guide(g.guide.as_str().into());
    guide.set_waiting(g.waiting.as_str().into());
    guide.set_wait(g.wait.as_str().into());
    guide.set_open(g.open);
    guide.set_priority_allowed(g.priority_allowed);
    guide.set_issuing(g.issuing);
    guide.set_message(g.message.as_str().into());

    let t = &view.ticket;
    let ticket = ui.global::<TicketAdapter>();
    if ticket.get_number() != t.number.as_str() || t.number.is_empty() {
        ticket.set_qr(qr_image(&t.tracking_url));
    }
    ticket.set_number(t.number.as_str().into());
    ticket.set_service(t.service.as_str().into());
    ticket.set_priority(t.priority);
    ticket.set_ahead(t.ahead.as_str().into());
    ticket.set_wait(t.wait.as_str().into());
    ticket.set_time(t.time.as_str().into());
    ticket.set_appointment(t.appointment.as_str().into());
    ticket.set_print(match t.print {
        PrintState::Printing => crate::PrintState::Printing,
        PrintState::Printed => crate::PrintState::Printed,
        PrintState::NoPrinter => crate::PrintState::NoPrinter,
        PrintState::Failed => crate::PrintState::Failed,
    });

    let c = &view.check_in;
    let check_in = ui.global::<CheckInAdapter>();
    let len = c.code_len.max(1);
    let chars: Vec<SharedString> = (0..len)
        .map(|i| {
            c.code
                .chars()
                .nth(i)
                .map(String::from)
                .unwrap_or_default()
                .into()
        })
        .collect();
    check_in.set_code(c.code.as_str().into());
    check_in.set_code_chars(ModelRc::new(VecModel::from(chars)));
    check_in.set_code_length(len as i32);
    check_in.set_typed(c.code.chars().count().min(len) as i32);
    let keys: Vec<SharedString> = crate::controller::CHECK_IN_KEYS
        .chars()
        .map(|k| SharedString::from(k.to_string()))
        .collect();
    if check_in.get_keys().row_count() != keys.len() {
        check_in.set_keys(ModelRc::new(VecModel::from(keys)));
    }
    check_in.set_title(c.title.as_str().into());
    check_in.set_hint(c.hint.as_str().into());
    check_in.set_offer(c.offer.as_str().into());
    check_in.set_busy(c.busy);
    check_in.set_message(c.message.as_str().into());
    check_in.set_number(c.number.as_str().into());

    let closed = ui.global::<ClosedAdapter>();
    closed.set_today(view.closed.today.as_str().into());
    closed.set_next(view.closed.next.as_str().into());
}

/// The tracking URL as a QR code image, four pixels a module, with the quiet zone.
pub fn qr_image(url: &str) -> Image {
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return Image::default();
    };
    let modules = code.width();
    let colors = code.to_colors();
    let scale = 4usize;
    let quiet = 4usize;
    let side = (modules + 2 * quiet) * scale;
    let mut buf = SharedPixelBuffer::<Rgba8Pixel>::new(side as u32, side as u32);
    let pixels = buf.make_mut_slice();
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % side / scale, i / side / scale);
        let dark = x >= quiet
            && y >= quiet
            && x < quiet + modules
            && y < quiet + modules
            && colors[(y - quiet) * modules + (x - quiet)] == qrcode::Color::Dark;
        let v = if dark { 0 } else { 255 };
        *px = Rgba8Pixel {
            r: v,
            g: v,
            b: v,
            a: 255,
        };
    }
    Image::from_rgba8(buf)
}
