//! The whole engine (front-end, endpointer, decoder, guards, no-speech gate) on the project corpus.

use earshot::bench::wer::WerCounter;
use earshot::TurnDetector;

use crate::common::{
    corpus, joined, model, model_without_end_of_window, pack_report, read_wav_mono, recognize,
    recognizer, recognizer_on, root, speech, with_detector,
};

fn corpus_wer(recognizer: &earshot::Recognizer) -> WerCounter {
    let mut wer = WerCounter::default();
    for clip in corpus().iter().filter(|c| c.kind != "nonspeech") {
        let (samples, rate) = read_wav_mono(&speech(&clip.file));
        let finals = recognize(recognizer, &samples, rate);
        assert!(!finals.is_empty(), "{}: no transcript", clip.file);
        for t in &finals {
            assert!(
                !t.token_cap_reached,
                "{}: token cap reached: {}",
                clip.file, t.text
            );
        }
        wer.add(&clip.text, &joined(&finals));
    }
    wer
}

/// The corpus WER of a profile from firmware-configs/ is at or below faster-whisper's (int8, greedy, always the 30 s
/// window; the pack's report.json).
fn assert_at_or_below_faster_whisper_int8(profile: &str) {
    let wer = corpus_wer(&recognizer(profile, None));
    let faster_whisper = pack_report("faster_whisper_int8_wer");
    eprintln!(
        "{profile} profile WER {:.2}% ({}/{} words); faster-whisper int8 {faster_whisper:.2}%",
        wer.percent(),
        wer.errors,
        wer.words
    );
    assert!(
        wer.percent() <= faster_whisper,
        "{profile}: WER {:.2} > faster-whisper {faster_whisper:.2}",
        wer.percent()
    );
}

/// The `accurate` profile: 5 s windows, low-confidence finals also searched in the 30 s window.
#[test]
fn corpus_wer_of_the_accurate_profile_is_at_or_below_faster_whisper_int8() {
    assert_at_or_below_faster_whisper_int8("accurate");
}

/// The default profile: 5 s windows (about 8x less encoder compute than 30 s) with the end-of-window block after
/// them. Before the block this was bounded at 1.5 points above faster-whisper (4.21 % against 4.66 %: 19 against 21
/// errors); with it, 3.77 %.
#[test]
fn corpus_wer_of_the_default_profile_is_at_or_below_faster_whisper_int8() {
    assert_at_or_below_faster_whisper_int8("default");
}

#[test]
fn non_speech_gives_no_text_alone_or_in_a_stream_with_either_end_of_turn_detector() {
    // Each fixture alone, and all of them in one stream with 1.5 s of silence after each, as `earshot bench` plays
    // them. In such streams the clicks after the hum came out as "you" (P(no speech) 0.76, mean log-probability
    // -0.998) and the tone as "beep beep beep" (0.54, -0.98) or "You" (0.497, -1.45): inside faster-whisper's gate
    // (0.6 and -1.0), which the profiles now tighten to 0.45 and -0.8.
    // With the text detector the clicks alone also closed after each 200 ms of quiet with no text, and the next
    // click's 0.4 s segment passed as "you"; an empty text now leaves the turn to the silence rule.
    let recognizer = recognizer("default", None);
    let clips: Vec<_> = corpus()
        .into_iter()
        .filter(|c| c.kind == "nonspeech")
        .collect();
    assert!(clips.len() >= 5);
    let mut inputs: Vec<(String, Vec<f32>)> = Vec::new();
    let mut stream = Vec::new();
    for clip in &clips {
        let (samples, rate) = read_wav_mono(&speech(&clip.file));
        assert_eq!(rate, 16_000);
        stream.extend_from_slice(&samples);
        stream.extend(std::iter::repeat_n(0.0, 24_000));
        inputs.push((clip.file.clone(), samples));
    }
    inputs.push(("all in one stream".into(), stream));
    for detector in [TurnDetector::Silence, TurnDetector::Text] {
        let recognizer = with_detector(&recognizer, detector);
        for (name, samples) in &inputs {
            let finals = recognize(&recognizer, samples, 16_000);
            assert!(
                finals.is_empty(),
                "{detector:?} {name}: {:?}",
                finals
                    .iter()
                    .map(|t| (&t.text, t.start_s, t.end_s, t.no_speech_prob, t.avg_logprob))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn beam_search_transcribes_like_greedy_on_clean_speech() {
    // Over the three clips (44 words): one word per clip would be 4-12 %; the pack with block-wise decoder weights
    // writes "quite" for "quiet" in cmd05 with greedy and beam alike.
    let recognizer = recognizer("default", Some(5));
    let mut wer = WerCounter::default();
    let mut texts = Vec::new();
    for file in ["long02.wav", "q02.wav", "cmd05.wav"] {
        let clip = corpus().into_iter().find(|c| c.file == file).unwrap();
        let (samples, rate) = read_wav_mono(&speech(file));
        let text = joined(&recognize(&recognizer, &samples, rate));
        wer.add(&clip.text, &text);
        texts.push(text);
    }
    assert!(
        wer.percent() <= 5.0,
        "beam 5 WER {:.1}: {texts:?}",
        wer.percent()
    );
}

#[test]
fn beam_search_keeps_the_final_period_and_the_short_words_greedy_keeps() {
    // Issue 31: the search stopped at the first five endings, so hypotheses that ended a step early (before the final
    // period, or a comma-and-word later) filled the list: "...in the kitchen" without its period, "the device saves
    // your work turns off the screen", "Call my sister until her I will be late." Greedy had all of them right.
    let greedy = recognizer("default", None);
    let beam = recognizer("default", Some(5));
    for file in ["cmd01_snr20db.wav", "dict04.wav", "long05.wav", "cmd04.wav"] {
        let (samples, rate) = read_wav_mono(&speech(file));
        let expected = joined(&recognize(&greedy, &samples, rate));
        assert_eq!(
            joined(&recognize(&beam, &samples, rate)),
            expected,
            "{file}"
        );
    }
}

/// 2-3 minutes of speech: every clean 16 kHz corpus clip in turn (each already has 0.3 s of silence before and
/// 0.4 s after), joined with 0.5 s more silence.
fn long_form() -> (Vec<f32>, Vec<String>) {
    let mut samples = Vec::new();
    let mut texts = Vec::new();
    for clip in corpus().iter().filter(|c| c.kind == "speech") {
        let (s, rate) = read_wav_mono(&speech(&clip.file));
        assert_eq!(rate, 16000);
        samples.extend_from_slice(&s);
        samples.extend(std::iter::repeat_n(0.0, 8000));
        texts.push(clip.text.clone());
    }
    (samples, texts)
}

#[test]
fn long_form_audio_transcribes_fully_in_short_segments() {
    let (samples, texts) = long_form();
    let seconds = samples.len() as f64 / 16000.0;
    assert!(
        (120.0..=180.0).contains(&seconds),
        "long-form fixture is {seconds:.0} s"
    );
    let recognizer = recognizer("default", None);
    let finals = recognize(&recognizer, &samples, 16000);
    for pair in finals.windows(2) {
        assert!(
            pair[0].end_s <= pair[1].start_s,
            "segments overlap: {:?} / {:?}",
            pair[0].text,
            pair[1].text
        );
    }
    assert!(finals.iter().all(|t| t.end_s - t.start_s <= 10.0 + 1e-6));
    let mut long = WerCounter::default();
    long.add(&texts.join(" "), &joined(&finals));
    // The same clips one by one (the corpus test's path): the long form must not drop or repeat sentences.
    let mut single = WerCounter::default();
    for clip in corpus().iter().filter(|c| c.kind == "speech") {
        let (s, rate) = read_wav_mono(&speech(&clip.file));
        single.add(&clip.text, &joined(&recognize(&recognizer, &s, rate)));
    }
    eprintln!(
        "long form {seconds:.0} s, {} segments: WER {:.2}% vs {:.2}% clip by clip",
        finals.len(),
        long.percent(),
        single.percent()
    );
    assert!(
        finals.len() >= texts.len() / 2,
        "only {} segments for {} sentences",
        finals.len(),
        texts.len()
    );
    assert!(
        long.percent() <= single.percent() + 2.0,
        "long form WER {:.2} vs {:.2}",
        long.percent(),
        single.percent()
    );
}

/// A greedy final with low confidence is searched again with the fallback beam on the same encoder output. name03
/// (espeak's Scottish voice) has a greedy mean token log-probability near -1.1 with this pack: the default profile
/// gives beam 5's text for it, with fewer errors than greedy alone. A confident clip keeps its greedy text.
#[test]
fn a_low_confidence_greedy_final_is_searched_again_with_the_fallback_beam() {
    let default = recognizer("default", None);
    let beam = recognizer("default", Some(5));
    let mut profile =
        earshot::Profile::load(&root().join("firmware-configs/default.toml")).unwrap();
    profile.decode.fallback_beam_size = 1;
    profile.partials.interval_ms = 0;
    let greedy = earshot::Recognizer::new(model(), profile.recognizer_config()).unwrap();
    let run = |r: &earshot::Recognizer, file: &str| {
        let (samples, rate) = read_wav_mono(&speech(file));
        recognize(r, &samples, rate)
    };
    let clip = corpus()
        .into_iter()
        .find(|c| c.file == "name03.wav")
        .unwrap();
    let plain = run(&greedy, &clip.file);
    assert!(plain.iter().all(|t| !t.beam_fallback));
    assert!(
        plain
            .iter()
            .any(|t| t.avg_logprob < profile.decode.fallback_logprob),
        "name03 is no longer a low-confidence greedy decode: {:?}",
        plain.iter().map(|t| t.avg_logprob).collect::<Vec<_>>()
    );
    let fallen_back = run(&default, &clip.file);
    assert!(fallen_back.iter().any(|t| t.beam_fallback));
    assert_eq!(joined(&fallen_back), joined(&run(&beam, &clip.file)));
    let errors = |finals: &[earshot::Transcript]| errors_against(&clip.text, finals);
    assert!(
        errors(&fallen_back) < errors(&plain),
        "fallback {:?} vs greedy {:?}",
        joined(&fallen_back),
        joined(&plain)
    );
    let confident = run(&default, "long02.wav");
    assert!(confident.iter().all(|t| !t.beam_fallback));
    assert_eq!(joined(&confident), joined(&run(&greedy, "long02.wav")));
}

/// A clip of tests/fixtures/accuracy/, mono.
fn accuracy_fixture(file: &str) -> (Vec<f32>, u32) {
    read_wav_mono(&root().join("tests/fixtures/accuracy").join(file))
}

/// Word errors of the finals' joined text against `reference`.
fn errors_against(reference: &str, finals: &[earshot::Transcript]) -> usize {
    let mut wer = WerCounter::default();
    wer.add(reference, &joined(finals));
    wer.errors
}

/// dictation08 (espeak-ng, 190 wpm): in a 5 s window alone the decoder ends the sentence early, "We painted the fan
/// screen and the Gateway." (the text of every 5 s-window engine before the end-of-window block). With the pack's
/// end-of-window block after the window's own positions, the default profile gets it right, without any fallback.
#[test]
fn the_end_of_window_block_after_a_5s_window_gets_dictation08_right() {
    let reference = "We painted the fence green and the gate yellow.";
    let (samples, rate) = accuracy_fixture("dictation08.wav");
    let errors = |finals: &[earshot::Transcript]| errors_against(reference, finals);
    let with_block = recognize(&recognizer("default", None), &samples, rate);
    assert_eq!(errors(&with_block), 0, "{:?}", joined(&with_block));
    assert!(
        with_block
            .iter()
            .all(|t| !t.window_fallback && t.guard.is_none()),
        "{with_block:?}"
    );
    let without = recognize(
        &recognizer_on(model_without_end_of_window(), "default", None),
        &samples,
        rate,
    );
    assert!(errors(&without) >= 3, "{:?}", joined(&without));
}

/// name07 (espeak-ng `en-gb-x-rp+f2`, 140 wpm): the default profile's 5 s window gives "Tell Patrick Mattonokari's
/// ready at the garage." with low confidence even after the beam search (tests/fixtures/accuracy/README.md); the
/// `accurate` profile also searches it in the 30 s window padded as Whisper pads, keeps that text because the model
/// finds it more likely, and says so.
#[test]
fn a_low_confidence_final_is_also_searched_in_the_30s_window_padded_as_whisper_pads() {
    let reference = "Tell Patrick that the car is ready at the garage.";
    let (samples, rate) = accuracy_fixture("name07.wav");
    let errors = |finals: &[earshot::Transcript]| errors_against(reference, finals);
    let default = recognize(&recognizer("default", None), &samples, rate);
    assert!(default.iter().all(|t| !t.window_fallback));
    assert!(
        errors(&default) > 0,
        "the 5 s window now gets name07 right: {:?}",
        joined(&default)
    );
    let accurate = recognize(&recognizer("accurate", None), &samples, rate);
    assert!(accurate.iter().any(|t| t.window_fallback), "{accurate:?}");
    assert_eq!(errors(&accurate), 0, "{:?}", joined(&accurate));
    assert!(accurate
        .iter()
        .all(|t| t.avg_logprob > default[0].avg_logprob));
}

/// number07 of the held-out corpus (espeak-ng `en-gb`, 170 wpm). With a pack without the end-of-window block (as
/// exported before it) the greedy search loops in the 5 s and in the 10 s window ("Mix 1 liter up water in 4 spoons
/// I'm sugar Mix 1 liter up water ..."), and its final was once dropped as a runaway: a whole utterance lost
/// (tests/fixtures/accuracy/README.md). There the beam search gets out of the loop; in the copy with pink noise at
/// 20 dB, where the beam loops too, the loop's first copy is the text. With the bundled pack nothing loops.
#[test]
fn a_final_whose_greedy_search_loops_on_speech_keeps_its_text() {
    let reference = "Mix one litre of water with four spoons of sugar.";
    let old_pack = recognizer_on(model_without_end_of_window(), "default", None);
    let bundled = recognizer("default", None);
    for (file, loop_cut) in [("number07.wav", false), ("number07_pink20db.wav", true)] {
        let (samples, rate) = accuracy_fixture(file);
        let finals = recognize(&old_pack, &samples, rate);
        let text = joined(&finals);
        let errors = errors_against(reference, &finals);
        // 9 errors when the final was dropped; "litre" -> "liter" is one here (the Rust normalizer keeps spellings).
        assert!(errors <= 4, "{file}: {errors} errors, {text:?}");
        assert_eq!(text.matches("Mix").count(), 1, "{file}: {text:?}");
        assert!(
            finals.iter().all(|t| t.guard.is_some()),
            "{file}: {finals:?}"
        );
        assert_eq!(
            finals.iter().any(|t| t.loop_cut),
            loop_cut,
            "{file}: {finals:?}"
        );
        assert_eq!(
            finals.iter().any(|t| t.beam_fallback),
            !loop_cut,
            "{file}: {finals:?}"
        );
        let finals = recognize(&bundled, &samples, rate);
        assert!(
            finals.iter().all(|t| t.guard.is_none()),
            "{file}: {finals:?}"
        );
        assert_eq!(joined(&finals).matches("Mix").count(), 1, "{finals:?}");
    }
}

/// A plucked C-E-G melody (sox `synth pluck`, three channels) is speech of a sort to the model: greedy search loops
/// ("Do do do ..." to the token cap) in the 10 s window, and the beam search it then gets finds "Do do do" with a
/// mean token log-probability of -1.48 at P(no speech) 0.88 (tests/fixtures/accuracy/README.md). The no-speech gate
/// now also judges the text kept after the fallbacks, as faster-whisper gates its fallback's result: no text.
#[test]
fn a_melody_gives_no_text_even_when_the_beam_search_finds_do_do_do_in_it() {
    let (samples, rate) = accuracy_fixture("melody_plucked.wav");
    let finals = recognize(&recognizer("default", None), &samples, rate);
    assert!(finals.is_empty(), "{finals:?}");
}
