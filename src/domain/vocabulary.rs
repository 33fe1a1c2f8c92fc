//! The closed vocabularies the whole program speaks: what can happen to a ticket or a device
//! (`EventKind`, the audit log's and the centre's `kind`), and why a command can be refused
//! (`Reason`, the API's `error`). Each is an enum serialised as the snake_case word used on
//! the wire and in the database, so adding one is one edit here and the compiler finds every
//! `match` that must learn it. Pure; depends on serde only.

use std::fmt;

/// Declares a closed vocabulary: an enum of unit variants, each with its wire word.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every word, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire and database word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }

            /// The variant for a word, if it is one.
            pub fn from_word(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The words, comma-separated (for error messages).
            pub fn list(items: &[$name]) -> String {
                items.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let word = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_word(&word).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} \"{}\"; known: {}",
                        stringify!($name),
                        word,
                        $name::list($name::ALL)
                    ))
                })
            }
        }
    };
}

vocabulary! {
    /// What happened, as the audit log (and the centre) records it.
    EventKind {
        Issued = "issued",
        Called = "called",
        Recalled = "recalled",
        Serving = "serving",
        Done = "done",
        NoShow = "no_show",
        Transferred = "transferred",
        Cancelled = "cancelled",
        CounterPaused = "counter_paused",
        CounterResumed = "counter_resumed",
        /// A ticket came out of the printer.
        Printed = "printed",
        /// Printed, but the printer warns (paper near end).
        PrinterWarning = "printer_warning",
        /// Not printed: the printer is out of paper, open, offline or unreachable.
        PrinterFault = "printer_fault",
        /// Not printed by the citizen's choice ("Không in phiếu"): the number and its QR were
        /// shown on screen only.
        NoPaper = "no_paper",
        /// The outbox was over its disk budget and unsent events were dropped.
        OutboxDropped = "outbox_dropped",
        /// The assistant was not sure, or its answer was left unused (no details opened, no
        /// ticket taken): the question, scrubbed of personal data, for staff to learn from.
        AssistantMiss = "assistant_miss",
        /// Something changed at the hub a lobby kiosk works through (`kiosk run --hub`): its
        /// listeners re-read the status. Only on that kiosk's own broadcast, never stored.
        HubChanged = "hub_changed",
        /// Too many wrong PINs for a counter or from one address: sign-in is locked for a while
        /// (`detail`: counter or address, failures, seconds locked). Recorded by the LAN API.
        LoginLocked = "login_locked",
        /// A clerk signed in on a counter's page (`detail`: counter): starts the clerk's counter
        /// session that ratings name. The rating tablet's sign-in is not one.
        CounterSignedIn = "counter_signed_in",
        /// A citizen rated a finished service (`detail`: score 1-5, reasons, scale, the
        /// Circular 01/2018 score, field). Never tied to the citizen's identity.
        Rated = "rated",
        /// A booked citizen checked in at the kiosk (`detail`: booking, slot_start, day, late,
        /// by code or card); `late` means a walk-in ticket was issued instead.
        BookingCheckedIn = "booking_checked_in",
        /// Nobody checked in for a booking within its window: the slot is released.
        BookingReleased = "booking_released",
        /// A booking the centre no longer lists (cancelled there) was dropped at the point.
        BookingCancelled = "booking_cancelled",
        /// An update bundle from the centre was refused (`detail`: version when known, reason):
        /// tampered, cut short, another key, or a config that does not pass the checks.
        BundleRefused = "bundle_refused",
        /// A bundle verified and was installed (`detail`: version, previous); it runs from the
        /// next start.
        BundleInstalled = "bundle_installed",
        /// A bundle's first start went well for a minute: it is the one kept (`detail`: version).
        BundleApplied = "bundle_applied",
        /// A bundle did not start (or its config did not load): the previous one runs again
        /// (`detail`: from, to, reason).
        BundleRolledBack = "bundle_rolled_back",
    }
}

vocabulary! {
    /// Why a low rating was given (the choices on the rating screen).
    RatingReason {
        WaitedTooLong = "waited_too_long",
        UnclearGuidance = "unclear_guidance",
        ExtraPapers = "extra_papers",
        StaffAttitude = "staff_attitude",
        Other = "other",
    }
}

impl EventKind {
    /// The kinds a device (the kiosk's printer, through the API or in process) may add.
    pub const DEVICE: &'static [EventKind] = &[
        EventKind::Printed,
        EventKind::PrinterFault,
        EventKind::PrinterWarning,
        EventKind::AssistantMiss,
        EventKind::NoPaper,
    ];

    /// The printer's outcomes (the last one says how the printer is).
    pub const PRINTER: &'static [EventKind] = &[
        EventKind::Printed,
        EventKind::PrinterFault,
        EventKind::PrinterWarning,
    ];

    /// What the point's updater records (`crate::updates`).
    pub const UPDATES: &'static [EventKind] = &[
        EventKind::BundleRefused,
        EventKind::BundleInstalled,
        EventKind::BundleApplied,
        EventKind::BundleRolledBack,
    ];

    /// What the LAN API records on its own account (not a device's report).
    pub const SECURITY: &'static [EventKind] =
        &[EventKind::LoginLocked, EventKind::CounterSignedIn];

    /// Whether a device may add this kind.
    pub fn is_device(self) -> bool {
        EventKind::DEVICE.contains(&self)
    }

    /// Anything that moves a queue: a ticket joins, is called, served, leaves or changes queue,
    /// or a counter stops or starts (the estimates of everyone waiting change).
    pub fn is_queue_movement(self) -> bool {
        matches!(
            self,
            EventKind::Issued
                | EventKind::Called
                | EventKind::Recalled
                | EventKind::Serving
                | EventKind::Done
                | EventKind::NoShow
                | EventKind::Transferred
                | EventKind::Cancelled
                | EventKind::CounterPaused
                | EventKind::CounterResumed
                | EventKind::BookingCheckedIn
        )
    }

    /// A call of a ticket to a counter (first call or recall): what boards and speakers follow.
    pub fn is_call(self) -> bool {
        matches!(self, EventKind::Called | EventKind::Recalled)
    }
}

vocabulary! {
    /// Why a command or a request was refused: the `error` of every JSON refusal on the LAN,
    /// and what a lobby kiosk maps the hub's answers back onto.
    Reason {
        UnknownService = "unknown_service",
        UnknownCounter = "unknown_counter",
        UnknownPriorityGroup = "unknown_priority_group",
        CounterDoesNotServe = "counter_does_not_serve",
        NoCurrentTicket = "no_current_ticket",
        CounterBusy = "counter_busy",
        CounterPaused = "counter_paused",
        TicketNotFound = "ticket_not_found",
        UnknownEventKind = "unknown_event_kind",
        Closed = "closed",
        DailyCapReached = "daily_cap_reached",
        NumbersExhausted = "numbers_exhausted",
        QuotaExceeded = "quota_exceeded",
        WrongTicketState = "wrong_ticket_state",
        StorageError = "storage_error",
        HubStopped = "hub_stopped",
        BadJson = "bad_json",
        MissingField = "missing_field",
        Unauthorised = "unauthorised",
        Forbidden = "forbidden",
        NoKioskToken = "no_kiosk_token",
        WrongPin = "wrong_pin",
        NoPin = "no_pin",
        UnknownAction = "unknown_action",
        Internal = "internal",
        NotFound = "not_found",
        MethodNotAllowed = "method_not_allowed",
        Unavailable = "unavailable",
        /// A lobby kiosk got an answer from its hub that it does not know.
        RemoteError = "remote_error",
        /// A text field longer than the API takes (the limit is in the reason).
        TooLong = "too_long",
        /// A body larger than the API takes.
        PayloadTooLarge = "payload_too_large",
        /// A body that is not `application/json`.
        UnsupportedMediaType = "unsupported_media_type",
        /// A request the server cannot read (bad path, bad query, bad header).
        BadRequest = "bad_request",
        /// A `Host` this server does not answer to (DNS rebinding), see `[api] allowed_hosts`.
        BadHost = "bad_host",
        /// Sign-in locked after too many wrong PINs; `retry_after` says when to try again.
        TooManyAttempts = "too_many_attempts",
        /// Too many tickets asked from one address in a minute.
        RateLimited = "rate_limited",
        /// An identity number that is neither 9 or 12 digits nor a passport number.
        BadCitizenId = "bad_citizen_id",
        /// A rating the rules refuse: a score outside 1-5, reasons with a high score.
        BadRating = "bad_rating",
        /// The ticket was rated already: one rating per ticket.
        AlreadyRated = "already_rated",
        /// Too late to rate this service (see `[rating] window_minutes`).
        RatingClosed = "rating_closed",
    }
}

impl Reason {
    /// The word a remote hub answered, mapped back ("remote_error" when unknown).
    pub fn from_remote(word: &str) -> Reason {
        Reason::from_word(word).unwrap_or(Reason::RemoteError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_its_variant() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_word(k.as_str()), Some(*k));
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<EventKind>(&json).unwrap(), *k);
        }
        for r in Reason::ALL {
            assert_eq!(Reason::from_word(r.as_str()), Some(*r));
        }
    }

    #[test]
    fn words_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for w in EventKind::ALL.iter().map(|k| k.as_str()) {
            assert!(seen.insert(w), "{w} twice");
            assert!(w.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{w}");
        }
    }

    #[test]
    fn an_unknown_word_is_refused_with_the_known_ones() {
        let e = serde_json::from_str::<EventKind>("\"exploded\"").unwrap_err();
        assert!(e.to_string().contains("printed"), "{e}");
        assert_eq!(Reason::from_remote("no_such_reason"), Reason::RemoteError);
        assert!(EventKind::Printed.is_device() && !EventKind::Issued.is_device());
    }
}
