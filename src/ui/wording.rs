//! What the touchscreen says about queue facts, in Vietnamese and English: wait estimates and
//! why a ticket cannot be had. One place, so every page words a refusal the same way; adapters
//! call it, it calls none of them.

use crate::config::Config;
use crate::domain::Reason;

/// "khoảng 12-15 phút" / "about 12-15 min", or why there is no estimate.
pub fn wait_text(wait: Option<crate::domain::WaitRange>) -> (String, String) {
    match wait {
        Some(w) => (
            format!("khoảng {}", w.words_vi()),
            format!("about {}", w.words_en()),
        ),
        None => (
            "chưa có quầy mở".to_string(),
            "no counter open yet".to_string(),
        ),
    }
}

/// Why a service takes no ticket now, in both languages.
/// A refusal as the citizen reads it; a quota refusal also says which numbers they hold.
pub fn refusal_of(e: &crate::hub::HubError, config: &Config) -> (String, String) {
    let (vi, en) = refusal(e.reason(), config);
    if let crate::hub::HubError::Queue(crate::hub::QueueError::Quota(q)) = e {
        let held = q.holding();
        if !held.is_empty() {
            let join = |f: fn(&crate::domain::Held) -> &str| {
                held.iter().map(f).collect::<Vec<_>>().join(", ")
            };
            return (
                format!("{vi} Bạn đang giữ: {}.", join(|h| h.what_vi.as_str())),
                format!("{en} You hold: {}.", join(|h| h.what.as_str())),
            );
        }
    }
    (vi, en)
}

pub fn refusal(reason: Reason, config: &Config) -> (String, String) {
    match reason {
        Reason::Closed => {
            let today = chrono::Utc::now()
                .with_timezone(&config.site.timezone)
                .date_naive();
            let key = crate::domain::service_day::weekday_key(today);
            let hours = config
                .site
                .opening_hours
                .get(key)
                .filter(|h| !h.is_empty())
                .map(|h| {
                    h.iter()
                        .map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M")))
                        .collect::<Vec<_>>()
                        .join(", ")
                });
            match hours {
                Some(h) => (
                    format!("Ngoài giờ tiếp nhận (hôm nay: {h})"),
                    format!("Outside opening hours (today: {h})"),
                ),
                None => (
                    "Hôm nay không tiếp nhận".to_string(),
                    "Closed today".to_string(),
                ),
            }
        }
        Reason::DailyCapReached | Reason::NumbersExhausted => (
            "Đã hết số hôm nay, mời quay lại ngày làm việc tiếp theo".to_string(),
            "No more numbers today; please come back on the next working day".to_string(),
        ),
        Reason::QuotaExceeded => (
            "Bạn đã lấy đủ số cho hôm nay (tối đa 2 số, 1 số mỗi lĩnh vực).".into(),
            "You already have today's numbers (at most 2, one per field).".into(),
        ),
        _ => (
            "Chưa lấy được số. Vui lòng thử lại hoặc hỏi cán bộ hướng dẫn.".into(),
            "Could not take a number. Please try again or ask a staff member.".into(),
        ),
    }
}
