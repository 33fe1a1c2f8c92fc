//! A small reader for server-sent events (the board app, the bench and the tests read the hub's
//! `/api/events` with it). Feed it bytes as they arrive; it returns whole messages.

/// One message: its `event:` name ("message" when none) and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub event: String,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct Reader {
    buffer: Vec<u8>,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Add bytes; return the messages they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Message> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block = String::from_utf8_lossy(&self.buffer[..end]).replace('\r', "");
            self.buffer.drain(..end + 2);
            let mut event = String::from("message");
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim_start().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if !data.is_empty() {
                out.push(Message {
                    event,
                    data: data.join("\n"),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_across_chunks_and_comments_are_skipped() {
        let mut r = Reader::new();
        assert!(r.feed(b"event: call\ndata: {\"code\":").is_empty());
        let m = r.feed(b"\"A001\"}\n\n: keep-alive\n\nevent: board\ndata: a\ndata: b\n\n");
        assert_eq!(
            m,
            [
                Message {
                    event: "call".into(),
                    data: "{\"code\":\"A001\"}".into()
                },
                Message {
                    event: "board".into(),
                    data: "a\nb".into()
                }
            ]
        );
        // Vietnamese split inside a character.
        let bytes = "data: Mời\n\n".as_bytes();
        assert!(r.feed(&bytes[..8]).is_empty());
        assert_eq!(r.feed(&bytes[8..])[0].data, "Mời");
    }
}
