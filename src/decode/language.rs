//! Language and task: the decoder prompt of each segment, and language identification from the first decoder step
//! (as openai-whisper's `detect_language`: the logits after `<|startoftranscript|>`, over the language tokens).

use serde::{Deserialize, Serialize};

use super::search::log_softmax;
use super::Decoder;
use crate::error::Result;
use crate::model::{AudioContext, KvCache, Manifest};

/// What the decoder writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Text in the language spoken.
    #[default]
    Transcribe,
    /// English text, whatever the language spoken (multilingual packs only).
    Translate,
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Task, String> {
        match s {
            "transcribe" => Ok(Task::Transcribe),
            "translate" => Ok(Task::Translate),
            _ => Err(format!("task {s:?}: use transcribe or translate")),
        }
    }
}

/// The language a segment was decoded in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpokenLanguage {
    /// Its code, as Whisper spells it ("en", "de", "zh", ...).
    pub code: String,
    /// The model's probability for it among the languages it could pick (1 when the language was given).
    pub probability: f32,
}

/// How a recognizer picks each segment's prompt, checked against its pack once.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompter {
    /// The same prompt for every segment: an English-only pack, a language given, or an allow-list of one.
    Fixed {
        /// The decoder prompt.
        prompt: Vec<u32>,
        /// Its language.
        language: String,
    },
    /// The language is detected on each segment among `candidates` (code, token), then put in the prompt.
    Detect {
        /// The languages it may pick, with their tokens.
        candidates: Vec<(String, u32)>,
        /// The prompt with the task, its language slot (index [`LANGUAGE_SLOT`]) to fill.
        template: [u32; 4],
    },
}

/// Where a multilingual prompt (`<|startoftranscript|><|xx|><|task|><|notimestamps|>`) holds its language.
const LANGUAGE_SLOT: usize = 1;

/// `template` with the language token `language` in its slot.
fn prompt_with(template: &[u32; 4], language: u32) -> Vec<u32> {
    let mut prompt = template.to_vec();
    prompt[LANGUAGE_SLOT] = language;
    prompt
}

/// The value of `language` that asks for detection.
pub const AUTO: &str = "auto";

impl Prompter {
    /// The prompter for `language` (a code or [`AUTO`]), an allow-list for detection (empty: every language the pack
    /// knows) and `task`; the error says what the pack cannot do and what to use instead.
    pub fn new(
        manifest: &Manifest,
        language: &str,
        allowed: &[String],
        task: Task,
    ) -> std::result::Result<Prompter, String> {
        let t = &manifest.tokens;
        let Some(languages) = &manifest.languages else {
            let english_only = format!(
                "pack {} transcribes English only: use a multilingual pack (--model whisper-base-int8)",
                manifest.name
            );
            if let Some(other) = std::iter::once(language)
                .chain(allowed.iter().map(String::as_str))
                .find(|&l| l != AUTO && l != "en")
            {
                return Err(format!("language {other:?}: {english_only}"));
            }
            if task == Task::Translate {
                return Err(format!("task translate: {english_only}"));
            }
            return Ok(Prompter::Fixed {
                prompt: t.prompt.clone(),
                language: "en".into(),
            });
        };
        let known = |code: &str| {
            languages.token(code).ok_or_else(|| {
                format!(
                    "language {code:?} is not one pack {} knows; use auto or one of: {}",
                    manifest.name,
                    languages.codes.join(" ")
                )
            })
        };
        let task_token = match task {
            Task::Transcribe => languages.transcribe,
            Task::Translate => languages.translate,
        };
        let template = [t.start_of_transcript, 0, task_token, t.no_timestamps];
        let fixed = |code: &str, token: u32| Prompter::Fixed {
            prompt: prompt_with(&template, token),
            language: code.to_string(),
        };
        if language != AUTO {
            return Ok(fixed(language, known(language)?));
        }
        let candidates: Vec<(String, u32)> = if allowed.is_empty() {
            (languages.codes.iter())
                .zip(languages.first_token..)
                .map(|(c, token)| (c.clone(), token))
                .collect()
        } else {
            let mut candidates = Vec::with_capacity(allowed.len());
            for code in allowed {
                candidates.push((code.clone(), known(code)?));
            }
            candidates
        };
        match candidates.as_slice() {
            [(code, token)] => Ok(fixed(code, *token)),
            _ => Ok(Prompter::Detect {
                candidates,
                template,
            }),
        }
    }

    /// The prompt and language for one segment: fixed, or detected from one decoder call on `audio`.
    pub fn resolve(
        &self,
        decoder: Decoder,
        audio: &AudioContext,
    ) -> Result<(Vec<u32>, SpokenLanguage)> {
        match self {
            Prompter::Fixed { prompt, language } => Ok((
                prompt.clone(),
                SpokenLanguage {
                    code: language.clone(),
                    probability: 1.0,
                },
            )),
            Prompter::Detect {
                candidates,
                template,
            } => {
                // The logits after <|startoftranscript|> (the template's first token).
                let mut logits = Vec::new();
                decoder.step(audio, &template[..1], &mut KvCache::default(), &mut logits)?;
                let mut scores: Vec<f32> = candidates
                    .iter()
                    .map(|&(_, token)| logits.get(token as usize).copied().unwrap_or(f32::MIN))
                    .collect();
                log_softmax(&mut scores);
                let (best, logprob) = scores
                    .iter()
                    .copied()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
                let probability = logprob.exp();
                let (code, token) = &candidates[best];
                Ok((
                    prompt_with(template, *token),
                    SpokenLanguage {
                        code: code.clone(),
                        probability,
                    },
                ))
            }
        }
    }

    /// The prompt that puts `code` in (the language of a stream, kept after its first segment); `None` when this
    /// prompter cannot take it.
    pub fn with_language(&self, code: &str) -> Option<Prompter> {
        match self {
            Prompter::Fixed { .. } => None,
            Prompter::Detect {
                candidates,
                template,
            } => {
                let &(_, token) = candidates.iter().find(|(c, _)| c == code)?;
                Some(Prompter::Fixed {
                    prompt: prompt_with(template, token),
                    language: code.to_string(),
                })
            }
        }
    }
}

/// The English name of a language code, as OpenAI's API reports it ("de" -> "german"); openai-whisper's
/// `LANGUAGES` table.
pub fn language_name(code: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|&(_, name)| name)
}

#[rustfmt::skip]
const NAMES: [(&str, &str); 100] = [
    ("en", "english"), ("zh", "chinese"), ("de", "german"), ("es", "spanish"), ("ru", "russian"), ("ko", "korean"), ("fr", "french"), ("ja", "japanese"),
    ("pt", "portuguese"), ("tr", "turkish"), ("pl", "polish"), ("ca", "catalan"), ("nl", "dutch"), ("ar", "arabic"), ("sv", "swedish"), ("it", "italian"),
    ("id", "indonesian"), ("hi", "hindi"), ("fi", "finnish"), ("vi", "vietnamese"), ("he", "hebrew"), ("uk", "ukrainian"), ("el", "greek"), ("ms", "malay"),
    ("cs", "czech"), ("ro", "romanian"), ("da", "danish"), ("hu", "hungarian"), ("ta", "tamil"), ("no", "norwegian"), ("th", "thai"), ("ur", "urdu"),
    ("hr", "croatian"), ("bg", "bulgarian"), ("lt", "lithuanian"), ("la", "latin"), ("mi", "maori"), ("ml", "malayalam"), ("cy", "welsh"), ("sk", "slovak"),
    ("te", "telugu"), ("fa", "persian"), ("lv", "latvian"), ("bn", "bengali"), ("sr", "serbian"), ("az", "azerbaijani"), ("sl", "slovenian"), ("kn", "kannada"),
    ("et", "estonian"), ("mk", "macedonian"), ("br", "breton"), ("eu", "basque"), ("is", "icelandic"), ("hy", "armenian"), ("ne", "nepali"), ("mn", "mongolian"),
    ("bs", "bosnian"), ("kk", "kazakh"), ("sq", "albanian"), ("sw", "swahili"), ("gl", "galician"), ("mr", "marathi"), ("pa", "punjabi"), ("si", "sinhala"),
    ("km", "khmer"), ("sn", "shona"), ("yo", "yoruba"), ("so", "somali"), ("af", "afrikaans"), ("oc", "occitan"), ("ka", "georgian"), ("be", "belarusian"),
    ("tg", "tajik"), ("sd", "sindhi"), ("gu", "gujarati"), ("am", "amharic"), ("yi", "yiddish"), ("lo", "lao"), ("uz", "uzbek"), ("fo", "faroese"),
    ("ht", "haitian creole"), ("ps", "pashto"), ("tk", "turkmen"), ("nn", "nynorsk"), ("mt", "maltese"), ("sa", "sanskrit"), ("lb", "luxembourgish"), ("my", "myanmar"),
    ("bo", "tibetan"), ("tl", "tagalog"), ("mg", "malagasy"), ("as", "assamese"), ("tt", "tatar"), ("haw", "hawaiian"), ("ln", "lingala"), ("ha", "hausa"),
    ("ba", "bashkir"), ("jw", "javanese"), ("su", "sundanese"), ("yue", "cantonese"),
];
