//! Printer status from its own replies: real-time status (DLE EOT n, one byte each) and
//! Automatic Status Back (GS a, four bytes on every change). Pure parsing; the transports do
//! the asking. Bit meanings from the Epson TM-T88III/TM-T90 specs, Citizen CT-S2000 and
//! Bixolon SRP-350 manuals (summarised in shared/notes/escpos-printers.md).

use serde::Serialize;

/// What the kiosk needs to know about its printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    Ready,
    /// Prints, but the roll is nearly out: tell staff.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Offline for another reason (error, waiting for recovery, cutter jam).
    Offline,
    /// No answer, or no connection at all.
    Unreachable,
}

impl PrinterStatus {
    /// Can a ticket be printed now?
    pub fn can_print(self) -> bool {
        matches!(self, PrinterStatus::Ready | PrinterStatus::PaperNearEnd)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PrinterStatus::Ready => "ready",
            PrinterStatus::PaperNearEnd => "paper_near_end",
            PrinterStatus::PaperOut => "paper_out",
            PrinterStatus::CoverOpen => "cover_open",
            PrinterStatus::Offline => "offline",
            PrinterStatus::Unreachable => "unreachable",
        }
    }

    /// For the kiosk screen and staff: Vietnamese, then English.
    pub fn describe_vi_en(self) -> (&'static str, &'static str) {
        match self {
            PrinterStatus::Ready => ("Máy in sẵn sàng", "Printer ready"),
            PrinterStatus::PaperNearEnd => ("Máy in sắp hết giấy", "Printer paper nearly out"),
            PrinterStatus::PaperOut => ("Máy in hết giấy", "Printer out of paper"),
            PrinterStatus::CoverOpen => ("Nắp máy in đang mở", "Printer cover open"),
            PrinterStatus::Offline => ("Máy in đang lỗi", "Printer offline"),
            PrinterStatus::Unreachable => ("Không kết nối được máy in", "Printer not reachable"),
        }
    }
}

/// Every DLE EOT reply has bits 1 and 4 set and bits 0 and 7 clear.
pub fn is_realtime_reply(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

/// DLE EOT 1 (printer status): offline?
/// A reply to GS r 1 (paper sensor status): bits 4 and 7 are 0, which tells it from a real-time
/// reply (bit 4 set) and from the first byte of an ASB message (bit 4 set).
pub fn is_transmit_status_reply(b: u8) -> bool {
    b & 0x90 == 0
}

pub fn offline_from_eot1(b: u8) -> bool {
    b & 0x08 != 0
}

/// DLE EOT 2 (offline cause): cover open, paper end stop, or another error.
pub fn cause_from_eot2(b: u8) -> PrinterStatus {
    if b & 0x04 != 0 {
        PrinterStatus::CoverOpen
    } else if b & 0x20 != 0 {
        PrinterStatus::PaperOut
    } else {
        PrinterStatus::Offline
    }
}

/// DLE EOT 4 (paper sensors): paper end (bits 5-6) outranks near end (bits 2-3).
pub fn paper_from_eot4(b: u8) -> PrinterStatus {
    if b & 0x60 != 0 {
        PrinterStatus::PaperOut
    } else if b & 0x0C != 0 {
        PrinterStatus::PaperNearEnd
    } else {
        PrinterStatus::Ready
    }
}

/// Combine the three replies (any may be missing if the printer did not answer it).
pub fn from_replies(eot1: u8, eot2: Option<u8>, eot4: Option<u8>) -> PrinterStatus {
    let paper = eot4.map(paper_from_eot4).unwrap_or(PrinterStatus::Ready);
    if offline_from_eot1(eot1) {
        match eot2.map(cause_from_eot2) {
            Some(PrinterStatus::Offline) | None if paper == PrinterStatus::PaperOut => {
                PrinterStatus::PaperOut
            }
            Some(cause) => cause,
            None => PrinterStatus::Offline,
        }
    } else {
        paper
    }
}

/// The first byte of an ASB message has bits 0, 1 and 7 clear and bit 4 set, which tells it
/// apart from a DLE EOT reply (bit 1 set).
pub fn is_asb_start(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0000
}

/// Parse a 4-byte Automatic Status Back message.
pub fn from_asb(msg: [u8; 4]) -> PrinterStatus {
    let [b1, b2, b3, _] = msg;
    if b1 & 0x20 != 0 {
        PrinterStatus::CoverOpen
    } else if b3 & 0x0C != 0 {
        PrinterStatus::PaperOut
    } else if b1 & 0x08 != 0 || b2 & 0x6C != 0 {
        PrinterStatus::Offline
    } else if b3 & 0x03 != 0 {
        PrinterStatus::PaperNearEnd
    } else {
        PrinterStatus::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_printer_replies() {
        assert!(is_realtime_reply(0x12));
        assert_eq!(
            from_replies(0x12, Some(0x12), Some(0x12)),
            PrinterStatus::Ready
        );
    }

    #[test]
    fn paper_sensor_values_from_the_manuals() {
        assert_eq!(paper_from_eot4(0x12), PrinterStatus::Ready);
        assert_eq!(paper_from_eot4(0x1E), PrinterStatus::PaperNearEnd);
        assert_eq!(paper_from_eot4(0x72), PrinterStatus::PaperOut);
    }

    #[test]
    fn offline_causes() {
        // 0x1A = offline; 0x16 = cover open; 0x32 = stopped at paper end.
        assert_eq!(
            from_replies(0x1A, Some(0x16), Some(0x12)),
            PrinterStatus::CoverOpen
        );
        assert_eq!(
            from_replies(0x1A, Some(0x32), Some(0x72)),
            PrinterStatus::PaperOut
        );
        assert_eq!(
            from_replies(0x1A, Some(0x52), Some(0x12)),
            PrinterStatus::Offline
        );
        assert_eq!(from_replies(0x1A, None, None), PrinterStatus::Offline);
    }

    #[test]
    fn near_end_still_prints() {
        assert!(PrinterStatus::PaperNearEnd.can_print());
        assert!(!PrinterStatus::CoverOpen.can_print());
    }

    #[test]
    fn asb_messages() {
        assert!(is_asb_start(0x10));
        assert!(!is_asb_start(0x12));
        assert_eq!(from_asb([0x10, 0x00, 0x00, 0x0F]), PrinterStatus::Ready);
        assert_eq!(from_asb([0x38, 0x00, 0x00, 0x0F]), PrinterStatus::CoverOpen);
        assert_eq!(from_asb([0x18, 0x00, 0x0C, 0x0F]), PrinterStatus::PaperOut);
        assert_eq!(
            from_asb([0x10, 0x00, 0x03, 0x0F]),
            PrinterStatus::PaperNearEnd
        );
    }
}
