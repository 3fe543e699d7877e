//! The real `ui/board.slint` under Slint's testing backend: what a person in the hall would
//! read off the screen, found by element and accessible label (compiled with debug info).

use i_slint_backend_testing::ElementHandle;
use qhall_display::BoardWindow;
use qhall_display::board::Board;
use qhall_display::sample;
use qhall_display::ui::{self, BoardView};
use qhall_shared::events::{Call, Event, Message};
use slint::ComponentHandle;

thread_local! {
    static PLATFORM: std::cell::OnceCell<()> = const { std::cell::OnceCell::new() };
}

fn board_window(width: u32, height: u32) -> BoardWindow {
    // Each test runs on its own thread, which needs the testing platform once.
    PLATFORM.with(|p| *p.get_or_init(i_slint_backend_testing::init_no_event_loop));
    let window = BoardWindow::new().unwrap();
    window
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
    window.show().unwrap();
    window
}

/// The text of the one element with this id, if it is on screen.
fn text_of(window: &BoardWindow, id: &str) -> Option<String> {
    let found: Vec<ElementHandle> = ElementHandle::find_by_element_id(window, id).collect();
    assert!(found.len() <= 1, "{id} is on screen {} times", found.len());
    found
        .first()
        .and_then(ElementHandle::accessible_label)
        .map(|s| s.to_string())
}

fn texts_of(window: &BoardWindow, id: &str) -> Vec<String> {
    ElementHandle::find_by_element_id(window, id)
        .filter_map(|e| e.accessible_label().map(|s| s.to_string()))
        .collect()
}

fn call(board: &mut Board, number: &str, window: u32) {
    let seq = board.seq.unwrap() + 1;
    board.apply(Message {
        seq,
        event: Event::Called {
            call: Call {
                number: number.parse().unwrap(),
                service: number[..1].parse().unwrap(),
                window: qhall_shared::WindowNo::new(window).unwrap(),
                at: chrono::Utc::now(),
            },
            waiting: 0,
        },
    });
}

#[test]
fn the_board_shows_the_latest_number_and_its_window() {
    let window = board_window(1920, 1080);
    ui::apply(&window, &BoardView::new(&sample::fresh_call(), Some(0)));
    assert_eq!(
        text_of(&window, "LatestCall::number-text").as_deref(),
        Some("A012")
    );
    assert_eq!(
        text_of(&window, "LatestCall::window-text").as_deref(),
        Some("3")
    );
}

#[test]
fn a_new_call_replaces_the_big_number_and_the_old_one_moves_into_the_history() {
    let window = board_window(1920, 1080);
    let mut board = sample::fresh_call();
    ui::apply(&window, &BoardView::new(&board, None));
    call(&mut board, "B006", 12);
    ui::apply(&window, &BoardView::new(&board, Some(0)));
    assert_eq!(
        text_of(&window, "LatestCall::number-text").as_deref(),
        Some("B006")
    );
    assert_eq!(
        text_of(&window, "LatestCall::window-text").as_deref(),
        Some("12")
    );
    let history = texts_of(&window, "HistoryRow::number");
    assert_eq!(history.len(), 8, "{history:?}");
    assert_eq!(history[0], "A012");
    assert_eq!(texts_of(&window, "HistoryRow::window")[0], "3");
}

#[test]
fn a_portrait_screen_shows_the_same_call_stacked() {
    let window = board_window(1080, 1920);
    ui::apply(&window, &BoardView::new(&sample::fresh_call(), Some(0)));
    assert_eq!(
        text_of(&window, "LatestCall::stacked-number").as_deref(),
        Some("A012")
    );
    assert_eq!(
        text_of(&window, "LatestCall::stacked-window").as_deref(),
        Some("3")
    );
    assert_eq!(text_of(&window, "LatestCall::number-text"), None);
}

/// UI.md: the latest number at least a quarter of the screen height, its window as large.
/// A portrait screen is too narrow for four characters that high; there the number spans
/// the width, which still makes it more than a fifth of the height.
#[test]
fn the_latest_number_and_window_are_the_largest_things_on_screen() {
    let cases = [
        (
            1920,
            1080,
            4.0,
            "LatestCall::number-text",
            "LatestCall::window-text",
        ),
        (
            1080,
            1920,
            5.0,
            "LatestCall::stacked-number",
            "LatestCall::stacked-window",
        ),
    ];
    for (w, h, fraction, number_id, window_id) in cases {
        let window = board_window(w, h);
        ui::apply(&window, &BoardView::new(&sample::fresh_call(), Some(0)));
        let number = ElementHandle::find_by_element_id(&window, number_id)
            .next()
            .unwrap();
        let win = ElementHandle::find_by_element_id(&window, window_id)
            .next()
            .unwrap();
        assert!(
            number.size().height >= h as f32 / fraction,
            "{w}x{h}: {:?}",
            number.size()
        );
        assert_eq!(
            win.size().height,
            number.size().height,
            "{w}x{h}: the window as large"
        );
        assert!(
            number.size().width <= w as f32,
            "{w}x{h}: {:?}",
            number.size()
        );
    }
}

#[test]
fn an_emergency_covers_the_board_with_its_message() {
    let window = board_window(1920, 1080);
    ui::apply(&window, &BoardView::new(&sample::fresh_call(), None));
    assert!(
        ElementHandle::find_by_element_id(&window, "BoardWindow::emergency-overlay")
            .next()
            .is_none()
    );
    let board = sample::emergency();
    ui::apply(&window, &BoardView::new(&board, None));
    let overlay = ElementHandle::find_by_element_id(&window, "BoardWindow::emergency-overlay")
        .next()
        .expect("the overlay is shown");
    assert_eq!(overlay.size().width, 1920.0);
    assert_eq!(overlay.size().height, 1080.0);
    let message = board.emergency.unwrap();
    assert_eq!(
        ElementHandle::find_by_accessible_label(&window, &message).count(),
        1
    );
}

#[test]
fn a_lost_connection_shows_a_discreet_mark_and_keeps_the_last_call() {
    let window = board_window(1920, 1080);
    let mut board = sample::fresh_call();
    ui::apply(&window, &BoardView::new(&board, None));
    assert_eq!(
        ElementHandle::find_by_accessible_label(&window, "reconnecting").count(),
        0
    );
    board.connected = false;
    ui::apply(&window, &BoardView::new(&board, Some(board.call_serial)));
    assert_eq!(
        ElementHandle::find_by_accessible_label(&window, "reconnecting").count(),
        1
    );
    assert_eq!(
        text_of(&window, "LatestCall::number-text").as_deref(),
        Some("A012")
    );
}
