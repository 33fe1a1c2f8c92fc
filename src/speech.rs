//! Read-aloud: a text spoken by espeak-ng, offline, with its Vietnamese voice (or English), one
//! at a time; a new text or `stop` cuts the one before. Output goes to the sound card (espeak-ng
//! plays it itself) or, for tests and kiosks without speakers, into numbered WAV files with the
//! text beside them (`KIOSK_SPEECH_OUT`). Knows nothing of the UI; `ui::read_aloud` says what
//! each page reads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Longer texts are cut here: a page's main text, not a document.
pub const MAX_CHARS: usize = 3000;
/// Slower than espeak-ng's 175 words a minute: many listeners are elderly.
const WORDS_PER_MINUTE: &str = "135";

#[derive(Debug, Clone)]
enum Output {
    Device,
    Files(PathBuf),
}

/// Speaks texts through espeak-ng. Cheap to clone; clones share the voice.
#[derive(Clone)]
pub struct Speaker {
    program: PathBuf,
    output: Output,
    current: Arc<Mutex<Option<Child>>>,
    written: Arc<Mutex<u32>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("cannot start {program}: {source}")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

impl Speaker {
    /// espeak-ng from PATH, speaking to the sound card, or into `KIOSK_SPEECH_OUT` when that is
    /// set. None when espeak-ng is not installed (the page then offers no read-aloud).
    pub fn detect() -> Option<Speaker> {
        Speaker::with_output(std::env::var_os("KIOSK_SPEECH_OUT").map(PathBuf::from))
    }

    /// espeak-ng from PATH, into WAV files (and the texts) in `files`, or to the sound card.
    pub fn with_output(files: Option<PathBuf>) -> Option<Speaker> {
        let program = find_program("espeak-ng")?;
        let output = match files {
            Some(dir) => Output::Files(dir),
            None => Output::Device,
        };
        Some(Speaker {
            program,
            output,
            current: Arc::new(Mutex::new(None)),
            written: Arc::new(Mutex::new(0)),
        })
    }

    /// Speak `text` in "vi" or "en", cutting off whatever was being said. Returns at once.
    pub fn say(&self, lang: &str, text: &str) -> Result<(), SpeechError> {
        self.stop();
        let voice = if lang == "en" { "en-gb" } else { "vi" };
        let text: String = text.chars().take(MAX_CHARS).collect();
        let mut cmd = Command::new(&self.program);
        cmd.args(["-v", voice, "-s", WORDS_PER_MINUTE])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Output::Files(dir) = &self.output {
            let n = {
                let mut w = self.written.lock().unwrap_or_else(|e| e.into_inner());
                *w += 1;
                *w
            };
            std::fs::create_dir_all(dir).map_err(|source| SpeechError::Write {
                path: dir.clone(),
                source,
            })?;
            let base = dir.join(format!("{n:04}-{lang}"));
            write(&base.with_extension("txt"), &text)?;
            cmd.arg("-w").arg(base.with_extension("wav"));
        }
        // The text is an argument, never parsed by a shell; "--" ends the options.
        cmd.arg("--").arg(&text);
        let child = cmd.spawn().map_err(|source| SpeechError::Start {
            program: self.program.display().to_string(),
            source,
        })?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        Ok(())
    }

    /// Stop speaking now (nothing happens when silent).
    pub fn stop(&self) {
        if let Some(mut child) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Still speaking (or writing) the last text.
    pub fn speaking(&self) -> bool {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(_) => {
                *current = None;
                false
            }
            None => false,
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), SpeechError> {
    std::fs::write(path, text).map_err(|source| SpeechError::Write {
        path: path.to_path_buf(),
        source,
    })
}
