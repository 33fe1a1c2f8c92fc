//! Just enough WAV for the call-out: read 16-bit PCM mono clips, join them with pauses, write
//! the result.

#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub rate: u32,
    pub samples: Vec<i16>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("unsupported format: {0} (need 16-bit PCM mono)")]
    Unsupported(String),
    #[error("clips have different sample rates ({0} and {1})")]
    MixedRates(u32, u32),
    #[error("no clip named {0}")]
    Missing(String),
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

impl Clip {
    pub fn parse(bytes: &[u8]) -> Result<Clip, WavError> {
        if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
            return Err(WavError::NotWave);
        }
        let mut i = 12;
        let mut format: Option<(u16, u16, u32, u16)> = None;
        while i + 8 <= bytes.len() {
            let id = &bytes[i..i + 4];
            let len = u32_at(bytes, i + 4).ok_or(WavError::NotWave)? as usize;
            let body = i + 8;
            if id == b"fmt " {
                format = Some((
                    u16_at(bytes, body).ok_or(WavError::NotWave)?,
                    u16_at(bytes, body + 2).ok_or(WavError::NotWave)?,
                    u32_at(bytes, body + 4).ok_or(WavError::NotWave)?,
                    u16_at(bytes, body + 14).ok_or(WavError::NotWave)?,
                ));
            } else if id == b"data" {
                let (tag, channels, rate, bits) = format.ok_or(WavError::NotWave)?;
                if tag != 1 || channels != 1 || bits != 16 {
                    return Err(WavError::Unsupported(format!(
                        "format {tag}, {channels} channel(s), {bits} bits"
                    )));
                }
                let end = (body + len).min(bytes.len());
                let samples = bytes[body..end]
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect();
                return Ok(Clip { rate, samples });
            }
            i = body + len + (len & 1);
        }
        Err(WavError::NotWave)
    }

    /// Seconds of sound.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / self.rate.max(1) as f64
    }

    pub fn to_wav(&self) -> Vec<u8> {
        let data = (self.samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + data as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&self.rate.to_le_bytes());
        out.extend_from_slice(&(self.rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data.to_le_bytes());
        for s in &self.samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }
}

/// Pause after a clip: longer after the chime and the two phrases, short between words.
pub fn pause_after(name: &str) -> f64 {
    match name {
        "chime" => 0.35,
        "moi-cong-dan-co-so" | "den-quay-so" => 0.15,
        n if n.starts_with("letter-") => 0.12,
        _ => 0.06,
    }
}

/// Join named clips from `clips` into one, with pauses.
pub fn join(names: &[&str], clips: &[(&str, &[u8])]) -> Result<Clip, WavError> {
    let mut out: Option<Clip> = None;
    for name in names {
        let bytes = clips
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| WavError::Missing(name.to_string()))?
            .1;
        let clip = Clip::parse(bytes)?;
        let joined = out.get_or_insert_with(|| Clip {
            rate: clip.rate,
            samples: Vec::new(),
        });
        if joined.rate != clip.rate {
            return Err(WavError::MixedRates(joined.rate, clip.rate));
        }
        joined.samples.extend_from_slice(&clip.samples);
        let gap = (pause_after(name) * clip.rate as f64) as usize;
        joined.samples.extend(std::iter::repeat_n(0, gap));
    }
    out.ok_or_else(|| WavError::Missing("(nothing to say)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_clip_reads_back_and_joins_with_pauses() {
        let a = Clip {
            rate: 8000,
            samples: vec![1, -2, 3],
        };
        let bytes = a.to_wav();
        assert_eq!(Clip::parse(&bytes).unwrap(), a);
        let clips: [(&str, &[u8]); 2] = [("x", &bytes), ("chime", &bytes)];
        let j = join(&["chime", "x"], &clips).unwrap();
        let pause = |n: &str| (pause_after(n) * 8000.0) as usize;
        assert_eq!(j.samples.len(), 3 + pause("chime") + 3 + pause("x"));
        assert_eq!(&j.samples[..3], &[1, -2, 3]);
        assert_eq!(join(&["y"], &clips), Err(WavError::Missing("y".into())));
        assert_eq!(Clip::parse(b"RIFX...."), Err(WavError::NotWave));
    }
}
