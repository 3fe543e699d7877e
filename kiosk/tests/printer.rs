//! A test "printer" listening on 127.0.0.1 receives a ticket over TCP, as a network
//! thermal printer on port 9100 would; it answers the paper status query like one.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use qhall_kiosk::printer::{
    ChineseMode, EscPosPrinter, Layout, Paper, PrintError, PrintJob, Printer, Target,
};

fn job() -> PrintJob {
    PrintJob {
        hall: "市民服务中心".into(),
        number_label: "您的號碼".into(),
        number: "B007".into(),
        priority: Some("優先".into()),
        appointment: None,
        service: "企業業務".into(),
        ahead: "您前面還有 2 人".into(),
        wait: "預計等候 約 5–10 分鐘".into(),
        issued_at: "2026-03-02 10:42".into(),
        guide_line: Some("請帶：營業執照".into()),
        tracking_url: "http://127.0.0.1:8080/t/abcdef0123456789".into(),
        scan_hint: "掃碼查看排隊進度".into(),
    }
}

/// Accepts one connection, answers the paper status query with `status`, and returns
/// everything received after it.
fn test_printer(status: u8) -> (String, thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut query = [0u8; 3];
        conn.read_exact(&mut query).unwrap();
        assert_eq!(query, [0x10, 0x04, 0x04], "DLE EOT 4 first");
        conn.write_all(&[status]).unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).unwrap();
        rest
    });
    (addr, handle)
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_network_printer_receives_the_ticket_with_number_qr_and_cut() {
    let (addr, printer_thread) = test_printer(0x12);
    let target = Target::parse(&format!("tcp://{addr}")).unwrap();
    let layout = Layout {
        paper: Paper::Mm58,
        chinese: ChineseMode::Raster,
    };
    let printer = EscPosPrinter::new(target, layout);
    printer.print(&job()).unwrap();
    let received = printer_thread.join().unwrap();
    assert!(find(&received, b"B007"), "the number");
    let url = b"http://127.0.0.1:8080/t/abcdef0123456789";
    let mut qr = vec![0x1d, b'(', b'k', (url.len() + 3) as u8, 0, 49, 80, 48];
    qr.extend_from_slice(url);
    assert!(find(&received, &qr), "the QR code with the tracking URL");
    assert!(received.ends_with(&[0x1d, b'V', 66, 0]), "the cut");
    assert_eq!(
        received,
        qhall_kiosk::printer::escpos::encode(&job(), layout),
        "exactly the ticket"
    );
}

#[test]
fn a_gb18030_printer_receives_chinese_as_text() {
    let (addr, printer_thread) = test_printer(0x12);
    let layout = Layout {
        paper: Paper::Mm80,
        chinese: ChineseMode::Gb18030,
    };
    EscPosPrinter::new(Target::Tcp(addr), layout)
        .print(&job())
        .unwrap();
    let received = printer_thread.join().unwrap();
    let (service, _, _) = encoding_rs::GB18030.encode("企業業務");
    assert!(find(&received, &service), "Traditional Chinese in GB18030");
}

#[test]
fn a_printer_out_of_paper_refuses_and_prints_nothing() {
    let (addr, printer_thread) = test_printer(0x72);
    let printer = EscPosPrinter::new(Target::Tcp(addr), Layout::default());
    assert_eq!(printer.print(&job()), Err(PrintError::NoPaper));
    assert!(printer_thread.join().unwrap().is_empty());
}

#[test]
fn a_printer_that_is_not_there_is_offline() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let printer = EscPosPrinter::new(Target::Tcp(addr), Layout::default());
    let err = printer.print(&job()).unwrap_err();
    assert!(matches!(err, PrintError::Offline(_)), "{err:?}");
    assert_eq!(err.device_state().printer, "offline");
}
