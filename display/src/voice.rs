//! The voice: a chime, then the call spoken, for every announcement, in order.
//!
//! Three layers, so that the rules can be tested without a sound card:
//! - [`VoiceQueue`] (pure): what is said and in which order. Every announcement becomes one
//!   [`Utterance`] (a recall too, so it is heard again); nothing is merged or dropped.
//! - [`render`]: an utterance to PCM samples — the chime, then espeak-ng for each phrase.
//!   Tests write the same samples to a WAV file and check it is real speech.
//! - [`Voice`]: a thread that plays utterances one after the other through rodio and waits
//!   for each to finish, so an announcement is never cut off by the next one. Without a sound
//!   device it logs once and keeps emptying the queue, so the board keeps working.
//!
//! An emergency is spoken too ([`Speaker`] turns the board's updates into [`Speech`]): at once,
//! ahead of the calls waiting to be said, and again every [`EMERGENCY_REPEAT`] while it stands
//! ([`EmergencyRepeat`]); its end stops the repeats.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::board::{Announcement, Board, CallKind};

/// How often a standing emergency is spoken again.
pub const EMERGENCY_REPEAT: Duration = Duration::from_secs(180);

/// A language the board speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Mandarin, read by espeak-ng's `cmn-latn-pinyin` voice from Chinese characters.
    Zh,
    En,
}

impl Language {
    /// The espeak-ng voice. Debian's plain `cmn` voice spells pinyin in English; this one
    /// speaks Mandarin when given Chinese characters (TOOLCHAIN.md).
    fn espeak_voice(self) -> &'static str {
        match self {
            Language::Zh => "cmn-latn-pinyin",
            Language::En => "en",
        }
    }
}

/// The languages of `--voice`, in the order spoken; empty for `off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages(pub Vec<Language>);

/// Parses `--voice`: `zh`, `en`, `zh,en`, `en,zh` or `off`.
pub fn parse_languages(s: &str) -> Result<Languages, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(Languages(Vec::new()));
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let lang = match part.trim() {
            "zh" | "cmn" => Language::Zh,
            "en" => Language::En,
            other => return Err(format!("unknown voice language {other:?} (zh, en or off)")),
        };
        if !out.contains(&lang) {
            out.push(lang);
        }
    }
    Ok(Languages(out))
}

pub const DEFAULT_TEMPLATE_ZH: &str = "请{number}号到{window}号窗口";
pub const DEFAULT_TEMPLATE_EN: &str = "Ticket {number}, please go to window {window}";

/// What the voice says and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceConfig {
    /// In the order spoken; empty: the board is silent.
    pub languages: Vec<Language>,
    /// How many times the phrases are said after one chime (at least once).
    pub repeat: u32,
    /// `{number}`, `{window}` and `{service}` are replaced by their spoken forms.
    pub template_zh: String,
    pub template_en: String,
    /// espeak-ng words per minute; halls speak slower than espeak's default 175.
    pub words_per_minute: u32,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            languages: vec![Language::Zh, Language::En],
            repeat: 1,
            template_zh: DEFAULT_TEMPLATE_ZH.into(),
            template_en: DEFAULT_TEMPLATE_EN.into(),
            words_per_minute: 150,
        }
    }
}

const ZH_DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// A ticket number as halls read it in Mandarin: the letter, then digit by digit
/// (`A012` → `A零一二`). espeak-ng would read `012` as a quantity.
pub fn zh_ticket(number: &str) -> String {
    number
        .chars()
        .map(|c| c.to_digit(10).map_or(c, |d| ZH_DIGITS[d as usize]))
        .collect()
}

/// A window number as a Mandarin cardinal (`3` → `三`, `12` → `十二`, `20` → `二十`); windows
/// past 99 are read digit by digit.
pub fn zh_window(n: u32) -> String {
    let digit = |d: u32| ZH_DIGITS[d as usize];
    match n {
        0..=9 => digit(n).to_string(),
        10..=19 => format!(
            "十{}",
            if n == 10 {
                String::new()
            } else {
                digit(n % 10).to_string()
            }
        ),
        20..=99 => {
            let ones = if n.is_multiple_of(10) {
                String::new()
            } else {
                digit(n % 10).to_string()
            };
            format!("{}十{}", digit(n / 10), ones)
        }
        _ => zh_ticket(&n.to_string()),
    }
}

/// A ticket number read letter and digit by digit in English (`A012` → `A 0 1 2`).
pub fn en_ticket(number: &str) -> String {
    let mut out = String::new();
    for c in number.chars() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The phrase for one announcement in one language.
pub fn phrase(announcement: &Announcement, language: Language, config: &VoiceConfig) -> String {
    let number = announcement.number.as_str();
    let (template, number, window) = match language {
        Language::Zh => (
            &config.template_zh,
            zh_ticket(number),
            zh_window(announcement.window.get()),
        ),
        Language::En => (
            &config.template_en,
            en_ticket(number),
            announcement.window.to_string(),
        ),
    };
    template
        .replace("{number}", &number)
        .replace("{window}", &window)
        .replace("{service}", announcement.service.as_str())
}

/// One chime and the phrases after it: what is played for one announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub number: String,
    pub window: u32,
    pub kind: CallKind,
    /// In order: every language, `repeat` times.
    pub phrases: Vec<(Language, String)>,
    /// The emergency message rather than a call.
    pub emergency: bool,
}

/// Whether `c` is a Chinese character or CJK punctuation.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// The emergency message in `language`: the prepared messages carry Simplified Chinese,
/// Traditional Chinese and English one after the other; Mandarin says the first Chinese sentence,
/// English the Latin text after the last Chinese character. A part a message lacks is replaced
/// by "follow the staff's instructions".
pub fn emergency_phrase(message: &str, language: Language) -> String {
    let message = message.trim();
    match language {
        Language::Zh => {
            let chinese: String = match message.find(is_cjk) {
                Some(start) => {
                    let rest = &message[start..];
                    let end = rest.find('。').map_or(rest.len(), |i| i + '。'.len_utf8());
                    rest[..end].to_owned()
                }
                None => "请听从工作人员指挥。".to_owned(),
            };
            format!("紧急通知：{chinese}")
        }
        Language::En => {
            let after = message
                .char_indices()
                .rfind(|(_, c)| is_cjk(*c))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let latin = message[after..].trim();
            let text = if latin.chars().any(|c| c.is_ascii_alphabetic()) {
                latin
            } else {
                "Please follow the instructions of the staff."
            };
            format!("Emergency announcement. {text}")
        }
    }
}

impl Utterance {
    /// The emergency `message`, in every language of `config`, `repeat` times.
    pub fn emergency(message: &str, config: &VoiceConfig) -> Self {
        let mut phrases = Vec::new();
        for _ in 0..config.repeat.max(1) {
            for &language in &config.languages {
                phrases.push((language, emergency_phrase(message, language)));
            }
        }
        Utterance {
            number: String::new(),
            window: 0,
            kind: CallKind::Call,
            phrases,
            emergency: true,
        }
    }
}

/// What the board asks its voice to say: a call, or the emergency message (`None`: it ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speech {
    Call(Announcement),
    Emergency(Option<String>),
}

/// Turns the board's updates into speech: its calls, and the emergency message whenever it
/// starts, changes or ends (a board that starts during an emergency says it too).
#[derive(Debug, Default)]
pub struct Speaker {
    emergency: Option<String>,
}

impl Speaker {
    pub fn on_update(&mut self, board: &Board, said: Vec<Announcement>) -> Vec<Speech> {
        let mut out = Vec::with_capacity(said.len() + 1);
        if board.emergency != self.emergency {
            self.emergency = board.emergency.clone();
            out.push(Speech::Emergency(self.emergency.clone()));
        }
        out.extend(said.into_iter().map(Speech::Call));
        out
    }
}

/// The standing emergency and when it is said next.
#[derive(Debug, Default)]
pub struct EmergencyRepeat {
    standing: Option<(String, Instant)>,
}

impl EmergencyRepeat {
    /// An emergency started or changed (`Some`: say it now, and again every
    /// [`EMERGENCY_REPEAT`]) or ended (`None`).
    pub fn set(&mut self, message: Option<String>, now: Instant) {
        self.standing = message.map(|m| (m, now + EMERGENCY_REPEAT));
    }

    /// When the voice must wake to say it again, if one stands.
    pub fn next_at(&self) -> Option<Instant> {
        self.standing.as_ref().map(|(_, at)| *at)
    }

    /// The message to say again now, if its time has come (and the time after that is set).
    pub fn due(&mut self, now: Instant) -> Option<String> {
        match &mut self.standing {
            Some((message, at)) if *at <= now => {
                *at = now + EMERGENCY_REPEAT;
                Some(message.clone())
            }
            _ => None,
        }
    }
}

impl Utterance {
    pub fn new(announcement: &Announcement, config: &VoiceConfig) -> Self {
        let mut phrases = Vec::new();
        for _ in 0..config.repeat.max(1) {
            for &language in &config.languages {
                phrases.push((language, phrase(announcement, language, config)));
            }
        }
        Utterance {
            number: announcement.number.to_string(),
            window: announcement.window.get(),
            kind: announcement.kind,
            phrases,
            emergency: false,
        }
    }
}

/// The announcements waiting to be played, first in first out. Unbounded on purpose: a
/// burst of calls is spoken late rather than not at all.
#[derive(Debug, Default)]
pub struct VoiceQueue {
    items: VecDeque<Utterance>,
}

impl VoiceQueue {
    pub fn push(&mut self, announcement: &Announcement, config: &VoiceConfig) {
        self.items.push_back(Utterance::new(announcement, config));
    }

    /// Takes one request: a call goes to the back; an emergency goes before every call still
    /// waiting (replacing an earlier emergency not said yet); its end drops one not said yet.
    pub fn take(&mut self, speech: &Speech, config: &VoiceConfig) {
        match speech {
            Speech::Call(a) => self.push(a, config),
            Speech::Emergency(message) => {
                self.items.retain(|u| !u.emergency);
                if let Some(m) = message {
                    self.items.push_front(Utterance::emergency(m, config));
                }
            }
        }
    }

    /// The next utterance to play in full.
    pub fn pop(&mut self) -> Option<Utterance> {
        self.items.pop_front()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Mono PCM, samples in -1..1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pcm {
    pub rate: u32,
    pub samples: Vec<f32>,
}

/// espeak-ng's output rate; the chime is made at the same rate so the two concatenate.
pub const RATE: u32 = 22_050;

impl Pcm {
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.rate.max(1)))
    }

    /// Root mean square level, 0..1.
    pub fn rms(&self) -> f32 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum();
        (sum / self.samples.len() as f64).sqrt() as f32
    }

    pub fn peak(&self) -> f32 {
        self.samples.iter().fold(0.0f32, |m, &s| m.max(s.abs()))
    }

    fn silence(&mut self, secs: f32) {
        let n = (secs * self.rate as f32) as usize;
        self.samples.extend(std::iter::repeat_n(0.0, n));
    }

    /// Writes a 16-bit mono WAV file.
    pub fn write_wav(&self, path: &Path) -> anyhow::Result<()> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: self.rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec)
            .with_context(|| format!("creating {}", path.display()))?;
        for &s in &self.samples {
            w.write_sample((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16)?;
        }
        w.finalize()?;
        Ok(())
    }

    /// Reads a 16-bit mono WAV file (what espeak-ng writes).
    pub fn read_wav(bytes: &[u8]) -> anyhow::Result<Pcm> {
        let reader = hound::WavReader::new(std::io::Cursor::new(bytes))?;
        let spec = reader.spec();
        if spec.channels != 1 || spec.bits_per_sample != 16 {
            bail!("expected 16-bit mono audio, got {spec:?}");
        }
        // espeak-ng writing to a pipe cannot know the length and puts the maximum in the
        // header, so the samples end at the end of the bytes, not at the declared length.
        let samples: Vec<f32> = reader
            .into_samples::<i16>()
            .map_while(Result::ok)
            .map(|s| f32::from(s) / f32::from(i16::MAX))
            .collect();
        if samples.is_empty() {
            bail!("the WAV data holds no samples");
        }
        Ok(Pcm {
            rate: spec.sample_rate,
            samples,
        })
    }
}

/// The two-tone "ding-dong" before every call: a bright tone then a lower one, each decaying
/// like a struck bell, so heads turn before the number is said.
pub fn chime() -> Pcm {
    let mut pcm = Pcm {
        rate: RATE,
        samples: Vec::new(),
    };
    for (freq, secs) in [(659.25f32, 0.55f32), (523.25, 0.9)] {
        let n = (secs * RATE as f32) as usize;
        pcm.samples.extend((0..n).map(|i| {
            let t = i as f32 / RATE as f32;
            let envelope = (-3.5 * t).exp() * (t * 200.0).min(1.0);
            let w = std::f32::consts::TAU * freq * t;
            0.42 * envelope * (w.sin() + 0.3 * (2.0 * w).sin() + 0.1 * (3.0 * w).sin())
        }));
    }
    pcm
}

/// One phrase through espeak-ng.
pub fn speak(language: Language, text: &str, words_per_minute: u32) -> anyhow::Result<Pcm> {
    let mut child = Command::new("espeak-ng")
        .args([
            "-v",
            language.espeak_voice(),
            "-s",
            &words_per_minute.to_string(),
            "--stdin",
            "--stdout",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting espeak-ng (is the espeak-ng package installed?)")?;
    // The text goes through stdin so that a template can never be taken for an option.
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "espeak-ng failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let pcm = Pcm::read_wav(&out.stdout).context("reading espeak-ng's WAV output")?;
    if pcm.rate != RATE {
        bail!("espeak-ng spoke at {} Hz, expected {RATE}", pcm.rate);
    }
    Ok(pcm)
}

/// The whole announcement as samples: chime, then each phrase with a pause after it.
pub fn render(utterance: &Utterance, words_per_minute: u32) -> anyhow::Result<Pcm> {
    let mut pcm = chime();
    pcm.silence(0.25);
    for (language, text) in &utterance.phrases {
        let speech = speak(*language, text, words_per_minute)?;
        pcm.samples.extend(speech.samples);
        pcm.silence(0.45);
    }
    Ok(pcm)
}

/// The handle the connection uses to queue announcements; cheap to clone.
#[derive(Debug, Clone)]
pub struct Voice {
    tx: Option<mpsc::Sender<Speech>>,
}

impl Voice {
    /// A voice that says nothing (`--voice off`).
    pub fn silent() -> Self {
        Voice { tx: None }
    }

    /// Starts the player thread.
    pub fn start(config: VoiceConfig) -> Self {
        if config.languages.is_empty() {
            return Voice::silent();
        }
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("qhall-voice".into())
            .spawn(move || play_forever(&rx, &config));
        match spawned {
            Ok(_) => Voice { tx: Some(tx) },
            Err(e) => {
                tracing::error!(
                    "cannot start the voice thread: {e}; calls are shown but not spoken"
                );
                Voice::silent()
            }
        }
    }

    pub fn announce(&self, announcements: Vec<Speech>) {
        if let Some(tx) = &self.tx {
            for a in announcements {
                // Fails only once the player thread is gone, which it logged.
                let _ = tx.send(a);
            }
        }
    }
}

/// The audio output, opened once; `None` on a machine without a sound device.
struct Output {
    _sink: rodio::MixerDeviceSink,
    player: rodio::Player,
}

impl Output {
    fn open() -> anyhow::Result<Output> {
        let mut sink = rodio::DeviceSinkBuilder::open_default_sink()?;
        sink.log_on_drop(false);
        let player = rodio::Player::connect_new(sink.mixer());
        Ok(Output {
            _sink: sink,
            player,
        })
    }

    /// Plays to the end before returning: the next announcement never cuts this one off.
    fn play(&self, pcm: Pcm) {
        let (Some(channels), Some(rate)) = (
            std::num::NonZero::new(1u16),
            std::num::NonZero::new(pcm.rate),
        ) else {
            return;
        };
        self.player.append(rodio::buffer::SamplesBuffer::new(
            channels,
            rate,
            pcm.samples,
        ));
        self.player.sleep_until_end();
    }
}

fn play_forever(rx: &mpsc::Receiver<Speech>, config: &VoiceConfig) {
    let output = match Output::open() {
        Ok(o) => Some(o),
        Err(e) => {
            tracing::warn!("no sound device ({e}): calls are shown but not spoken");
            None
        }
    };
    let mut queue = VoiceQueue::default();
    let mut repeat = EmergencyRepeat::default();
    let mut speech_failed = false;
    let take = |queue: &mut VoiceQueue, repeat: &mut EmergencyRepeat, s: Speech| {
        if let Speech::Emergency(m) = &s {
            repeat.set(m.clone(), Instant::now());
        }
        queue.take(&s, config);
    };
    loop {
        if queue.is_empty() {
            let next = match repeat.next_at() {
                Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(s) => take(&mut queue, &mut repeat, s),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        while let Ok(s) = rx.try_recv() {
            take(&mut queue, &mut repeat, s);
        }
        if let Some(m) = repeat.due(Instant::now()) {
            queue.take(&Speech::Emergency(Some(m)), config);
        }
        let Some(utterance) = queue.pop() else {
            continue;
        };
        tracing::info!(number = %utterance.number, window = utterance.window, emergency = utterance.emergency, queued = queue.len(), "announcing");
        let Some(output) = &output else { continue };
        let pcm = match render(&utterance, config.words_per_minute) {
            Ok(pcm) => pcm,
            Err(e) => {
                // Without speech the chime still tells the hall to look at the board.
                if !speech_failed {
                    tracing::warn!("speech failed ({e:#}); playing the chime only");
                    speech_failed = true;
                }
                chime()
            }
        };
        output.play(pcm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qhall_shared::WindowNo;

    fn ann(number: &str, window: u32, kind: CallKind) -> Announcement {
        Announcement {
            number: number.parse().unwrap(),
            window: WindowNo::new(window).unwrap(),
            service: number[..1].parse().unwrap(),
            kind,
        }
    }

    #[test]
    fn mandarin_reads_the_ticket_digit_by_digit_and_the_window_as_a_number() {
        let c = VoiceConfig::default();
        assert_eq!(
            phrase(&ann("A012", 3, CallKind::Call), Language::Zh, &c),
            "请A零一二号到三号窗口"
        );
        assert_eq!(
            phrase(&ann("B100", 12, CallKind::Call), Language::Zh, &c),
            "请B一零零号到十二号窗口"
        );
        assert_eq!(zh_window(10), "十");
        assert_eq!(zh_window(20), "二十");
        assert_eq!(zh_window(47), "四十七");
        assert_eq!(zh_window(105), "一零五");
    }

    #[test]
    fn english_reads_the_ticket_character_by_character() {
        let c = VoiceConfig::default();
        assert_eq!(
            phrase(&ann("A012", 3, CallKind::Call), Language::En, &c),
            "Ticket A 0 1 2, please go to window 3"
        );
    }

    #[test]
    fn templates_are_configurable() {
        let c = VoiceConfig {
            template_en: "Number {number} to counter {window} ({service})".into(),
            ..VoiceConfig::default()
        };
        assert_eq!(
            phrase(&ann("C007", 2, CallKind::Call), Language::En, &c),
            "Number C 0 0 7 to counter 2 (C)"
        );
    }

    #[test]
    fn the_queue_keeps_arrival_order_and_drops_nothing() {
        let c = VoiceConfig::default();
        let mut q = VoiceQueue::default();
        for i in 0..500u32 {
            q.push(&ann(&format!("A{i:03}"), 1 + i % 9, CallKind::Call), &c);
        }
        assert_eq!(q.len(), 500);
        for i in 0..500u32 {
            let u = q.pop().unwrap();
            assert_eq!(u.number, format!("A{i:03}"));
            assert_eq!(u.window, 1 + i % 9);
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn a_recall_is_queued_again_even_while_the_first_call_waits() {
        let c = VoiceConfig::default();
        let mut q = VoiceQueue::default();
        q.push(&ann("A001", 1, CallKind::Call), &c);
        q.push(&ann("A002", 2, CallKind::Call), &c);
        q.push(&ann("A001", 1, CallKind::Recall), &c);
        let said: Vec<(String, CallKind)> = std::iter::from_fn(|| q.pop())
            .map(|u| (u.number, u.kind))
            .collect();
        assert_eq!(
            said,
            [
                ("A001".into(), CallKind::Call),
                ("A002".into(), CallKind::Call),
                ("A001".into(), CallKind::Recall)
            ]
        );
    }

    #[test]
    fn repeat_says_every_language_that_many_times_after_one_chime() {
        let c = VoiceConfig {
            repeat: 2,
            ..VoiceConfig::default()
        };
        let u = Utterance::new(&ann("A012", 3, CallKind::Call), &c);
        let langs: Vec<Language> = u.phrases.iter().map(|p| p.0).collect();
        assert_eq!(
            langs,
            [Language::Zh, Language::En, Language::Zh, Language::En]
        );
        let zero = VoiceConfig {
            repeat: 0,
            ..VoiceConfig::default()
        };
        assert_eq!(
            Utterance::new(&ann("A012", 3, CallKind::Call), &zero)
                .phrases
                .len(),
            2
        );
        let en = VoiceConfig {
            languages: vec![Language::En],
            repeat: 3,
            ..VoiceConfig::default()
        };
        assert_eq!(
            Utterance::new(&ann("A012", 3, CallKind::Call), &en)
                .phrases
                .len(),
            3
        );
    }

    #[test]
    fn voice_languages_parse_in_the_order_given() {
        assert_eq!(parse_languages("zh").unwrap().0, [Language::Zh]);
        assert_eq!(
            parse_languages("en,zh").unwrap().0,
            [Language::En, Language::Zh]
        );
        assert_eq!(
            parse_languages("zh, en").unwrap().0,
            [Language::Zh, Language::En]
        );
        assert!(parse_languages("off").unwrap().0.is_empty());
        assert!(parse_languages("fr").is_err());
    }

    #[test]
    fn the_chime_is_audible_and_does_not_clip() {
        let c = chime();
        assert!(c.duration() > Duration::from_millis(1000));
        assert!(c.rms() > 0.05, "rms {}", c.rms());
        assert!(c.peak() < 1.0, "peak {}", c.peak());
    }

    const FIRE: &str = "火警：请按指示从最近的安全出口有序离开。火警：請按指示從最近的安全出口有序離開。Fire alarm: please leave calmly by the nearest exit.";

    #[test]
    fn an_emergency_is_said_in_each_language_from_its_own_part_of_the_message() {
        assert_eq!(
            emergency_phrase(FIRE, Language::Zh),
            "紧急通知：火警：请按指示从最近的安全出口有序离开。"
        );
        assert_eq!(
            emergency_phrase(FIRE, Language::En),
            "Emergency announcement. Fire alarm: please leave calmly by the nearest exit."
        );
        // A message in one language only: the other says to follow the staff.
        assert_eq!(
            emergency_phrase("停电，请稍候", Language::En),
            "Emergency announcement. Please follow the instructions of the staff."
        );
        assert_eq!(
            emergency_phrase("Power cut", Language::Zh),
            "紧急通知：请听从工作人员指挥。"
        );
    }

    #[test]
    fn an_emergency_goes_before_waiting_calls_and_its_end_drops_it() {
        let c = VoiceConfig::default();
        let mut q = VoiceQueue::default();
        q.take(&Speech::Call(ann("A001", 1, CallKind::Call)), &c);
        q.take(&Speech::Emergency(Some(FIRE.into())), &c);
        q.take(&Speech::Emergency(Some("second".into())), &c);
        assert_eq!(
            q.len(),
            2,
            "the newer emergency replaced the one not said yet"
        );
        let first = q.pop().unwrap();
        assert!(first.emergency);
        assert_eq!(first.phrases[1].1, "Emergency announcement. second");
        q.take(&Speech::Emergency(Some(FIRE.into())), &c);
        q.take(&Speech::Emergency(None), &c);
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).map(|u| u.number).collect();
        assert_eq!(rest, ["A001"]);
    }

    #[test]
    fn a_standing_emergency_is_said_again_every_three_minutes_until_it_ends() {
        let t0 = Instant::now();
        let mut r = EmergencyRepeat::default();
        assert_eq!((r.next_at(), r.due(t0)), (None, None));
        r.set(Some(FIRE.into()), t0);
        assert_eq!(r.due(t0 + Duration::from_secs(179)), None);
        assert_eq!(r.due(t0 + EMERGENCY_REPEAT).as_deref(), Some(FIRE));
        assert_eq!(r.next_at(), Some(t0 + 2 * EMERGENCY_REPEAT));
        assert_eq!(r.due(t0 + EMERGENCY_REPEAT), None, "once per period");
        r.set(None, t0 + EMERGENCY_REPEAT);
        assert_eq!(r.due(t0 + 10 * EMERGENCY_REPEAT), None);
        assert_eq!(r.next_at(), None);
    }
}
