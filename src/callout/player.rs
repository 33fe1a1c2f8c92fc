//! The call-out queue: calls are spoken one after another on their own thread, so a new call
//! never cuts one off, and a recall is simply said again. Output goes to the sound card (through
//! ALSA's `aplay` or PulseAudio's `paplay`, whichever is installed) or into numbered WAV files
//! (`--audio-out DIR`: tests, and boards without speakers that record what they said).

use std::path::PathBuf;
use std::sync::mpsc;

use super::{CLIPS, call_clips, wav};

#[derive(Debug, Clone)]
pub enum Output {
    /// Play on the sound card with this command (the WAV path is appended).
    Device(Vec<String>),
    /// Write `NNNN-CODE-counterN.wav` files here.
    Files(PathBuf),
}

impl Output {
    /// The sound card, if a player is installed.
    pub fn device() -> Option<Output> {
        for (cmd, args) in [("aplay", vec!["-q"]), ("paplay", vec![])] {
            let found = std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(cmd).is_file()));
            if found {
                let mut v = vec![cmd.to_string()];
                v.extend(args.into_iter().map(String::from));
                return Some(Output::Device(v));
            }
        }
        None
    }
}

struct Announcement {
    code: String,
    letters: String,
    number: u32,
    counter: u32,
}

/// Speaks calls in order. Dropping it lets the queue finish, then the thread ends.
pub struct Announcer {
    tx: mpsc::Sender<Announcement>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Announcer {
    pub fn start(output: Output) -> Announcer {
        let (tx, rx) = mpsc::channel::<Announcement>();
        let thread = std::thread::Builder::new()
            .name("callout".into())
            .spawn(move || {
                let mut n = 0u32;
                for a in rx {
                    n += 1;
                    let Some(names) = call_clips(&a.letters, a.number, a.counter) else {
                        tracing::warn!(ticket = %a.code, "callout: no clips to say this ticket");
                        continue;
                    };
                    let clip = match wav::join(&names, CLIPS) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "callout: cannot join the clips");
                            continue;
                        }
                    };
                    let bytes = clip.to_wav();
                    match &output {
                        Output::Files(dir) => {
                            let path =
                                dir.join(format!("{n:04}-{}-counter{}.wav", a.code, a.counter));
                            if let Err(e) = std::fs::write(&path, &bytes) {
                                tracing::warn!(path = %path.display(), error = %e, "callout: cannot write the call");
                            }
                        }
                        Output::Device(cmd) => {
                            let path = std::env::temp_dir()
                                .join(format!("kiosk-callout-{}.wav", std::process::id()));
                            let played = std::fs::write(&path, &bytes).and_then(|_| {
                                std::process::Command::new(&cmd[0])
                                    .args(&cmd[1..])
                                    .arg(&path)
                                    .status()
                            });
                            if let Err(e) = played {
                                tracing::warn!(player = cmd[0], error = %e, "callout: cannot play the call");
                            }
                        }
                    }
                }
            })
            .ok();
        Announcer { tx, thread }
    }

    /// Queue a call (or a recall: the same words again): ticket `code` is `letters` + `number`.
    pub fn announce(&self, code: &str, letters: &str, number: u32, counter: u32) {
        let _ = self.tx.send(Announcement {
            code: code.to_string(),
            letters: letters.to_string(),
            number,
            counter,
        });
    }

    /// Say everything queued, then stop.
    pub fn finish(mut self) {
        let (tx, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_said_in_order_none_cut_and_recalls_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let a = Announcer::start(Output::Files(dir.path().to_path_buf()));
        a.announce("A023", "A", 23, 5);
        a.announce("B105", "B", 105, 2);
        a.announce("A023", "A", 23, 5); // a recall
        a.finish();
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "0001-A023-counter5.wav",
                "0002-B105-counter2.wav",
                "0003-A023-counter5.wav"
            ]
        );
        // Each file is the whole call: every clip, with its pauses.
        let whole = wav::join(&call_clips("B", 105, 2).unwrap(), CLIPS).unwrap();
        let written =
            wav::Clip::parse(&std::fs::read(dir.path().join(&files[1])).unwrap()).unwrap();
        assert_eq!(written, whole);
        assert!(whole.seconds() > 3.0, "{} s", whole.seconds());
    }
}
