//! Tickets on printers, tested for real: golden bytes per mode and width, the independent
//! decoder (shared/tools/escpos, --strict) as the judge of every stream, the QR code read back
//! with zbarimg, and the serial, USB-device-file and TCP paths against a fake printer on a
//! pseudo-terminal or a loopback socket that answers DLE EOT with scripted status.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kiosk::config::{PrinterConfig, TransportConfig};
use kiosk::printer::encode::{EncodeOptions, VietnameseMode, encode};
use kiosk::printer::layout::{TicketInfo, layout, sample_ticket};
use kiosk::printer::transport::{DeviceFileTransport, FlowControl, SerialTransport, TcpTransport};
use kiosk::printer::{PrintError, PrinterStatus, TicketPrinter};
use serde_json::Value;

use crate::common::kiosk_bin;
use crate::fake_printer::{Script, pty_printer, tcp_printer};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python that has the decoder's requirements (scripts/setup makes `.venv`).
fn python() -> PathBuf {
    std::env::var_os("KIOSK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join(".venv/bin/python"))
}

fn decoder() -> PathBuf {
    manifest().join("../shared/tools/escpos/escpos_decode.py")
}

/// Run the independent decoder with --strict; panic with its report unless it is clean.
/// Returns its JSON (commands and issues).
fn decode_strict(bytes: &[u8], width: u32, png: Option<&Path>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("t.bin");
    let json = dir.path().join("t.json");
    std::fs::write(&bin, bytes).unwrap();
    let dpi = if width == 512 { "180" } else { "203" };
    let mut cmd = Command::new(python());
    cmd.arg(decoder())
        .arg(&bin)
        .args(["--strict", "--width", &width.to_string(), "--dpi", dpi])
        .arg("--json")
        .arg(&json);
    if let Some(png) = png {
        cmd.arg("--png").arg(png);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run the decoder with {} ({e}); run scripts/setup",
            python().display()
        )
    });
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or(Value::Null);
    assert!(
        out.status.success() && report["issues"].as_array().is_some_and(|a| a.is_empty()),
        "decoder found problems (exit {:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("error") || l.contains("warn") || l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
        report["issues"]
    );
    report
}

/// The decoded text, a line per LF (runs split by ESC t switches join up again), with
/// TCVN-3's Icelandic-eth capital read back as Đ.
fn decoded_text(report: &Value) -> String {
    let mut text = String::new();
    for c in report["commands"].as_array().unwrap() {
        match c["name"].as_str() {
            Some("TEXT") => text.push_str(c["args"]["text"].as_str().unwrap()),
            Some("LF") => text.push('\n'),
            _ => {}
        }
    }
    text.replace('Ð', "Đ")
}

fn command_names(report: &Value) -> Vec<String> {
    report["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

const MODES: [(&str, VietnameseMode); 3] = kiosk::printer::encode::EVERY_MODE;
const WIDTHS: [u32; 3] = [576, 512, 384];

fn options(mode: VietnameseMode, width: u32) -> EncodeOptions {
    EncodeOptions {
        width_dots: width,
        mode,
        auto_status_back: false,
    }
}

/// The tickets every mode must print cleanly: the sample (priority, long site name), a plain
/// one with nobody ahead and no estimate, a reprint, one for a procedure, and a booked one.
fn tickets() -> Vec<TicketInfo> {
    let mut plain = sample_ticket();
    plain.priority = None;
    plain.people_ahead = 0;
    plain.wait = None;
    plain.site_vi = "Điểm phục vụ hành chính công (trình diễn)".into();
    plain.site_en = "Public service point (demo)".into();
    let mut reprint = sample_ticket();
    reprint.reprint = true;
    reprint.code = "DD0417".into();
    // Taken for a procedure: its name and the first documents, one long, more than fit.
    let mut procedure = sample_ticket();
    procedure.procedure = Some(kiosk::printer::layout::ProcedureNote {
        name: "Đăng ký tạm trú".into(),
        documents: vec![
            "Tờ khai thay đổi thông tin cư trú (mẫu CT01)".into(),
            "Giấy tờ, tài liệu chứng minh việc sinh sống hợp pháp tại chỗ ở đề nghị đăng ký tạm trú (hợp đồng thuê, mượn, ở nhờ)".into(),
            "Văn bản đồng ý của chủ hộ".into(),
            "Giấy tờ chứng minh quan hệ nhân thân".into(),
            "Giấy tờ khác".into(),
        ],
    });
    // Booked online, with a long wait read in hours.
    let mut booked = sample_ticket();
    booked.priority = None;
    booked.booked = Some(kiosk::printer::layout::BookedNote {
        slot: "09:00-09:30".into(),
        code: "123 456 7897".into(),
    });
    booked.wait = Some(kiosk::domain::WaitRange {
        low_minutes: 105,
        high_minutes: 275,
    });
    vec![sample_ticket(), plain, reprint, procedure, booked]
}

#[test]
fn golden_bytes_for_each_mode_and_width() {
    let golden_dir = manifest().join("tests/golden");
    let bless = std::env::var_os("KIOSK_BLESS").is_some();
    for (name, mode) in MODES {
        for width in WIDTHS {
            let bytes = encode(&layout(&sample_ticket()), options(mode, width))
                .unwrap()
                .bytes;
            let path = golden_dir.join(format!("ticket-{name}-{width}.bin"));
            if bless {
                std::fs::create_dir_all(&golden_dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let golden = std::fs::read(&path)
                .unwrap_or_else(|_| panic!("{} missing: run with KIOSK_BLESS=1", path.display()));
            if golden != bytes {
                let first = golden.iter().zip(&bytes).position(|(a, b)| a != b);
                panic!(
                    "{name} {width}: bytes differ from {} (lengths {} vs {}, first difference at {:?}); \
                     if the change is intended, check the new output with the decoder and re-bless",
                    path.display(),
                    golden.len(),
                    bytes.len(),
                    first
                );
            }
        }
    }
}

#[test]
fn every_stream_decodes_strictly_clean() {
    for (_, mode) in MODES {
        for width in WIDTHS {
            for info in tickets() {
                let bytes = encode(&layout(&info), options(mode, width)).unwrap().bytes;
                decode_strict(&bytes, width, None);
            }
        }
    }
    // Automatic Status Back enabled adds GS a, which must decode too.
    let mut o = options(VietnameseMode::Raster, 576);
    o.auto_status_back = true;
    let bytes = encode(&layout(&sample_ticket()), o).unwrap().bytes;
    let report = decode_strict(&bytes, 576, None);
    assert!(command_names(&report).contains(&"GS a".to_string()));
}

#[test]
fn codepage_vietnamese_round_trips_through_the_decoder() {
    let bytes = encode(
        &layout(&sample_ticket()),
        options(
            VietnameseMode::Codepage {
                lower: 30,
                upper: 31,
            },
            576,
        ),
    )
    .unwrap()
    .bytes;
    let text = decoded_text(&decode_strict(&bytes, 576, None));
    for expected in [
        "Hộ tịch",
        "ƯU TIÊN: Người cao tuổi",
        "Trước bạn: 7 người, chờ khoảng 22-28 phút",
        "Quầy phục vụ: 1, 2",
        "Vui lòng giữ phiếu đến khi được phục vụ",
        "Tổng đài hỗ trợ: 024.1022 - 1900 1009",
        "A023",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not in decoded text:\n{text}"
        );
    }
    // The long site name wraps, but every word arrives.
    let site: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        site.contains("Trung tâm phục vụ hành chính công phường Kim Liên"),
        "{site}"
    );
}

#[test]
fn raster_mode_sends_vietnamese_as_images_and_digits_as_text() {
    let bytes = encode(
        &layout(&sample_ticket()),
        options(VietnameseMode::Raster, 576),
    )
    .unwrap()
    .bytes;
    let report = decode_strict(&bytes, 576, None);
    let names = command_names(&report);
    assert!(names.iter().filter(|n| *n == "GS v 0").count() >= 6);
    let text = decoded_text(&report);
    assert!(text.contains("A023"));
    assert!(text.contains("23/11/2026 09:41"));
    assert!(text.contains("Civil status"));
    assert!(text.is_ascii(), "raster mode sent non-ASCII text: {text}");
}

#[test]
fn ascii_mode_prints_without_tones() {
    let bytes = encode(
        &layout(&sample_ticket()),
        options(VietnameseMode::Ascii, 384),
    )
    .unwrap()
    .bytes;
    let text = decoded_text(&decode_strict(&bytes, 384, None));
    assert!(text.contains("Ho tich"));
    assert!(text.contains("UU TIEN: Nguoi cao tuoi"));
}

fn zbar(png: &Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(png)
        .output()
        .expect("zbarimg (apt package zbar-tools; scripts/setup installs it)");
    assert!(
        out.status.success(),
        "zbarimg found no code in {}",
        png.display()
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn qr_reads_back_from_the_preview_and_from_the_decoded_stream() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("preview.png");
    let bin = dir.path().join("preview.bin");
    let out = Command::new(kiosk_bin())
        .args([
            "ticket-preview",
            "--service",
            "ho-tich",
            "--priority",
            "elderly",
            "--out",
        ])
        .arg(&png)
        .arg("--bin")
        .arg(&bin)
        .env("KIOSK_DB", dir.path().join("k.sqlite"))
        .env_remove("KIOSK_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .format("%Y-%m-%d");
    let token = kiosk::report::track::token(
        &std::env::var("KIOSK_CENTRE_TOKEN").unwrap_or_else(|_| "demo-token-change-me".into()),
        "hn.ttpvhcc/cn-07/demo",
        chrono::NaiveDate::parse_from_str(&day.to_string(), "%Y-%m-%d").unwrap(),
        "A001",
    );
    let expected = format!(
        "http://127.0.0.1:8090/ve?ma-diem=hn.ttpvhcc/cn-07/demo&so=A001&ngay={day}&k={token}"
    );
    assert_eq!(zbar(&png), expected);
    // The printer's own QR (GS ( k), as the independent decoder draws it, says the same.
    let rendered = dir.path().join("decoded.png");
    decode_strict(&std::fs::read(&bin).unwrap(), 576, Some(&rendered));
    assert_eq!(zbar(&rendered), expected);
}

fn printer_config(transport: TransportConfig) -> PrinterConfig {
    PrinterConfig {
        transport,
        status_timeout_ms: 300,
        ..PrinterConfig::spool_default()
    }
}

/// The ticket bytes the printer must receive after its status requests.
fn ticket_bytes(config: &PrinterConfig) -> Vec<u8> {
    encode(
        &layout(&sample_ticket()),
        EncodeOptions {
            width_dots: config.paper_width_dots,
            mode: config.vietnamese,
            auto_status_back: config.auto_status_back,
        },
    )
    .unwrap()
    .bytes
}

const EOT1: [u8; 3] = [0x10, 0x04, 1];
const EOT2: [u8; 3] = [0x10, 0x04, 2];
const EOT4: [u8; 3] = [0x10, 0x04, 4];
/// The confirmation after each ticket: GS r 1, answered once the printer processed the cut.
const GSR1: [u8; 3] = [0x1D, 0x72, 1];

fn serial_printer(path: &str, baud: u32) -> (TicketPrinter, PrinterConfig) {
    let config = printer_config(TransportConfig::Serial {
        port: path.into(),
        baud,
        flow: FlowControl::None,
    });
    let t = SerialTransport::new(path, baud, FlowControl::None);
    (TicketPrinter::new(Box::new(t), &config), config)
}

#[test]
fn serial_ready_printer_gets_status_requests_then_the_exact_ticket() {
    for baud in [9600, 115_200] {
        let (fake, path, _slave) = pty_printer(Script::READY);
        let (mut printer, config) = serial_printer(&path, baud);
        let report = printer.print(&sample_ticket()).unwrap();
        assert_eq!(report.status, PrinterStatus::Ready);
        let ticket = ticket_bytes(&config);
        assert_eq!(report.bytes, ticket.len());
        let got = fake.wait_for(9 + ticket.len(), Duration::from_secs(5));
        let mut expected = [EOT1, EOT4].concat();
        expected.extend_from_slice(&ticket);
        expected.extend_from_slice(&GSR1);
        assert_eq!(got.len(), expected.len(), "baud {baud}");
        assert!(
            got == expected,
            "baud {baud}: received bytes differ from the ticket"
        );
    }
}

#[test]
fn serial_paper_out_sends_no_ticket() {
    let (fake, path, _slave) = pty_printer(Script::PAPER_OUT);
    let (mut printer, _) = serial_printer(&path, 9600);
    let err = printer.print(&sample_ticket()).unwrap_err();
    assert!(
        matches!(err, PrintError::Fault(PrinterStatus::PaperOut)),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fake.received(), [EOT1, EOT2, EOT4].concat());
}

#[test]
fn serial_cover_open_sends_no_ticket() {
    let (fake, path, _slave) = pty_printer(Script::COVER_OPEN);
    let (mut printer, _) = serial_printer(&path, 115_200);
    let err = printer.print(&sample_ticket()).unwrap_err();
    assert!(
        matches!(err, PrintError::Fault(PrinterStatus::CoverOpen)),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fake.received(), [EOT1, EOT2, EOT4].concat());
}

#[test]
fn serial_near_end_prints_and_warns() {
    let (fake, path, _slave) = pty_printer(Script::NEAR_END);
    let (mut printer, config) = serial_printer(&path, 9600);
    let report = printer.print(&sample_ticket()).unwrap();
    assert_eq!(report.status, PrinterStatus::PaperNearEnd);
    let ticket = ticket_bytes(&config);
    let got = fake.wait_for(9 + ticket.len(), Duration::from_secs(5));
    assert!(got.ends_with(&[ticket, GSR1.to_vec()].concat()));
    let (kind, _) = kiosk::ticketing::print_event(&Ok(report), "test");
    assert_eq!(kind, "printer_warning");
}

#[test]
fn serial_silent_printer_is_unreachable_and_gets_no_ticket() {
    let (fake, path, _slave) = pty_printer(Script::SILENT);
    let (mut printer, _) = serial_printer(&path, 9600);
    let err = printer.print(&sample_ticket()).unwrap_err();
    assert!(
        matches!(err, PrintError::Fault(PrinterStatus::Unreachable)),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fake.received(), EOT1.to_vec());
}

/// The cable is pulled mid-ticket: the printer took part of it and will never cut. Before the
/// confirmation the kiosk said "printed" (issue 16: 4,095 of 4,752 bytes, no cut).
#[test]
fn a_printer_unplugged_mid_ticket_is_a_fault_not_printed() {
    let script = Script {
        hang_after: Some(1000),
        ..Script::READY
    };
    let (fake, path, _slave) = pty_printer(script);
    let (mut printer, config) = serial_printer(&path, 115_200);
    let ticket = ticket_bytes(&config);
    assert!(ticket.len() > 1000);
    let err = printer.print(&sample_ticket()).unwrap_err();
    assert_eq!(err.status(), PrinterStatus::Unreachable, "{err}");
    let got = fake.received();
    assert!(got.len() <= 1000, "{}", got.len());
    assert!(!got.windows(3).any(|w| w == GSR1), "never reached the cut");
    // A printer that takes everything but never answers the confirmation: not printed either.
    let mute = Script {
        gs_r1: None,
        ..Script::READY
    };
    let (fake, path, _slave) = pty_printer(mute);
    let (mut printer, _) = serial_printer(&path, 115_200);
    let err = printer.print(&sample_ticket()).unwrap_err();
    assert!(matches!(err, PrintError::Unconfirmed(_)), "{err}");
    assert!(fake.received().ends_with(&GSR1));
}

#[test]
fn missing_serial_port_is_unreachable_not_a_panic() {
    let (mut printer, _) = serial_printer("/dev/does-not-exist-kiosk", 9600);
    assert_eq!(printer.status(), PrinterStatus::Unreachable);
    assert!(matches!(
        printer.print(&sample_ticket()),
        Err(PrintError::Fault(PrinterStatus::Unreachable))
    ));
}

#[test]
fn asb_messages_before_replies_are_skipped_and_remembered() {
    let script = Script {
        asb_before_reply: Some([0x10, 0x00, 0x03, 0x0F]), // paper near end, reported by ASB
        ..Script::READY
    };
    let (_fake, path, _slave) = pty_printer(script);
    let (mut printer, _) = serial_printer(&path, 115_200);
    assert_eq!(printer.status(), PrinterStatus::Ready);
    // A printer that answers no DLE EOT but sends ASB is judged by its last ASB message.
    let silent = Script {
        eot1: None,
        ..script
    };
    let (_fake2, path2, _slave2) = pty_printer(silent);
    let (mut p2, _) = serial_printer(&path2, 115_200);
    assert_eq!(p2.status(), PrinterStatus::PaperNearEnd);
}

#[test]
fn usb_device_file_path_prints_through_a_pty() {
    // /dev/usb/lp0 is a character device like a tty: the pty slave stands in for it.
    let (fake, path, _slave) = pty_printer(Script::READY);
    let config = printer_config(TransportConfig::Usb {
        device: path.clone().into(),
    });
    let mut printer = TicketPrinter::new(
        Box::new(DeviceFileTransport::new(Path::new(&path))),
        &config,
    );
    printer.print(&sample_ticket()).unwrap();
    let ticket = ticket_bytes(&config);
    let got = fake.wait_for(9 + ticket.len(), Duration::from_secs(5));
    assert!(got.starts_with(&[EOT1, EOT4].concat()));
    assert!(got.ends_with(&[ticket, GSR1.to_vec()].concat()));
}

#[test]
fn tcp_printer_on_loopback() {
    let (fake, addr) = tcp_printer(Script::READY);
    let config = printer_config(TransportConfig::Tcp {
        address: addr.clone(),
    });
    let mut printer = TicketPrinter::new(
        Box::new(TcpTransport::new(&addr, Duration::from_secs(1))),
        &config,
    );
    let report = printer.print(&sample_ticket()).unwrap();
    assert_eq!(report.status, PrinterStatus::Ready);
    let ticket = ticket_bytes(&config);
    let got = fake.wait_for(9 + ticket.len(), Duration::from_secs(5));
    assert_eq!(
        got,
        [EOT1.to_vec(), EOT4.to_vec(), ticket, GSR1.to_vec()].concat()
    );
    // Reprint goes over the same connection, marked as a reprint.
    let again = printer.reprint_last().unwrap().unwrap();
    assert!(again.bytes > 0);
}

#[test]
fn tcp_nobody_listening_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let config = printer_config(TransportConfig::Tcp {
        address: addr.clone(),
    });
    let mut printer = TicketPrinter::new(
        Box::new(TcpTransport::new(&addr, Duration::from_millis(300))),
        &config,
    );
    assert_eq!(printer.status(), PrinterStatus::Unreachable);
}

/// The demo config with its [printer] section replaced.
fn config_with_printer(section: &str) -> String {
    let demo = kiosk::config::DEMO_TOML;
    let cut = demo.find("\n[printer]").unwrap();
    format!("{}\n{section}\n", &demo[..cut])
}

/// The kiosk's behaviour end to end (`kiosk issue --print`) against a serial printer in each
/// scripted state: the ticket is always issued and stored; it is printed only when the printer
/// can print; the outcome is in the audit log.
#[test]
fn kiosk_issue_and_print_over_serial_in_every_printer_state() {
    let cases = [
        (Script::READY, "printed", true, 0),
        (Script::NEAR_END, "printer_warning", true, 0),
        (Script::PAPER_OUT, "printer_fault", false, 3),
        (Script::COVER_OPEN, "printer_fault", false, 3),
        (Script::SILENT, "printer_fault", false, 3),
        (
            Script {
                gs_r1: None,
                ..Script::READY
            },
            "printer_fault",
            true, // the bytes went out, but no confirmation came back
            3,
        ),
    ];
    for (script, kind, printed, exit) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (fake, path, _slave) = pty_printer(script);
        let cfg = dir.path().join("site.toml");
        std::fs::write(
            &cfg,
            config_with_printer(&format!(
                "[printer]\ntransport = \"serial\"\nport = \"{path}\"\nbaud = 9600\nstatus_timeout_ms = 300\n"
            )),
        )
        .unwrap();
        let db = dir.path().join("k.sqlite");
        let out = Command::new(kiosk_bin())
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "issue",
                "--service",
                "ho-tich",
                "--print",
            ])
            .env("KIOSK_DB", &db)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(exit),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("issued A001"), "{stdout}");
        if !printed {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("please show number A001 at the counter"),
                "{stderr}"
            );
        }
        let conn = rusqlite::Connection::open(&db).unwrap();
        let kinds: Vec<String> = conn
            .prepare("SELECT kind FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kinds, ["issued", kind], "{kind}");
        let got = fake.received();
        let has_raster = got.windows(3).any(|w| w == [0x1D, b'v', b'0']);
        assert_eq!(
            has_raster, printed,
            "{kind}: ticket bytes sent = {has_raster}"
        );
    }
}
