//! The spoken announcement, rendered through espeak-ng to a WAV file exactly as the board
//! plays it, and checked to be real speech: long enough for the words, loud enough to hear,
//! not clipped. The files stay in Cargo's target tmp dir for anyone who wants to listen.

use std::path::PathBuf;
use std::time::Duration;

use qhall_display::board::{Announcement, CallKind};
use qhall_display::voice::{self, Language, Pcm, Utterance, VoiceConfig};

fn a012_to_window_3() -> Announcement {
    Announcement {
        number: "A012".parse().unwrap(),
        window: qhall_shared::WindowNo::new(3).unwrap(),
        service: "A".parse().unwrap(),
        kind: CallKind::Call,
    }
}

/// Renders the announcement in `language` to a WAV file and reads it back.
fn announce_to_wav(language: Language, name: &str) -> (Pcm, Pcm) {
    let config = VoiceConfig {
        languages: vec![language],
        ..VoiceConfig::default()
    };
    let utterance = Utterance::new(&a012_to_window_3(), &config);
    let pcm = voice::render(&utterance, config.words_per_minute).unwrap();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    pcm.write_wav(&path).unwrap();
    let back = Pcm::read_wav(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(back.rate, voice::RATE);
    assert_eq!(back.samples.len(), pcm.samples.len());
    let speech = voice::speak(language, &utterance.phrases[0].1, config.words_per_minute).unwrap();
    (back, speech)
}

fn assert_is_speech(speech: &Pcm, at_least: Duration) {
    assert!(
        speech.duration() >= at_least,
        "only {:?} of speech",
        speech.duration()
    );
    assert!(
        speech.duration() < Duration::from_secs(10),
        "{:?} of speech",
        speech.duration()
    );
    assert!(
        speech.rms() > 0.03,
        "speech too quiet: rms {}",
        speech.rms()
    );
    assert!(
        speech.peak() > 0.2,
        "speech too quiet: peak {}",
        speech.peak()
    );
    // Speech has pauses: a good share of 20 ms frames is much quieter than the loudest.
    let frames: Vec<f32> = speech
        .samples
        .chunks(speech.rate as usize / 50)
        .map(|f| (f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32).sqrt())
        .collect();
    let loudest = frames.iter().copied().fold(0.0, f32::max);
    let voiced = frames.iter().filter(|&&f| f > loudest * 0.1).count();
    assert!(
        voiced * 10 > frames.len() * 4,
        "mostly silence: {voiced} of {} frames",
        frames.len()
    );
    assert!(voiced < frames.len(), "no pause at all: not speech");
}

#[test]
fn the_mandarin_announcement_is_a_chime_then_real_speech() {
    let (wav, speech) = announce_to_wav(Language::Zh, "announcement-zh.wav");
    // 请 A 零 一 二 号 到 三 号 窗 口: eleven syllables at a hall's pace.
    assert_is_speech(&speech, Duration::from_millis(1800));
    let chime = voice::chime();
    assert!(wav.duration() > chime.duration() + speech.duration());
    assert!(wav.peak() < 1.0, "clipped");
    assert_eq!(
        &wav.samples[..1000],
        &quantized(&chime.samples[..1000])[..],
        "the chime comes first"
    );
}

#[test]
fn the_english_announcement_is_a_chime_then_real_speech() {
    let (wav, speech) = announce_to_wav(Language::En, "announcement-en.wav");
    // "Ticket A 0 1 2, please go to window 3"
    assert_is_speech(&speech, Duration::from_millis(1800));
    assert!(wav.duration() > voice::chime().duration() + speech.duration());
    assert!(wav.peak() < 1.0, "clipped");
}

/// The samples as they come back from a 16-bit file.
fn quantized(samples: &[f32]) -> Vec<f32> {
    samples
        .iter()
        .map(|s| f32::from((s * f32::from(i16::MAX)) as i16) / f32::from(i16::MAX))
        .collect()
}

/// The emergency message, spoken by espeak-ng in both languages after the chime: real speech,
/// each language from its own part of the prepared message.
#[test]
fn the_emergency_is_a_chime_then_real_speech_in_both_languages() {
    let config = VoiceConfig::default();
    let message = "火警：请按指示从最近的安全出口有序离开。火警：請按指示從最近的安全出口有序離開。Fire alarm: please leave calmly by the nearest exit.";
    let utterance = Utterance::emergency(message, &config);
    assert!(utterance.emergency);
    assert_eq!(utterance.phrases.len(), 2);
    let pcm = voice::render(&utterance, config.words_per_minute).unwrap();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("emergency.wav");
    pcm.write_wav(&path).unwrap();
    for (language, text) in &utterance.phrases {
        let speech = voice::speak(*language, text, config.words_per_minute).unwrap();
        assert_is_speech(&speech, Duration::from_millis(2500));
    }
    assert!(
        pcm.duration() > Duration::from_secs(6),
        "{:?}",
        pcm.duration()
    );
    assert!(pcm.peak() < 1.0, "clipped");
}
